#include "whep/whepoffer.h"

#include "webrtc/sdputil.h"

#include <gst/gst.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace castline::launcher {

using namespace webrtc;

namespace {

/* parameter `key` of format `fmt`'s a=fmtp line ("" when absent) */
std::string
fmtp_parameter (const GstSDPMedia * media, const char *fmt, const char *key)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);
    if (g_strcmp0 (a->key, "fmtp") != 0 || !a->value)
      continue;
    std::string v = a->value;
    size_t space = v.find (' ');
    if (space == std::string::npos || v.compare (0, space, fmt) != 0)
      continue;
    g_auto (GStrv) params = g_strsplit (v.c_str () + space + 1, ";", -1);
    for (gchar **p = params; *p; p++) {
      g_strstrip (*p);
      const char *eq = strchr (*p, '=');
      if (eq && lower (std::string (*p, eq - *p).c_str ()) == key)
        return eq + 1;
    }
  }
  return "";
}

constexpr long kFirstDynamicPt = 96;

/* a profile-level-id's profile_idc and constraint byte; false unless it is
 * 6 hex digits */
bool
h264_profile (const std::string & plid, unsigned & idc, unsigned & iop)
{
  if (plid.size () != 6)
    return false;
  for (char c : plid)
    if (!g_ascii_isxdigit (c))
      return false;
  unsigned v = (unsigned) strtoul (plid.c_str (), nullptr, 16);
  idc = v >> 16;
  iop = (v >> 8) & 0xff;
  return true;
}

/* profiles past High (High 10, 4:2:2, 4:4:4, CAVLC 4:4:4): a decoder
 * takes them only when it says so. The 8-bit 4:2:0 ones (baseline, main,
 * extended, high) go to any H.264 format, as browsers decode them all
 * whatever they offer. */
bool
beyond_high (unsigned idc)
{
  return idc != 0x42 && idc != 0x4d && idc != 0x58 && idc != 0x64;
}

/* How well an offered H.264 format (packetization-mode=1) suits the
 * stream: 4 the same profile and constraints, 3 the same profile, 2
 * constrained baseline (what every decoder takes), 1 any other, 0 none
 * (a stream past High to a format of another profile: the viewer would
 * get pictures it cannot decode under a profile it can). Levels are not
 * compared: browsers offer level-asymmetry-allowed. */
int
h264_score (const std::string & offered, const std::string & stream)
{
  unsigned sidc = 0, siop = 0;
  bool known = h264_profile (stream, sidc, siop);
  unsigned oidc, oiop;
  if (!h264_profile (offered, oidc, oiop))
    return known && beyond_high (sidc) ? 0 : 1;
  if (known && oidc == sidc)
    return oiop == siop ? 4 : 3;
  if (known && beyond_high (sidc))
    return 0;
  return oidc == 0x42 && (oiop & 0x40) ? 2 : 1;
}

/* the payload type of `media` (of kind `kind`) for `codec`, -1 when it
 * has none we can send */
int
choose_format (const GstSDPMedia * media, const std::string & kind, const std::string & codec,
    const WhepMedia & stream)
{
  int best = -1, best_score = 0;
  for (guint f = 0; f < gst_sdp_media_formats_len (media); f++) {
    const char *fmt = gst_sdp_media_get_format (media, f);
    char *end = nullptr;
    long pt = strtol (fmt, &end, 10);
    /* a payload type below 96 (Chromium gives its extra formats 35 to
     * 63: High 4:4:4 at 41) does not link: GStreamer's payloaders take
     * the dynamic range only */
    if (!*fmt || *end || pt < kFirstDynamicPt || pt > 127)
      continue;
    int clock = 0;
    if (encoding (media, fmt, &clock) != codec
        || clock != (kind == "audio" ? 48000 : 90000))
      continue;
    int score = 1;
    if (codec == "h264") {
      /* mode 0 takes one NAL unit a packet: our payloaders fragment */
      if (fmtp_parameter (media, fmt, "packetization-mode") != "1")
        continue;
      score = h264_score (fmtp_parameter (media, fmt, "profile-level-id"),
          stream.h264_profile_level_id);
    } else if (codec == "vp9") {
      /* profile 0 (8-bit 4:2:0) is what browsers send and the others
       * may not decode */
      std::string profile = fmtp_parameter (media, fmt, "profile-id");
      score = profile.empty () || profile == "0" ? 2 : 1;
    }
    if (score > best_score) {
      best = (int) pt;
      best_score = score;
    }
  }
  return best;
}

/* format pt's caps as the offer gives them, as text. For H.264, GStreamer
 * reads profile-level-id into a `profile` name and drops it: it is put
 * back as offered, since webrtcbin writes the answer's fmtp from these
 * caps and a browser matches its H.264 formats by profile-level-id
 * (webrtcbin adds level-asymmetry-allowed=1 itself). */
std::string
format_caps (const GstSDPMedia * media, int pt, const std::string & codec)
{
  GstCaps *caps = rtp_caps (media, pt);
  if (!caps)
    return "";
  if (codec == "h264") {
    std::string fmt = std::to_string (pt);
    GstStructure *s = gst_caps_get_structure (caps, 0);
    gst_structure_remove_field (s, "profile");
    unsigned idc, iop;
    std::string plid = fmtp_parameter (media, fmt.c_str (), "profile-level-id");
    if (h264_profile (plid, idc, iop))
      gst_structure_set (s, "profile-level-id", G_TYPE_STRING, lower (plid.c_str ()).c_str (),
          nullptr);
  }
  /* fmtp parameters become fields by their names: a name caps text
   * cannot carry (a space, a quote) would make the text unreadable */
  gst_structure_filter_and_map_in_place (gst_caps_get_structure (caps, 0),
      [] (GQuark field, GValue *, gpointer) -> gboolean {
        const char *name = g_quark_to_string (field);
        if (!*name || !g_ascii_isalpha (*name))
          return FALSE;
        for (const char *c = name; *c; c++)
          if (!g_ascii_isalnum (*c) && !strchr ("-_.+", *c))
            return FALSE;
        return TRUE;
      }, nullptr);
  g_autofree gchar *text = gst_caps_to_string (caps);
  gst_caps_unref (caps);
  /* and the text must read back as what it says */
  GstCaps *back = gst_caps_from_string (text);
  bool readable = back && gst_caps_get_size (back) == 1 && gst_caps_is_fixed (back);
  if (back)
    gst_caps_unref (back);
  return readable ? text : "";
}

}  // namespace

bool
inspect_whep_offer (const std::string & sdp, const WhepMedia & stream, WhepOfferInfo & info,
    unsigned & status, std::string & error)
{
  info = WhepOfferInfo ();
  status = 400;
  SdpMessagePtr msg = parse_offer (sdp, kMaxWhepMLines, error);
  if (!msg)
    return false;
  guint n = gst_sdp_message_medias_len (msg.get ());
  bool receives = false, wants_video = false;
  for (guint i = 0; i < n; i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (msg.get (), i);
    const char *mid = gst_sdp_media_get_attribute_val (media, "mid");
    info.mids.push_back (mid ? mid : "");
    const char *ufrag = gst_sdp_media_get_attribute_val (media, "ice-ufrag");
    if (!ufrag)
      ufrag = gst_sdp_message_get_attribute_val (msg.get (), "ice-ufrag");
    if (info.ice_ufrag.empty () && ufrag)
      info.ice_ufrag = ufrag;

    std::string kind = lower (gst_sdp_media_get_media (media));
    if ((kind != "video" && kind != "audio") || disabled (media))
      continue;
    std::string dir = direction (msg.get (), media);
    if (dir != "recvonly" && dir != "sendrecv")
      continue;
    receives = true;
    wants_video = wants_video || kind == "video";
    const std::string & codec = kind == "video" ? stream.video : stream.audio;
    if (codec.empty ())
      continue;
    bool taken = false;
    for (auto & t : info.tracks)
      taken = taken || t.kind == kind;
    if (taken)
      continue;
    int pt = choose_format (media, kind, codec, stream);
    if (pt < 0)
      continue;
    WhepTrack track;
    track.mline = i;
    track.kind = kind;
    track.codec = codec;
    track.pt = pt;
    track.caps = format_caps (media, pt, codec);
    if (track.caps.empty ())
      continue;
    info.tracks.push_back (std::move (track));
  }
  info.mlines = n;
  if (!receives) {
    error = "the offer has no audio or video m-line that receives (recvonly or sendrecv)";
    return false;
  }
  bool video_taken = false;
  for (const auto & t : info.tracks)
    video_taken = video_taken || t.kind == "video";
  /* a viewer that asks for the stream's video and cannot take it gets
   * none of it, not its sound alone: its page falls back to HLS */
  if (info.tracks.empty () || (wants_video && !stream.video.empty () && !video_taken)) {
    status = 406;
    std::string sends;
    unsigned idc = 0, iop = 0;
    if (!stream.video.empty ())
      sends = "video " + stream.video + (stream.video == "h264" ? " (packetization-mode=1)" : "");
    if (stream.video == "h264" && h264_profile (stream.h264_profile_level_id, idc, iop)
        && beyond_high (idc))
      sends += " in profile " + std::to_string (idc) + " (profile-level-id "
          + stream.h264_profile_level_id + "), past High: watch its HLS";
    if (!info.tracks.empty ()) {
      info.tracks.clear ();
      error = "the offer cannot take the stream's " + sends;
      return false;
    }
    if (!stream.audio.empty ())
      sends += (sends.empty () ? "" : ", ") + std::string ("audio ") + stream.audio;
    error = "the offer takes none of the codecs the stream sends: "
        + (sends.empty () ? std::string ("none yet") : sends);
    return false;
  }
  status = 0;
  return true;
}

}  // namespace castline::launcher
