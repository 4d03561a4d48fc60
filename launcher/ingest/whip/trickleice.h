/* castline-launcher: a WHIP PATCH body (application/trickle-ice-sdpfrag,
 * RFC 8840) read into the remote candidates to give webrtcbin. A pure
 * function of its arguments: any thread. */
#pragma once

#include <glib.h>

#include <string>
#include <utility>
#include <vector>

namespace castline::launcher::whip {

struct TrickleIce {
  /* (m-line index, "candidate:..." as webrtcbin's add-ice-candidate takes
   * it), in fragment order */
  std::vector<std::pair<guint, std::string>> candidates;
  bool ice_restart = false;              /* refused for a new ice-ufrag */
};

/* the most candidates one fragment may bring (a browser trickles a few) */
constexpr size_t kMaxTrickleCandidates = 64;

/* Reads a fragment: a=candidate lines, optionally under a=mid: or m= lines
 * (the n-th m= line is m-line n; bundled: m-line 0 by default). `mids` are
 * the offer's, one per m-line ("" where it has none); `ice_ufrag` is the
 * offer's ("": any is taken). a=end-of-candidates, a=ice-pwd, a=ice-options,
 * a=group and other lines are accepted and ignored. false and the reason,
 * for a person, for a line that is not SDP, an unknown mid, a malformed
 * candidate (RFC 8839 5.1: foundation component udp/tcp priority address
 * port typ host/srflx/prflx/relay ...), a candidate past the offer's
 * m-lines, more than kMaxTrickleCandidates, a fragment with no line, or an
 * ICE restart (an a=ice-ufrag
 * other than `ice_ufrag`: out.ice_restart is set). out.candidates is only
 * meaningful when true is returned. */
bool parse_trickle_ice (const std::string & sdpfrag, const std::vector<std::string> & mids,
    const std::string & ice_ufrag, TrickleIce & out, std::string & error);

}  // namespace castline::launcher::whip
