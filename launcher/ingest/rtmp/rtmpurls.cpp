#include "ingest/rtmp/rtmpurls.h"

#include "ingest/publisherhost.h"

namespace castline::launcher {

std::string
rtmp_server_url (const Config & c, bool tls)
{
  int port = tls ? c.rtmp.tls_port : c.rtmp.port;
  if (!port)
    return "";
  std::string url = std::string (tls ? "rtmps://" : "rtmp://")
      + publisher_url_host (c, c.rtmp_host ()) + ":" + std::to_string (port);
  /* "": any application is taken; a URL still needs one */
  return url + "/" + (c.rtmp.application.empty () ? std::string ("live") : c.rtmp.application);
}

}  // namespace castline::launcher
