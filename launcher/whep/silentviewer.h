/* castline-launcher, private to WhepViewer: telling a browser that went
 * away without a word (SIGKILLed, its machine off the network). webrtcbin
 * keeps saying "connected": its ICE agent checks no consent freshness
 * (and takes the browser's own consent checks without a trace), and
 * rtpbin times a receiver out only after minutes. A connected browser
 * sends RTCP receiver reports: a packet probe on webrtcbin's nicesrc
 * elements notes the time of the last packet, and a timer (1 s, default
 * main context) ends the viewer once it has been silent too long.
 *
 * Measured with Chromium 156 on loopback: receiving video, it sends a
 * packet at least every second, and is reaped 8 to 9 s after a SIGKILL
 * with kSilentViewerS; receiving audio only, its RTCP comes every 5 s or
 * so (gaps up to 5.1 s seen, 7.5 s possible by RFC 3550's randomization,
 * twice that after one lost report), so such a viewer gets
 * 2 x kSilentViewerS. */
#pragma once

#include "whep/whepviewerstate.h"

namespace castline::launcher::whep {

/* The silence a viewer receiving video (or only audio) may have. */
gint64 silence_limit_us (bool receives_video);

/* Starts watching once the connection is up. Any thread. */
void watch_silence (const WhepViewerPtr & st);

/* Stops the timer. Main context. */
void stop_watching_silence (const WhepViewerPtr & st);

}  // namespace castline::launcher::whep
