/* castline-launcher: the admin REST API of the streams (JSON; admin token,
 * or loopback only when none is configured), everything under
 * /api/streams:
 *   POST   /api/streams                    create (201, the key given once)
 *   GET    /api/streams                    list
 *   GET    /api/streams/{id}               one
 *   DELETE /api/streams/{id}               end (202 while it finalizes)
 *   GET    /api/streams/{id}/recordings    its VODs once written
 *   DELETE /api/streams/{id}/recordings    removes them, files and rows
 *          (200: what went; 409 while live, interrupted or being written;
 *          502 when some could not be removed: those stay listed)
 *   GET    /api/streams/{id}/events        its Server-Sent Events (EventsRoute)
 * and the two public paths under it, heartbeat and status
 * (PublicStreamRoutes). Main context. */
#pragma once

#include "api/eventsroute.h"
#include "api/publicroutes.h"
#include "api/streamviews.h"
#include "common/http/message.h"
#include "streams/streammanager.h"

#include <cstdint>
#include <optional>
#include <string>

namespace castline::launcher {

/* the largest body of a request under /api/streams */
constexpr size_t kMaxApiBody = 64 * 1024;

/* What POST /api/streams asks for. */
struct CreateRequest {
  std::string title;
  std::string pipeline;
  int64_t scheduled_at = 0;        /* unix µs; 0: not scheduled */
  std::optional<bool> record;
};

/* Parses a create body (empty: every field unset). False with the status
 * (400, 413, 415) and the reason. */
bool parse_create_request (const http::Request & req, CreateRequest & out, unsigned & status,
    std::string & reason);

class StreamsApi {
 public:
  StreamsApi (StreamManager & manager, const StreamViews & views, PublicStreamRoutes & public_routes,
      EventsRoute & events)
      : manager_ (manager), views_ (views), public_ (public_routes), events_ (events) {}

  void handle (const http::Request & req, http::Response & res);

 private:
  void create (const http::Request & req, http::Response & res);
  void list (http::Response & res);
  void recordings (const http::Request & req, http::Response & res, const StreamRecord & r);
  void remove_recordings (http::Response & res, const StreamRecord & r);

  StreamManager & manager_;
  const StreamViews & views_;
  PublicStreamRoutes & public_;
  EventsRoute & events_;
};

}  // namespace castline::launcher
