/* castline-launcher: GET /api/events (every stream) and
 * GET /api/streams/{id}/events (one): Server-Sent Events from the
 * EventStream hub; admin. 503 + Retry-After past its limits. */
#pragma once

#include "common/http/message.h"
#include "notify/eventstream.h"
#include "streams/streammanager.h"

namespace castline::launcher {

class EventsRoute {
 public:
  EventsRoute (const Config & config, EventStream & events) : config_ (config), events_ (events) {}

  /* /api/events */
  void handle (const http::Request & req, http::Response & res);
  /* one stream's (id), or all (""); the caller has checked the admin */
  void serve (const http::Request & req, http::Response & res, const std::string & id);

 private:
  const Config & config_;
  EventStream & events_;
};

}  // namespace castline::launcher
