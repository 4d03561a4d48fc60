/* castline-launcher: the SRT URL the API hands out with a stream's key:
 * srt://HOST:PORT?streamid=KEY (the host as rtmp_server_url finds it:
 * public_url's, else the listening address), what ffmpeg takes as is and
 * OBS takes as its Server (Stream Key left empty). "" when SRT is off. */
#pragma once

#include "config/config.h"

#include <string>

namespace castline::launcher {

std::string srt_url (const Config & config, const std::string & key);

}  // namespace castline::launcher
