#include "api/adminauth.h"

#include "http/replies.h"
#include "webmws/wsserver.h"

namespace castline::launcher {

bool
admin_allowed (const Config & config, const http::Request & req)
{
  if (config.admin_token.empty ())
    return req.remote_is_loopback;
  return castline::webmws::keys_equal (config.admin_token, http::bearer_token (req));
}

bool
require_admin (const Config & config, const http::Request & req, http::Response & res)
{
  if (admin_allowed (config, req))
    return true;
  res.headers.set ("WWW-Authenticate", "Bearer realm=\"castline\"");
  http::reply_error (res, 401, "admin token required");
  return false;
}

}  // namespace castline::launcher
