/* castline-launcher, private to WhepViewer: telling a browser that went
 * away without a word (SIGKILLed, its machine off the network). webrtcbin
 * keeps saying "connected": its ICE agent checks no consent freshness,
 * and rtpbin times a receiver out only after minutes. A connected
 * browser sends RTCP receiver reports and feedback every second or so,
 * so a packet probe on webrtcbin's nicesrc elements notes the time of the
 * last packet, and a timer (1 s, default main context) ends the viewer
 * once kSilentViewerS have passed without one. */
#pragma once

#include "whep/whepviewerstate.h"

namespace castline::launcher::whep {

/* Starts watching once the connection is up. Any thread. */
void watch_silence (const WhepViewerPtr & st);

/* Stops the timer. Main context. */
void stop_watching_silence (const WhepViewerPtr & st);

}  // namespace castline::launcher::whep
