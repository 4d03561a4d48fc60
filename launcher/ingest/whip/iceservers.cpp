#include "ingest/whip/iceservers.h"

#include "ingest/whip/whipdebug.h"

namespace castline::launcher::whip {

std::string
ice_server_uri (const std::string & url, std::string & scheme)
{
  for (const char *s : { "stun", "turns", "turn" }) {
    std::string prefix = std::string (s) + ":";
    if (url.compare (0, prefix.size (), prefix) != 0)
      continue;
    std::string rest = url.substr (prefix.size ());
    if (rest.compare (0, 2, "//") == 0)
      rest = rest.substr (2);
    if (rest.empty ())
      return "";
    scheme = s;
    return scheme + "://" + rest;
  }
  return "";
}

void
set_ice_servers (GstElement * webrtc, const std::vector<std::string> & urls)
{
  bool have_stun = false;
  for (auto & url : urls) {
    std::string scheme;
    std::string uri = ice_server_uri (url, scheme);
    if (uri.empty ()) {
      GST_WARNING ("ICE server %s is neither stun: nor turn(s):, ignored", url.c_str ());
    } else if (scheme == "stun") {
      if (have_stun)
        GST_WARNING ("webrtcbin takes one STUN server: %s is ignored", url.c_str ());
      else
        g_object_set (webrtc, "stun-server", uri.c_str (), nullptr);
      have_stun = true;
    } else {
      gboolean added = FALSE;
      g_signal_emit_by_name (webrtc, "add-turn-server", uri.c_str (), &added);
      if (!added)
        GST_WARNING ("webrtcbin refuses TURN server %s", url.c_str ());
    }
  }
}

}  // namespace castline::launcher::whip
