/* castline-launcher: the SRT URLs the API hands out (the host as
 * rtmp_server_url finds it: publisher_url_host). "" when SRT is off. */
#pragma once

#include "config/config.h"

#include <string>

namespace castline::launcher {

/* srt://HOST:PORT: the port every stream's callers share (the API's
 * srt_server, shown without the key) */
std::string srt_server_url (const Config & config);

/* server (srt_server_url's) + "?streamid=KEY": what ffmpeg takes as is
 * and OBS takes as its Server (Stream Key left empty); it holds the key.
 * "" when server is. */
std::string srt_url (const std::string & server, const std::string & key);

}  // namespace castline::launcher
