/* castline-launcher: WHIP (RFC 9725) over the launcher's HTTP.
 *   POST    /whip/{id}            SDP offer, Bearer stream key -> 201 answer,
 *                                 Location /whip/{id}/{session}
 *   PATCH   /whip/{id}/{session}  trickle ICE (application/trickle-ice-sdpfrag) -> 204
 *   DELETE  /whip/{id}/{session}  ends the stream (the playlist is finalized)
 *   OPTIONS                       CORS preflight, Accept-Post: application/sdp
 * Refusals: 400 bad offer, 401 wrong key, 404 unknown session, 406 no
 * codec a pipeline takes, 409 already live or ended, 413 offer too big,
 * 415 wrong content type, 503 + Retry-After at the live stream limit or
 * while the daemon shuts down. The publisher is admitted as any other
 * (StreamManager::admit); the answer is sent once ICE gathering is done.
 * Main context. */
#pragma once

#include "api/webrtchttp.h"
#include "common/http/message.h"
#include "streams/streammanager.h"

namespace castline::launcher {

class WhipRoutes {
 public:
  explicit WhipRoutes (StreamManager & manager) : manager_ (manager) {}

  /* everything under /whip */
  void handle (const http::Request & req, http::Response & res);

 private:
  void post (const http::Request & req, http::Response & res, const std::string & id);
  void session (const http::Request & req, http::Response & res, const std::string & id,
      const std::string & session);

  StreamManager & manager_;
};

}  // namespace castline::launcher
