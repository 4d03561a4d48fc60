/* castline-launcher, private to the WHIP ingest: a probe that keeps a
 * video track's timestamps rising. rtpjitterbuffer can hand out a burst of
 * late packets with one timestamp (a publisher on a busy machine, or
 * jitter), and rtph264depay then pushes several pictures with the same
 * PTS; GstBaseParse (h264parse) gives each such repeat no timestamp at all,
 * and a buffer without one fails the stream's HLS sink. So a PTS not above
 * the last one becomes the last one plus one 90 kHz tick: the pictures
 * keep their order, and the stream stays live. */
#pragma once

#include <gst/gst.h>

namespace castline::launcher::whip {

/* Adds the probe to pad (a depayloader's source pad). Streaming thread. */
void keep_timestamps_rising (GstPad * pad);

}  // namespace castline::launcher::whip
