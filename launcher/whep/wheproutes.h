/* castline-launcher: WHEP (draft-ietf-wish-whep), WebRTC playback, over
 * the launcher's HTTP.
 *   POST    /whep/{id}            recvonly SDP offer -> 201 answer,
 *                                 Location /whep/{id}/{session}, the ICE
 *                                 servers in Link headers
 *   PATCH   /whep/{id}/{session}  trickle ICE (application/trickle-ice-sdpfrag) -> 204
 *   DELETE  /whep/{id}/{session}  ends the viewer's session -> 200
 *   OPTIONS                       CORS preflight, Accept-Post: application/sdp
 * Refusals: 400 bad offer, 401 without the webrtc.token (when one is
 * set), 404 unknown stream or session, 406 no codec the stream sends, 409
 * not live, 413 offer too big, 415 wrong content type, 503 + Retry-After
 * while every seat is taken or the stream's media is not known yet, 503
 * without it when WHEP is off (webrtc.max_viewers 0, or an element
 * missing). Public like the HLS unless webrtc.token is set. Main context. */
#pragma once

#include "common/http/message.h"
#include "streams/streammanager.h"

namespace castline::launcher {

class WhepRoutes {
 public:
  explicit WhepRoutes (StreamManager & manager) : manager_ (manager) {}

  /* everything under /whep */
  void handle (const http::Request & req, http::Response & res);

 private:
  void post (const http::Request & req, http::Response & res, const std::string & id);
  void session (const http::Request & req, http::Response & res, const std::string & id,
      const std::string & session);

  StreamManager & manager_;
};

}  // namespace castline::launcher
