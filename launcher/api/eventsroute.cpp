#include "api/eventsroute.h"

#include "api/adminauth.h"
#include "common/http/replies.h"

namespace castline::launcher {

void
EventsRoute::handle (const http::Request & req, http::Response & res)
{
  if (!require_admin (config_, req, res))
    return;
  if (req.path != "/api/events") {
    http::reply_error (res, 404, "no such path");
    return;
  }
  serve (req, res, "");
}

void
EventsRoute::serve (const http::Request & req, http::Response & res, const std::string & id)
{
  if (!req.is ("GET")) {
    http::reply_error (res, 405, "use GET");
    return;
  }
  std::string refusal;
  if (!events_.serve (req, res, id, refusal)) {
    res.headers.set ("Retry-After", "10");
    http::reply_error (res, 503, refusal);
  }
}

}  // namespace castline::launcher
