/* castline-launcher: an encoded rung's size follows its input's.
 *
 * A rung is scaled to its height (rung_size_for_input), but never above
 * the input: when a WebRTC publisher's video shrinks, a rung taller than
 * it carries the input at its own size (fewer pixels than the master
 * playlist says, never upscaled), and grows back to its height when the
 * input does. The rung's videoscale sees each new input size in its caps
 * (on its streaming thread, in order with the frames) and its output
 * capsfilter is set before it negotiates; x264 then starts again at the
 * new size with a keyframe (WebRTC sizes change at a keyframe, where every
 * rung makes one). */
#pragma once

#include "hls/abrladder.h"

#include <gst/gst.h>

namespace castline::launcher {

/* video: an encoded rung's video branch (rung_graph): its videoscale and
 * the raw-video capsfilter after it. False when it has none. */
bool follow_input_size (GstElement * video, const Rung & rung);

}  // namespace castline::launcher
