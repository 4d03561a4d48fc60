#include "api/webrtchttp.h"

#include "common/http/replies.h"
#include "store/streamstore.h"

namespace castline::launcher {

namespace {

/* an RFC 9110 quoted-string */
std::string
quoted (const char *value)
{
  std::string q = "\"";
  for (const char *c = value; *c; c++) {
    if (*c == '"' || *c == '\\')
      q += '\\';
    q += *c;
  }
  return q + "\"";
}

}  // namespace

bool
split_signalling_path (const std::string & path, const char *prefix, std::string & id,
    std::string & session)
{
  return http::split_path (path, prefix, id, session) && valid_stream_id (id)
      && session.find ('/') == std::string::npos;
}

void
set_signalling_cors (const Config & config, http::Response & res)
{
  if (config.cors_origin.empty ())
    return;
  res.headers.set ("Access-Control-Allow-Origin", config.cors_origin);
  res.headers.set ("Access-Control-Expose-Headers", "Location, Link, ETag");
}

void
answer_signalling_preflight (http::Response & res, bool session)
{
  res.headers.set ("Access-Control-Allow-Methods",
      session ? "PATCH, DELETE, OPTIONS" : "POST, OPTIONS");
  res.headers.set ("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match");
  if (!session)
    res.headers.set ("Accept-Post", "application/sdp");
  res.status = 204;
}

std::string
ice_server_link (const std::string & url)
{
  /* turn://user:pass@host:port -> <turn:host:port>; username=...; credential=... */
  if (g_str_has_prefix (url.c_str (), "turn://") || g_str_has_prefix (url.c_str (), "turns://")) {
    g_autoptr (GUri) uri = g_uri_parse (url.c_str (), G_URI_FLAGS_HAS_PASSWORD, nullptr);
    if (!uri)
      return "";
    std::string scheme = g_uri_get_scheme (uri);
    std::string link = "<" + scheme + ":" + g_uri_get_host (uri)
        + (g_uri_get_port (uri) > 0 ? ":" + std::to_string (g_uri_get_port (uri)) : "")
        + ">; rel=\"ice-server\"";
    const char *user = g_uri_get_user (uri);
    const char *pass = g_uri_get_password (uri);
    if (user)
      link += "; username=" + quoted (user);
    if (pass)
      link += "; credential=" + quoted (pass) + "; credential-type=\"password\"";
    return link;
  }
  return "<" + url + ">; rel=\"ice-server\"";
}

void
add_ice_server_links (http::Response & res, const std::vector<std::string> & urls)
{
  for (auto & url : urls) {
    std::string link = ice_server_link (url);
    if (!link.empty ())
      res.headers.append ("Link", link);
  }
}

void
refuse_bearer (http::Response & res, const std::string & reason)
{
  res.headers.set ("WWW-Authenticate", "Bearer realm=\"castline\"");
  http::reply_error (res, 401, reason);
}

bool
offer_body_ok (const http::Request & req, http::Response & res)
{
  if (req.content_type != "application/sdp") {
    http::reply_error (res, 415, "send the offer as application/sdp");
    return false;
  }
  if (req.body.size () > kMaxOffer) {
    http::reply_error (res, 413, "the offer is over 128 KiB");
    return false;
  }
  return true;
}

}  // namespace castline::launcher
