#include "api/metricsroute.h"

#include "api/adminauth.h"
#include "common/http/replies.h"

namespace castline::launcher {

void
MetricsRoute::handle (const http::Request & req, http::Response & res)
{
  if (!require_admin (config_, req, res))
    return;
  if (req.path != "/metrics") {
    http::reply_error (res, 404, "no such path");
    return;
  }
  if (!req.is ("GET") && !req.is ("HEAD")) {
    http::reply_error (res, 405, "use GET");
    return;
  }
  res.status = 200;
  res.set_body (kMetricsContentType, render_metrics (metrics_.snapshot (g_get_monotonic_time ())));
  res.headers.set ("Cache-Control", "no-store");
}

}  // namespace castline::launcher
