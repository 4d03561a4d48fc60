#include "ingest/publisherhost.h"

#include <glib.h>

namespace castline::launcher {

std::string
publisher_url_host (const Config & c, const std::string & listen_host)
{
  std::string host = listen_host;
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

}  // namespace castline::launcher
