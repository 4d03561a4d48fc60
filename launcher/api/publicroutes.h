/* castline-launcher: the public routes of a stream, with no admin token
 * (players and the pages call them; CORS with Config::cors_origin):
 *   POST /api/streams/{id}/heartbeat {"viewer": "<id>"}   a player fed
 *        from S3 or a CDN says it is watching (every 10 s); any content
 *        type, so that navigator.sendBeacon's text/plain needs no preflight
 *   GET  /api/streams/{id}/status   what the broadcast and watch pages
 *        poll (state, times, viewers, health): nothing a viewer of the
 *        stream could not see, never the key
 * Main context. */
#pragma once

#include "api/streamviews.h"
#include "common/http/message.h"
#include "notify/viewercounter.h"
#include "streams/streammanager.h"

namespace castline::launcher {

class PublicStreamRoutes {
 public:
  PublicStreamRoutes (StreamManager & manager, ViewerCounter & viewers, const StreamViews & views)
      : manager_ (manager), viewers_ (viewers), views_ (views) {}

  void heartbeat (const http::Request & req, http::Response & res, const std::string & id);
  void status (const http::Request & req, http::Response & res, const std::string & id);

 private:
  /* Access-Control-Allow-Origin; true when req was a preflight, answered
   * (204) */
  bool cors (const http::Request & req, http::Response & res, const char *methods) const;

  StreamManager & manager_;
  ViewerCounter & viewers_;
  const StreamViews & views_;
};

}  // namespace castline::launcher
