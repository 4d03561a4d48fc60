/* castline-launcher, private to the WHIP ingest: each track webrtcbin
 * receives, depayloaded and parsed (rtph264depay ! h264parse ! capsfilter
 * to byte-stream AUs; rtpvp8depay; rtpvp9depay; rtpopusdepay ! opusparse)
 * in the stream's pipeline and handed to Listener::media_pad; video starts
 * with a keyframe request, its timestamps kept rising (risingtimestamps.h).
 * A track we do not take ends in a fakesink. */
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

namespace castline::launcher::whip {

/* what the WHIP ingest makes: webrtcbin and every track's elements (the
 * check at start) */
std::vector<std::string> required_elements ();

/* webrtcbin's pad-added handler; data: a held webrtc::PeerPtr of the
 * ingest's state. Streaming thread. */
void on_pad_added (GstElement * webrtc, GstPad * pad, gpointer data);

}  // namespace castline::launcher::whip
