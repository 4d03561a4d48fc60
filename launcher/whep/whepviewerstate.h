/* castline-launcher, private to whepviewer.cpp and its parts: the state a
 * WhepViewer shares with webrtcbin's callbacks (webrtc/peerstate.h, plus
 * what only a viewer has). */
#pragma once

#include "webrtc/peerstate.h"

#include <gst/gst.h>

#include <atomic>
#include <memory>
#include <vector>

namespace castline::launcher {

struct WhepViewerState : webrtc::PeerState {
  /* the time (g_get_monotonic_time) of the last packet from the browser;
   * the packet probes set it on webrtcbin's network threads */
  std::atomic<gint64> last_packet_us { 0 };

  /* under `lock` */
  struct Source {
    GstPad *pad = nullptr;               /* ref: a branch's src pad, linked by us */
    gulong probe = 0;                    /* our caps probe on it */
  };
  std::vector<Source> sources;
  bool packet_probes = false;            /* on webrtcbin's nicesrcs */
  GSource *silence_timer = nullptr;      /* ref; default main context */
};

using WhepViewerPtr = std::shared_ptr<WhepViewerState>;

}  // namespace castline::launcher
