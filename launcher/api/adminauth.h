/* castline-launcher: who may use the admin routes (/api/streams, the
 * event streams, /metrics): the bearer of Config::admin_token, or, when
 * none is configured, a client on the loopback interface. */
#pragma once

#include "config/config.h"
#include "http/message.h"

namespace castline::launcher {

bool admin_allowed (const Config & config, const http::Request & req);

/* admin_allowed, else answers 401 with the Bearer challenge: false then */
bool require_admin (const Config & config, const http::Request & req, http::Response & res);

}  // namespace castline::launcher
