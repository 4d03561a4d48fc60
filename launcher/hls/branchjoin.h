/* castline-launcher: a rung branch joining a running abr graph.
 *
 * A branch linked to a tee while data flows gets whatever frame comes
 * next; an HLS rung must start at a keyframe, and at the same frame as
 * every other rung (their segments line up). These pad probes drop the
 * buffers before that frame, on the branch's streaming thread, and pass
 * every event (the sticky ones carry the caps and segment). */
#pragma once

#include <gst/gst.h>

namespace castline::launcher {

/* Passthrough (encoded video from video_src): from the first keyframe. */
void join_at_keyframe (GstPad * pad);

/* Decoded video from video_raw into a rung's encoder: from the first
 * frame AbrBuilder forces a keyframe of in every rung (the downstream
 * GstForceKeyUnit event before it), so the new rung's first keyframe is
 * the others' too. */
void join_at_forced_keyframe (GstPad * pad);

/* The source pad of an encoder branch taking over an existing rung's sink
 * (the passthrough rung turned into an encoded one): its stream-start is
 * dropped (the rung's stream goes on), and so are the sink's upstream
 * keyframe requests (the encoder makes keyframes only where every rung
 * does). */
void continue_rung_stream (GstPad * src);

/* After linking `branch` (its sink pad) to `tee`: a tee that already
 * passed its EOS sends nothing more, not even that EOS (a new source pad
 * only stores it), so the branch and the rung's sink would wait for ever
 * (an audio that ended while the ladder waited for the video's size to
 * settle); the branch gets an EOS of its own then. */
void end_if_tee_ended (GstElement * tee, GstElement * branch);

}  // namespace castline::launcher
