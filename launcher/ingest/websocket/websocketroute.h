/* castline-launcher: GET /ingest/{id}?key=...&mimeType=..., the WebSocket
 * a MediaRecorder page publishes over (the protocol is webmwssrc's).
 * Before the upgrade, what a WebSocket client library reports best as
 * HTTP: 400 a bad stream id or no mimeType (for a stream created without
 * a pipeline), 401 an unknown stream or a wrong key, 415 a mimeType that
 * is not WebM. After it, the stream manager admits the publisher or not,
 * as any other (StreamManager::admit); a refusal is a close 1008 (1011 on
 * a server error) with the reason, which a page can read: ended, live
 * already, at the limit, shutting down. Main context. */
#pragma once

#include "common/http/router.h"
#include "streams/streammanager.h"

namespace castline::launcher {

class WebSocketIngestRoute {
 public:
  explicit WebSocketIngestRoute (StreamManager & manager) : manager_ (manager) {}

  http::WebSocketRoute route ();

  void check (const http::Request & req, http::Response & res);
  void open (const http::Request & req, http::WebSocket * ws);

 private:
  StreamManager & manager_;
};

}  // namespace castline::launcher
