/* castline-launcher: GET /ingest/{id}?key=...&mimeType=..., the WebSocket
 * a MediaRecorder page publishes over (the protocol is webmwssrc's).
 * Before the upgrade, what a WebSocket client library reports best as
 * HTTP: 400 a bad stream id, 401 an unknown stream or a wrong key, 415 a
 * mimeType that is not WebM. After it, a stream that cannot take a
 * publisher now is a close 1008 at once; else the publisher's first
 * messages are read (WebSocketPrelude) until its recording's header says
 * what it holds, and the stream manager admits the publisher or not, as
 * any other (StreamManager::admit), with the codecs of the header (the
 * mimeType only where the header has no Tracks). A refusal is a close
 * with the reason, which a page can read: 1003 for a recording no
 * pipeline takes (or a mimeType the header contradicts), 1008 ended, live
 * already, at the limit, shutting down, 1011 a server error. Main
 * context. */
#pragma once

#include "common/http/router.h"
#include "streams/streammanager.h"
#include "webmws/webmwssession.h"

namespace castline::launcher {

class WebSocketIngestRoute {
 public:
  explicit WebSocketIngestRoute (StreamManager & manager) : manager_ (manager) {}

  http::WebSocketRoute route ();

  void check (const http::Request & req, http::Response & res);
  void open (const http::Request & req, http::WebSocket * ws);

 private:
  /* the recording's header is in: the stream goes live, or ws is closed */
  void admit (const std::string & id, const std::string & key, http::WebSocket * ws,
      const castline::webmws::WebmWsSession & session, GBytes * first_bytes);
  static void refuse (http::WebSocket * ws, const Refusal & refusal);

  StreamManager & manager_;
};

}  // namespace castline::launcher
