/* castline-launcher: who may use the admin routes (/api/streams, the
 * event streams, /metrics): the bearer of Config::admin_token, or, when
 * none is configured, a client on the loopback interface -- and then only
 * one that is not a web page of another site working through the user's
 * browser:
 *   - the Host must be one this server answers for (a loopback name or
 *     address, the listening address, public_url's host): a DNS-rebinding
 *     page reaches 127.0.0.1 under its own name, and gets 421;
 *   - an Origin, when sent, must be this server's own (403 otherwise);
 *   - a POST that changes something must carry application/json or this
 *     server's Origin: an empty cross-site "simple" POST would otherwise
 *     create a stream (403, refuse_simple_post).
 * With an admin token none of this applies: a page cannot send it. */
#pragma once

#include "config/config.h"
#include "common/http/message.h"

namespace castline::launcher {

bool admin_allowed (const Config & config, const http::Request & req);

/* admin_allowed, else answers 401 with the Bearer challenge; in the
 * token-less mode, the cross-site refusals above: false then */
bool require_admin (const Config & config, const http::Request & req, http::Response & res);

/* In the token-less mode, a POST with no JSON content type, no Origin and
 * no body (what a page of another site can send without a preflight) is
 * answered 403: true then. For the routes a POST changes something on. */
bool refuse_simple_post (const Config & config, const http::Request & req, http::Response & res);

/* whether host (a Host header: name or address, maybe a port) is one the
 * server answers for: localhost, a loopback address, the listening
 * address, public_url's host */
bool answers_for_host (const Config & config, const std::string & host);

}  // namespace castline::launcher
