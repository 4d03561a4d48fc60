/* castline-launcher: a branch's failures stay in the branch.
 *
 * A tee stops and hands upstream the failure of any one of its branches
 * (anything but OK or NOT_LINKED): one WebRTC viewer whose webrtcbin
 * flushes as it closes, or refuses its caps, would stop every other
 * viewer of the stream, and a WebRTC chain failing on a tap would stop the
 * publisher and the HLS. A guarded sink pad, a ghost pad on the branch's
 * bin, returns OK whatever its target returns: what the branch refused is
 * dropped there, and its own elements report the failure (an error
 * message from the branch, which its owner takes). */
#pragma once

#include <gst/gst.h>

#include <string>

namespace castline::launcher {

/* A bin named name holding one queue (named name + "_queue", given in
 * *queue for its settings), with ghost pads "sink", guarded, and "src".
 * Floating; nullptr with error when no queue can be made. */
GstElement *make_guarded_queue (const std::string & name, GstElement ** queue, std::string & error);

}  // namespace castline::launcher
