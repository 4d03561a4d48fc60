/* castline-launcher: the element names a pipeline description and the
 * launcher agree on (pipelines/README and the catalog's checks say what
 * each must be). Defined once here; never spelled out elsewhere. */
#pragma once

#include <string_view>

namespace castline::launcher::names {

/* entries: the ingest's video and audio are linked to their sink pads */
inline constexpr const char kVideoIn[] = "video_in";
inline constexpr const char kAudioIn[] = "audio_in";
/* the HLS sink {output} becomes */
inline constexpr const char kOutput[] = "out";
/* the viewerstats of the branches the API reports */
inline constexpr const char kVideoStats[] = "video_stats";
inline constexpr const char kAudioStats[] = "audio_stats";
/* an abr graph's tees the rungs hang off: the parsed input video, the
 * decoded video, the decoded audio */
inline constexpr const char kVideoSrcTee[] = "video_src";
inline constexpr const char kVideoRawTee[] = "video_raw";
inline constexpr const char kAudioRawTee[] = "audio_raw";
/* an ingest's source element, when it has one in the pipeline */
inline constexpr const char kIngest[] = "ingest";
/* the tees between the ingest's pads and the entries (StreamPipeline's
 * taps: the publisher's media as it came, for WebRTC viewers); made by
 * the launcher, never by a description */
inline constexpr const char kVideoTap[] = "video_tap";
inline constexpr const char kAudioTap[] = "audio_tap";

/* the entry of a kind: video_in for "video", audio_in for "audio", else
 * nullptr */
inline const char *
entry_for (std::string_view kind)
{
  return kind == "video" ? kVideoIn : kind == "audio" ? kAudioIn : nullptr;
}

/* the tap of a kind: video_tap for "video", audio_tap for "audio", else
 * nullptr */
inline const char *
tap_for (std::string_view kind)
{
  return kind == "video" ? kVideoTap : kind == "audio" ? kAudioTap : nullptr;
}

}  // namespace castline::launcher::names
