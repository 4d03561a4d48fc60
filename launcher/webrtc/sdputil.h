/* castline-launcher: SDP helpers shared by the WHIP ingest and WHEP
 * playback (both read a browser's offer). Pure functions of their
 * arguments: any thread. */
#pragma once

#include <gst/sdp/sdp.h>

#include <memory>
#include <string>

namespace castline::launcher::webrtc {

struct SdpMessageFree {
  void operator() (GstSDPMessage * m) const { gst_sdp_message_free (m); }
};
using SdpMessagePtr = std::unique_ptr<GstSDPMessage, SdpMessageFree>;

/* nullptr unless the text is SDP: gst_sdp_message_parse_buffer takes about
 * anything, so a v= line is required too */
SdpMessagePtr parse_sdp (const std::string & text);

/* A browser's offer, parsed; nullptr and the reason, for a person, when
 * it is not SDP, has no m-line or more than max_mlines, or an m-line lacks
 * ice-ufrag, ice-pwd or a DTLS fingerprint (on it or the session). */
SdpMessagePtr parse_offer (const std::string & text, guint max_mlines, std::string & error);

/* ASCII lower case; "" for NULL */
std::string lower (const char *s);

/* "sendrecv" (the default), "sendonly", "recvonly" or "inactive", from the
 * media's attributes or else the session's */
std::string direction (const GstSDPMessage * msg, const GstSDPMedia * media);

/* the encoding name of format `fmt` of `media` in lower case ("h264",
 * "opus"), from its rtpmap, and its clock rate; "" without an rtpmap */
std::string encoding (const GstSDPMedia * media, const char *fmt, int *clock_rate = nullptr);

/* format pt of `media` as caps (application/x-rtp with media,
 * encoding-name, clock-rate, payload, the fmtp parameters, rtcp-fb-*);
 * nullptr when the m-line has no such format. Caller owns. */
GstCaps *rtp_caps (const GstSDPMedia * media, int pt);

/* port 0 without bundle-only: a disabled m-line */
bool disabled (const GstSDPMedia * media);


}  // namespace castline::launcher::webrtc
