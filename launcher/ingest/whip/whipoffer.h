/* castline-launcher: a WHIP publisher's SDP offer, read before anything is
 * built (inspect_whip_offer), and the codecs of an m-line we can take
 * (SDP helpers shared with WHEP: webrtc/sdputil.h). Pure functions of
 * their arguments: any thread. */
#pragma once

#include "webrtc/sdputil.h"

#include <gst/sdp/sdp.h>

#include <memory>
#include <string>
#include <vector>

namespace castline::launcher {

/* A publisher sends one video and one audio track; a few more m-lines
 * (data channels, simulcast layers) are answered inactive. More is
 * refused: webrtcbin would make a transceiver for each. */
constexpr guint kMaxOfferMLines = 16;

struct OfferInfo {
  /* lower-case encoding names offered that we can take, in offer order,
   * from the m-lines that send: "h264", "vp8", "vp9" / "opus" */
  std::vector<std::string> video_codecs;
  std::vector<std::string> audio_codecs;
  bool has_video = false;              /* a sendonly/sendrecv video m-line we can take */
  bool has_audio = false;
};

/* Parses an SDP offer; false and the reason, for a person, when it is not
 * SDP, has no m-line, lacks ice-ufrag / ice-pwd / a DTLS fingerprint on an
 * m-line (media or session level), sends nothing (every m-line recvonly or
 * inactive) or sends no audio/video we can receive (H.264, VP8, VP9, Opus). */
bool inspect_whip_offer (const std::string & sdp, OfferInfo & info, std::string & error);

namespace whip {

/* the codecs of `media` we can take, our names ("h264", "vp8", "vp9" for
 * video, "opus" for audio), in format order, each once */
std::vector<std::string> takeable_codecs (const GstSDPMedia * media);

}  // namespace whip

}  // namespace castline::launcher
