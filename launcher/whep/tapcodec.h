/* castline-launcher: what a tap's media (the publisher's, as it came) is
 * for WebRTC viewers: its codec, and H.264's profile-level-id, which the
 * viewer's offer is matched against (whepoffer.h). Pure functions: any
 * thread. */
#pragma once

#include <gst/gst.h>

#include <string>

namespace castline::launcher {

/* "h264", "vp8", "vp9", "opus" or "aac" (sent as Opus); "" for caps
 * WebRTC viewers cannot be sent */
std::string webrtc_codec_of (const GstCaps * caps);

/* H.264 in avc: the profile-level-id (6 lower-case hex digits) of its
 * avcC codec_data; "" without (byte-stream) */
std::string h264_profile_level_id_of_caps (const GstCaps * caps);

/* H.264 byte-stream (Annex B): the profile-level-id of the first SPS in
 * data; "" when it has none */
std::string h264_profile_level_id_of_annexb (const guint8 * data, gsize size);

}  // namespace castline::launcher
