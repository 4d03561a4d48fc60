/* castline-launcher: what the WebRTC signalling routes share, WHIP
 * (RFC 9725, publishers) and WHEP (draft-ietf-wish-whep, viewers): the
 * resource path, CORS and the preflight, the ICE servers in Link headers,
 * the Bearer challenge. Main context (pure functions of their arguments). */
#pragma once

#include "common/http/message.h"
#include "config/config.h"

#include <string>
#include <vector>

namespace castline::launcher {

/* the largest SDP offer (or trickle-ICE fragment) taken */
constexpr size_t kMaxOffer = 128 * 1024;

/* /{prefix}/{id}[/{session}]: false when the path has no valid stream id
 * or more after the session */
bool split_signalling_path (const std::string & path, const char *prefix, std::string & id,
    std::string & session);

/* Access-Control-Allow-Origin (Config::cors_origin; none when empty) and
 * the headers a page may read (Location, Link, ETag) */
void set_signalling_cors (const Config & config, http::Response & res);

/* OPTIONS: 204 with the methods of the endpoint (POST) or of a session
 * (PATCH, DELETE), the request headers allowed, Accept-Post */
void answer_signalling_preflight (http::Response & res, bool session);

/* RFC 9725 4.6: the Link header of a STUN/TURN server (as the
 * configuration's ice_servers name them), or "" for one it cannot say */
std::string ice_server_link (const std::string & url);
/* a Link header per server of urls that has one */
void add_ice_server_links (http::Response & res, const std::vector<std::string> & urls);

/* RFC 6750: 401 with WWW-Authenticate: Bearer realm="castline" */
void refuse_bearer (http::Response & res, const std::string & reason);

/* A WHIP or WHEP offer's body checked: false, with 415 (not
 * application/sdp) or 413 (over kMaxOffer) answered */
bool offer_body_ok (const http::Request & req, http::Response & res);

}  // namespace castline::launcher
