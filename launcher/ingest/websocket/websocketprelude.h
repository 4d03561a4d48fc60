/* castline-launcher: a WebSocket publisher from its upgrade to the header
 * of its recording, before the stream goes live.
 *
 * The pipeline is chosen from what the recording holds, which only its
 * WebM/Matroska header says (each track's CodecID); a mimeType is a hint.
 * So the route reads the publisher's first messages itself, with
 * webmwssrc's own session rules (webmws/webmwssession.h: start, ping, the
 * EBML header and Tracks, whole within 64 KiB, a mimeType that contradicts
 * them closed 1003), and hands the connection over once the first WebM
 * bytes are in: the stream is admitted then, and webmwssrc takes the
 * connection and those bytes (add-connection-full).
 *
 * Bounded: a publisher that sends no header within timeout_s is closed
 * with 1001; what is held is at most the session's 64 KiB. Main context
 * (the connection's). */
#pragma once

#include "common/http/websocket.h"
#include "webmws/webmwssession.h"

#include <functional>
#include <string>

namespace castline::launcher {

class WebSocketPrelude {
 public:
  /* The header is in: session says what was declared and what the header
   * holds; first_bytes is the WebM so far. The connection is the
   * callee's from now on (no handler of the prelude is left on it). */
  using Ready = std::function<void (http::WebSocket * ws,
      const castline::webmws::WebmWsSession & session, GBytes * first_bytes)>;

  /* Starts reading ws; url_mime_type: ?mimeType= ("" when absent). */
  static void start (http::WebSocket * ws, const std::string & url_mime_type,
      unsigned timeout_s, Ready ready);
};

}  // namespace castline::launcher
