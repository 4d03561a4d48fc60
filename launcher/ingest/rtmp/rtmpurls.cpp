#include "ingest/rtmp/rtmpurls.h"

#include <glib.h>

namespace castline::launcher {

namespace {

/* the host of public_url, else the one RTMP listens on; brackets around
 * an IPv6 address */
std::string
url_host (const Config & c)
{
  std::string host = c.rtmp_host ();
  if (!c.public_url.empty ()) {
    g_autoptr (GUri) uri = g_uri_parse (c.public_url.c_str (), G_URI_FLAGS_NONE, nullptr);
    if (uri && g_uri_get_host (uri) && *g_uri_get_host (uri))
      host = g_uri_get_host (uri);
  } else if (host == "0.0.0.0" || host.empty ()) {
    host = "127.0.0.1";
  } else if (host == "::") {
    host = "::1";
  }
  if (host.find (':') != std::string::npos && host.front () != '[')
    host = "[" + host + "]";
  return host;
}

}  // namespace

std::string
rtmp_server_url (const Config & c, bool tls)
{
  int port = tls ? c.rtmp.tls_port : c.rtmp.port;
  if (!port)
    return "";
  std::string url = std::string (tls ? "rtmps://" : "rtmp://") + url_host (c) + ":"
      + std::to_string (port);
  /* "": any application is taken; a URL still needs one */
  return url + "/" + (c.rtmp.application.empty () ? std::string ("live") : c.rtmp.application);
}

}  // namespace castline::launcher
