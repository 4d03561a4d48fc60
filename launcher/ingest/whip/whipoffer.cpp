#include "ingest/whip/whipoffer.h"

#include <algorithm>

namespace castline::launcher {

namespace whip {

SdpMessagePtr
parse_sdp (const std::string & text)
{
  if (text.empty ())
    return nullptr;
  GstSDPMessage *msg = nullptr;
  gst_sdp_message_new (&msg);
  SdpMessagePtr ret (msg);
  if (gst_sdp_message_parse_buffer (reinterpret_cast<const guint8 *> (text.data ()),
          text.size (), msg) != GST_SDP_OK || !gst_sdp_message_get_version (msg))
    return nullptr;
  return ret;
}

std::string
lower (const char *s)
{
  g_autofree gchar *l = g_ascii_strdown (s ? s : "", -1);
  return l;
}

namespace {

/* our name for format `fmt` of `media` ("h264", "vp8", "vp9" for video,
 * "opus" for audio), from its rtpmap; "" for anything else */
std::string
takeable_codec (const GstSDPMedia * media, const char *fmt)
{
  std::string kind = lower (gst_sdp_media_get_media (media));
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);
    if (g_strcmp0 (a->key, "rtpmap") != 0 || !a->value)
      continue;
    std::string v = a->value;
    size_t space = v.find (' ');
    if (space == std::string::npos || v.compare (0, space, fmt) != 0)
      continue;
    std::string enc = lower (v.substr (space + 1, v.find ('/', space) - space - 1).c_str ());
    if (kind == "video" && (enc == "h264" || enc == "vp8" || enc == "vp9"))
      return enc;
    if (kind == "audio" && enc == "opus")
      return enc;
    return "";
  }
  return "";
}

bool
has_attribute (const GstSDPMessage * msg, const GstSDPMedia * media, const char *key)
{
  const char *v = gst_sdp_media_get_attribute_val (media, key);
  if (!v || !*v)
    v = gst_sdp_message_get_attribute_val (msg, key);
  return v && *v;
}

/* port 0 without bundle-only: a disabled m-line */
bool
disabled (const GstSDPMedia * media)
{
  return gst_sdp_media_get_port (media) == 0
      && !gst_sdp_media_get_attribute_val (media, "bundle-only");
}

}  // namespace

std::string
direction (const GstSDPMessage * msg, const GstSDPMedia * media)
{
  static const char *const dirs[] = { "sendrecv", "sendonly", "recvonly", "inactive" };
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);
    for (const char *d : dirs)
      if (g_strcmp0 (a->key, d) == 0)
        return d;
  }
  for (guint i = 0; i < gst_sdp_message_attributes_len (msg); i++) {
    const GstSDPAttribute *a = gst_sdp_message_get_attribute (msg, i);
    for (const char *d : dirs)
      if (g_strcmp0 (a->key, d) == 0)
        return d;
  }
  return "sendrecv";
}

std::vector<std::string>
takeable_codecs (const GstSDPMedia * media)
{
  std::vector<std::string> codecs;
  for (guint f = 0; f < gst_sdp_media_formats_len (media); f++) {
    std::string c = takeable_codec (media, gst_sdp_media_get_format (media, f));
    if (!c.empty () && std::find (codecs.begin (), codecs.end (), c) == codecs.end ())
      codecs.push_back (c);
  }
  return codecs;
}

}  // namespace whip

using namespace whip;

bool
inspect_whip_offer (const std::string & sdp, OfferInfo & info, std::string & error)
{
  info = OfferInfo ();
  SdpMessagePtr msg = parse_sdp (sdp);
  if (!msg) {
    error = "the offer is not SDP";
    return false;
  }
  guint n = gst_sdp_message_medias_len (msg.get ());
  if (n == 0) {
    error = "the offer has no m-line";
    return false;
  }
  if (n > kMaxOfferMLines) {
    error = "the offer has " + std::to_string (n) + " m-lines, over "
        + std::to_string (kMaxOfferMLines);
    return false;
  }
  bool av = false, sends = false;
  for (guint i = 0; i < n; i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (msg.get (), i);
    std::string kind = lower (gst_sdp_media_get_media (media));
    if (!has_attribute (msg.get (), media, "ice-ufrag")
        || !has_attribute (msg.get (), media, "ice-pwd")) {
      error = "m-line " + std::to_string (i) + " (" + kind + ") has no ice-ufrag or ice-pwd";
      return false;
    }
    if (!has_attribute (msg.get (), media, "fingerprint")) {
      error = "m-line " + std::to_string (i) + " (" + kind + ") has no DTLS fingerprint";
      return false;
    }
    if ((kind != "video" && kind != "audio") || disabled (media))
      continue;
    av = true;
    std::string dir = direction (msg.get (), media);
    if (dir != "sendonly" && dir != "sendrecv")
      continue;
    sends = true;
    auto & codecs = kind == "video" ? info.video_codecs : info.audio_codecs;
    for (auto & c : takeable_codecs (media)) {
      (kind == "video" ? info.has_video : info.has_audio) = true;
      if (std::find (codecs.begin (), codecs.end (), c) == codecs.end ())
        codecs.push_back (c);
    }
  }
  if (!av) {
    error = "the offer has no audio or video m-line";
    return false;
  }
  if (!sends) {
    error = "the offer sends nothing: every audio and video m-line is recvonly or inactive";
    return false;
  }
  if (!info.has_video && !info.has_audio) {
    error = "the offer has no audio or video we can receive (H.264, VP8, VP9 or Opus)";
    return false;
  }
  return true;
}

}  // namespace castline::launcher
