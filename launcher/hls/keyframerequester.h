/* castline-launcher: asks the publisher for a keyframe when the video
 * entering a stream's graph has had none for about a segment's length: a
 * WebRTC encoder sends keyframes only when asked, and an HLS sink can cut
 * a segment only at one. How the publisher is asked is its ingest's
 * business (Ingest::request_keyframe: a PLI for WHIP, nothing where the
 * publisher cannot be asked). At most one request per half interval. */
#pragma once

#include <gst/gst.h>

#include <functional>

namespace castline::launcher {

/* Installs the watch on pad (video_in's sink pad): a buffer probe, on the
 * streaming thread, calling ask (which must be thread-safe) when a
 * keyframe is due. interval: a little under a segment, so the keyframe
 * comes in time. */
void install_keyframe_requester (GstPad * pad, GstClockTime interval, std::function<void ()> ask);

}  // namespace castline::launcher
