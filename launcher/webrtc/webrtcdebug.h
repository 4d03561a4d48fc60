/* castline-launcher: the debug category of the webrtcbin peer code shared
 * by the WHIP ingest and WHEP playback, "castline-webrtc", as
 * GST_CAT_DEFAULT of its .cpp files. peerstate.cpp defines it; every
 * peer's constructor registers it (init_debug) before code that logs can
 * run. */
#pragma once

#include <gst/gst.h>

GST_DEBUG_CATEGORY_EXTERN (castline_webrtc_debug);
#define GST_CAT_DEFAULT castline_webrtc_debug
