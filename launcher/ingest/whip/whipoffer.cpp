#include "ingest/whip/whipoffer.h"

#include <algorithm>

namespace castline::launcher {

namespace whip {

using namespace webrtc;

namespace {

/* our name for format `fmt` of `media` ("h264", "vp8", "vp9" for video,
 * "opus" for audio), from its rtpmap; "" for anything else */
std::string
takeable_codec (const GstSDPMedia * media, const char *fmt)
{
  std::string kind = lower (gst_sdp_media_get_media (media));
  std::string enc = encoding (media, fmt);
  if (kind == "video" && (enc == "h264" || enc == "vp8" || enc == "vp9"))
    return enc;
  if (kind == "audio" && enc == "opus")
    return enc;
  return "";
}

}  // namespace

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
using namespace webrtc;

bool
inspect_whip_offer (const std::string & sdp, OfferInfo & info, std::string & error)
{
  info = OfferInfo ();
  SdpMessagePtr msg = parse_offer (sdp, kMaxOfferMLines, error);
  if (!msg)
    return false;
  guint n = gst_sdp_message_medias_len (msg.get ());
  bool av = false, sends = false;
  for (guint i = 0; i < n; i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (msg.get (), i);
    std::string kind = lower (gst_sdp_media_get_media (media));
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
