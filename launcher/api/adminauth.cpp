#include "api/adminauth.h"

#include "common/http/replies.h"
#include "common/secrets.h"

#include <gio/gio.h>

namespace castline::launcher {

namespace {

/* the host part of a Host header or an authority: no port, no brackets,
 * lower case */
std::string
host_name (const std::string & authority)
{
  std::string h = authority;
  if (!h.empty () && h.front () == '[') {
    size_t close = h.find (']');
    h = close == std::string::npos ? "" : h.substr (1, close - 1);
  } else if (size_t colon = h.find (':'); colon != std::string::npos
      && h.find (':', colon + 1) == std::string::npos) {
    h = h.substr (0, colon);
  }
  g_autofree gchar *lower = g_ascii_strdown (h.c_str (), -1);
  return lower;
}

bool
is_loopback_name (const std::string & host)
{
  if (host == "localhost" || host == "::1")
    return true;
  g_autoptr (GInetAddress) a = g_inet_address_new_from_string (host.c_str ());
  return a && g_inet_address_get_is_loopback (a);
}

/* "scheme://authority" of a URL, lower case; "" when it has none */
std::string
origin_of (const std::string & url)
{
  g_autoptr (GUri) uri = g_uri_parse (url.c_str (), G_URI_FLAGS_NONE, nullptr);
  if (!uri || !g_uri_get_host (uri))
    return "";
  std::string o = std::string (g_uri_get_scheme (uri)) + "://" + g_uri_get_host (uri);
  if (g_uri_get_port (uri) > 0)
    o += ":" + std::to_string (g_uri_get_port (uri));
  g_autofree gchar *lower = g_ascii_strdown (o.c_str (), -1);
  return lower;
}

/* an Origin this server sent its pages from: its own address as the
 * request named it, or public_url's */
bool
own_origin (const Config & config, const http::Request & req, const char *origin)
{
  g_autofree gchar *lower = g_ascii_strdown (origin, -1);
  const char *host = req.header ("Host");
  if (host && std::string (lower) == origin_of (std::string ("http://") + host))
    return true;
  return !config.public_url.empty () && std::string (lower) == origin_of (config.public_url);
}

}  // namespace

bool
answers_for_host (const Config & config, const std::string & host)
{
  std::string name = host_name (host);
  if (name.empty ())
    return false;
  if (is_loopback_name (name) || name == host_name (config.host))
    return true;
  std::string public_origin = origin_of (config.public_url);
  return !public_origin.empty ()
      && name == host_name (public_origin.substr (public_origin.find ("://") + 3));
}

bool
admin_allowed (const Config & config, const http::Request & req)
{
  if (config.admin_token.empty ())
    return req.remote_is_loopback;
  return castline::keys_equal (config.admin_token, http::bearer_token (req));
}

bool
require_admin (const Config & config, const http::Request & req, http::Response & res)
{
  if (!admin_allowed (config, req)) {
    res.headers.set ("WWW-Authenticate", "Bearer realm=\"castline\"");
    http::reply_error (res, 401, "admin token required");
    return false;
  }
  if (!config.admin_token.empty ())
    return true;
  const char *host = req.header ("Host");
  if (!host || !answers_for_host (config, host)) {
    http::reply_error (res, 421, "this server does not answer for that host name");
    return false;
  }
  const char *origin = req.header ("Origin");
  if (origin && !own_origin (config, req, origin)) {
    http::reply_error (res, 403, "a cross-site request (set admin_token to use the API from "
        "another site)");
    return false;
  }
  return true;
}

bool
refuse_simple_post (const Config & config, const http::Request & req, http::Response & res)
{
  if (!config.admin_token.empty () || req.content_type == "application/json"
      || req.header ("Origin") || req.body.size () > 0)
    return false;
  http::reply_error (res, 403, "send application/json");
  return true;
}

}  // namespace castline::launcher
