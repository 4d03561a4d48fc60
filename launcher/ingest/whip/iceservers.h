/* castline-launcher: the STUN/TURN servers of the WHIP ingest's webrtcbin,
 * from the launcher's ice_servers URLs. */
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

namespace castline::launcher::whip {

/* "stun:h:p" or "stun://h:p" -> "stun://h:p", likewise turn and turns (the
 * scheme in `scheme`); "" for other schemes or nothing after the scheme.
 * Any thread. */
std::string ice_server_uri (const std::string & url, std::string & scheme);

/* Sets webrtcbin's STUN server (the first: it takes one) and adds its TURN
 * servers; a URL of another scheme, or one webrtcbin refuses, is logged and
 * ignored. Main context, before webrtcbin starts. */
void set_ice_servers (GstElement * webrtc, const std::vector<std::string> & urls);

}  // namespace castline::launcher::whip
