#include "ingest/whip/trickleice.h"

#include "ingest/whip/whipoffer.h"

#include <algorithm>
#include <cstdlib>

namespace castline::launcher::whip {

using namespace webrtc;

namespace {

bool
all_digits (const std::string & s, size_t max_len)
{
  return !s.empty () && s.size () <= max_len
      && std::all_of (s.begin (), s.end (), [] (char c) { return g_ascii_isdigit (c); });
}

/* RFC 8839 5.1: foundation component transport priority address port typ
 * type [extensions] */
bool
valid_candidate (const std::string & value)
{
  g_auto (GStrv) t = g_strsplit_set (value.c_str (), " \t", -1);
  std::vector<std::string> tok;
  for (guint i = 0; t[i]; i++)
    if (*t[i])
      tok.push_back (t[i]);
  if (tok.size () < 8 || tok[0].size () > 32 || !all_digits (tok[1], 3)
      || !all_digits (tok[3], 10) || !all_digits (tok[5], 5) || tok[6] != "typ")
    return false;
  std::string transport = lower (tok[2].c_str ());
  std::string type = tok[7];
  return (transport == "udp" || transport == "tcp") && atoi (tok[5].c_str ()) <= 65535
      && (type == "host" || type == "srflx" || type == "prflx" || type == "relay");
}

std::string
excerpt (const std::string & line)
{
  return line.size () > 40 ? line.substr (0, 40) + "..." : line;
}

}  // namespace

bool
parse_trickle_ice (const std::string & sdpfrag, const std::vector<std::string> & mids,
    const std::string & ice_ufrag, TrickleIce & out, std::string & error)
{
  out = TrickleIce ();
  guint mline = 0, m_lines = 0;
  bool any = false;
  size_t pos = 0;
  while (pos < sdpfrag.size ()) {
    size_t end = sdpfrag.find ('\n', pos);
    if (end == std::string::npos)
      end = sdpfrag.size ();
    std::string line = sdpfrag.substr (pos, end - pos);
    pos = end + 1;
    if (!line.empty () && line.back () == '\r')
      line.pop_back ();
    if (line.empty ())
      continue;
    any = true;
    if (line.size () < 2 || line[1] != '=' || !g_ascii_islower (line[0])) {
      error = "not an SDP fragment line: \"" + excerpt (line) + "\"";
      return false;
    }
    if (line[0] == 'm') {
      mline = m_lines++;
      continue;
    }
    if (line[0] != 'a')
      continue;
    std::string attr = line.substr (2);
    size_t colon = attr.find (':');
    std::string key = attr.substr (0, colon);
    std::string value = colon == std::string::npos ? "" : attr.substr (colon + 1);
    if (key == "mid") {
      auto it = std::find (mids.begin (), mids.end (), value);
      if (it == mids.end ()) {
        error = "unknown mid \"" + excerpt (value) + "\"";
        return false;
      }
      mline = it - mids.begin ();
    } else if (key == "candidate") {
      if (!valid_candidate (value)) {
        error = "malformed candidate: \"" + excerpt (line) + "\"";
        return false;
      }
      if (!mids.empty () && mline >= mids.size ()) {
        error = "a candidate for m-line " + std::to_string (mline) + ", the offer has "
            + std::to_string (mids.size ());
        return false;
      }
      if (out.candidates.size () == kMaxTrickleCandidates) {
        error = "more than " + std::to_string (kMaxTrickleCandidates) + " candidates";
        return false;
      }
      out.candidates.emplace_back (mline, "candidate:" + value);
    } else if (key == "ice-ufrag" && !ice_ufrag.empty () && value != ice_ufrag) {
      error = "ICE restarts are not supported";
      out.ice_restart = true;
      return false;
    }
    /* a=end-of-candidates, a=ice-pwd, a=ice-options, a=group: nothing to do */
  }
  if (!any) {
    error = "the fragment is empty";
    return false;
  }
  return true;
}

}  // namespace castline::launcher::whip
