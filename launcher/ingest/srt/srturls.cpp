#include "ingest/srt/srturls.h"

#include "ingest/publisherhost.h"

namespace castline::launcher {

std::string
srt_server_url (const Config & c)
{
  if (!c.srt.enabled ())
    return "";
  return "srt://" + publisher_url_host (c, c.srt_host ()) + ":" + std::to_string (c.srt.port);
}

std::string
srt_url (const std::string & server, const std::string & key)
{
  /* keys are URL-safe base64: nothing to escape */
  return server.empty () ? server : server + "?streamid=" + key;
}

}  // namespace castline::launcher
