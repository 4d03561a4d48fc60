/* castline-launcher: WHIP (RFC 9725) on the launcher's server.
 *   POST    /whip/{id}            SDP offer, Bearer stream key -> 201 answer,
 *                                 Location /whip/{id}/{session}
 *   PATCH   /whip/{id}/{session}  trickle ICE (application/trickle-ice-sdpfrag) -> 204
 *   DELETE  /whip/{id}/{session}  ends the stream (the playlist is finalized)
 *   OPTIONS                       CORS preflight, Accept-Post: application/sdp
 * Refusals: 400 bad offer, 401 wrong key, 404 unknown session, 406 no
 * codec a pipeline takes, 409 already live or ended, 413 offer too big,
 * 415 wrong content type, 503 + Retry-After at the live stream limit.
 * Main context. */
#pragma once

#include "streams/streammanager.h"

#include <libsoup/soup.h>

namespace castline::launcher {

class WhipRoutes {
 public:
  WhipRoutes (StreamManager & manager, SoupServer * server);

 private:
  static void on_whip (SoupServer *, SoupServerMessage *, const char *path, GHashTable *,
      gpointer);
  void post (SoupServerMessage * msg, const std::string & id);
  void add_cors (SoupServerMessage * msg) const;

  StreamManager & manager_;
};

}  // namespace castline::launcher
