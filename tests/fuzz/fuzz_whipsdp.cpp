/* libFuzzer target: the text a WHIP publisher sends, through the
 * launcher's parsers -- the SDP offer (inspect_whip_offer) and trickle-ICE
 * PATCH bodies (parse_trickle_ice, for an offer with mids "0" and "1" and
 * ice-ufrag "abcd", as the seeds have).
 *
 * Input: the offer, then a NUL byte, then the fragment; without a NUL
 * byte, the whole input is given to both. Crashes, sanitizer reports and
 * leaks are findings, and so is a result that breaks the parsers' word: a
 * refusal without a reason, an accepted offer with nothing we take or a
 * codec twice, a candidate for an m-line the offer does not have, an ICE
 * restart that is not a refusal. */
#include "ingest/whip/trickleice.h"
#include "ingest/whip/whipoffer.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace castline::launcher;

static void
broken (const char *what)
{
  fprintf (stderr, "broken promise: %s\n", what);
  abort ();
}

static void
check_codecs (const std::vector<std::string> & codecs, bool has, const char *const *ours)
{
  if (has == codecs.empty ())
    broken ("has_video/has_audio disagrees with the codec list");
  for (size_t i = 0; i < codecs.size (); i++) {
    bool known = false;
    for (const char *const *o = ours; *o; o++)
      known = known || codecs[i] == *o;
    if (!known)
      broken ("a codec we do not take");
    if (std::find (codecs.begin () + i + 1, codecs.end (), codecs[i]) != codecs.end ())
      broken ("a codec twice");
  }
}

static void
offer (const std::string & sdp)
{
  static const char *const video[] = { "h264", "vp8", "vp9", nullptr };
  static const char *const audio[] = { "opus", nullptr };
  OfferInfo info;
  std::string error;
  if (!inspect_whip_offer (sdp, info, error)) {
    if (error.empty ())
      broken ("an offer refused without a reason");
    return;
  }
  if (!info.has_video && !info.has_audio)
    broken ("an offer accepted with nothing to take");
  check_codecs (info.video_codecs, info.has_video, video);
  check_codecs (info.audio_codecs, info.has_audio, audio);
}

static void
fragment (const std::string & frag)
{
  static const std::vector<std::string> mids = { "0", "1" };
  whip::TrickleIce out;
  std::string error;
  if (!whip::parse_trickle_ice (frag, mids, "abcd", out, error)) {
    if (error.empty ())
      broken ("a fragment refused without a reason");
    return;
  }
  if (out.ice_restart)
    broken ("an ICE restart taken");
  for (auto & c : out.candidates) {
    if (c.first >= mids.size ())
      broken ("a candidate for an m-line the offer does not have");
    if (c.second.compare (0, 10, "candidate:") != 0)
      broken ("a candidate without its candidate: prefix");
  }
}

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  std::string input (reinterpret_cast<const char *> (data), size);
  size_t nul = input.find ('\0');
  if (nul == std::string::npos) {
    offer (input);
    fragment (input);
  } else {
    offer (input.substr (0, nul));
    fragment (input.substr (nul + 1));
  }
  return 0;
}
