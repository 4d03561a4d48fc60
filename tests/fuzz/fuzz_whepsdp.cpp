/* libFuzzer target: a WHEP viewer's SDP offer through inspect_whep_offer,
 * against what a stream sends.
 *
 * Input: one byte choosing the stream's media (bits 0-1: video none, h264,
 * vp8, vp9; bit 2: Opus; bits 3-4: the H.264 profile-level-id unknown,
 * 42e01f, 640028, or nonsense), then the offer. Crashes, sanitizer reports
 * and leaks are findings, and so is a result that breaks inspect_whep_offer's
 * word: a refusal without a reason or with a status other than 400/406, an
 * accepted offer with no track, two tracks of a kind, a track on an m-line
 * the offer does not have or that names a codec the stream does not send,
 * or whose caps are not the fixed RTP caps of its payload type. */
#include "whep/whepoffer.h"

#include <gst/gst.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace castline::launcher;

static void
broken (const char *what)
{
  fprintf (stderr, "broken promise: %s\n", what);
  abort ();
}

static WhepMedia
stream_media (uint8_t choice)
{
  static const char *const video[] = { "", "h264", "vp8", "vp9" };
  static const char *const plid[] = { "", "42e01f", "640028", "zz0q" };
  WhepMedia m;
  m.video = video[choice & 3];
  m.audio = choice & 4 ? "opus" : "";
  m.h264_profile_level_id = plid[(choice >> 3) & 3];
  return m;
}

static void
check_track (const WhepTrack & t, const WhepOfferInfo & info, const WhepMedia & m)
{
  if (t.mline >= info.mlines)
    broken ("a track on an m-line the offer does not have");
  if (t.kind != "video" && t.kind != "audio")
    broken ("a track of no kind");
  if (t.codec.empty () || t.codec != (t.kind == "video" ? m.video : m.audio))
    broken ("a track with a codec the stream does not send");
  if (t.pt < 0 || t.pt > 127)
    broken ("a payload type out of range");
  GstCaps *caps = gst_caps_from_string (t.caps.c_str ());
  if (!caps || gst_caps_get_size (caps) != 1 || !gst_caps_is_fixed (caps))
    broken ("a track's caps are not fixed caps");
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  int pt = -1;
  if (!gst_structure_has_name (s, "application/x-rtp") || !gst_structure_get_int (s, "payload", &pt)
      || pt != t.pt)
    broken ("a track's caps are not the RTP caps of its payload type");
  gst_caps_unref (caps);
}

extern "C" int
LLVMFuzzerInitialize (int *, char ***)
{
  gst_init (nullptr, nullptr);
  return 0;
}

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  if (size < 1)
    return 0;
  WhepMedia media = stream_media (data[0]);
  std::string sdp (reinterpret_cast<const char *> (data + 1), size - 1);
  WhepOfferInfo info;
  unsigned status = 0;
  std::string error;
  if (!inspect_whep_offer (sdp, media, info, status, error)) {
    if (error.empty ())
      broken ("an offer refused without a reason");
    if (status != 400 && status != 406)
      broken ("an offer refused with a status other than 400 or 406");
    return 0;
  }
  if (info.tracks.empty () || info.tracks.size () > 2)
    broken ("an offer accepted with no track or too many");
  if (info.mlines == 0 || info.mlines > kMaxWhepMLines || info.mids.size () != info.mlines)
    broken ("m-lines miscounted");
  if (info.tracks.size () == 2 && info.tracks[0].kind == info.tracks[1].kind)
    broken ("two tracks of a kind");
  for (auto & t : info.tracks)
    check_track (t, info, media);
  return 0;
}
