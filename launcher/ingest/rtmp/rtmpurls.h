/* castline-launcher: the RTMP URLs the API hands out. The host is the
 * one the other URLs of the API name (public_url's, else the listening
 * address, 0.0.0.0 as 127.0.0.1), since a publisher reaches castline the
 * same way a browser does; the port and application are the RTMP
 * server's. */
#pragma once

#include "config/config.h"

#include <string>

namespace castline::launcher {

/* rtmp://HOST:PORT/APP (rtmps:// and rtmp.tls_port with tls): what OBS's
 * "Server" field takes; the publish URL is it + "/" + the stream key.
 * "" when that server is off in the configuration. */
std::string rtmp_server_url (const Config & config, bool tls);

}  // namespace castline::launcher
