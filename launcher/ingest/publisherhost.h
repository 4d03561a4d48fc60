/* castline-launcher: the host a publisher's URL names (RTMP's, SRT's):
 * the one the other URLs of the API name (public_url's), since a
 * publisher reaches castline the way a browser does; else the address
 * the server listens on (0.0.0.0 as 127.0.0.1, :: as ::1). An IPv6
 * address comes in brackets, ready for HOST:PORT. */
#pragma once

#include "config/config.h"

#include <string>

namespace castline::launcher {

std::string publisher_url_host (const Config & config, const std::string & listen_host);

}  // namespace castline::launcher
