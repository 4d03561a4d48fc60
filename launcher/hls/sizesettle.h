/* castline-launcher: when an abr input's video size has settled.
 *
 * A WebRTC encoder starts small and grows its size as its bandwidth
 * estimate ramps up (Chromium: 320x180 or 640x360 first, 1280x720 a few
 * seconds later), so the ladder, which depends on the size, waits for it
 * to settle: until the size has held for `settle`, and never longer than
 * twice that after the first frame. Pure logic on the times given
 * (microseconds, monotonic); no locking: the caller's. */
#pragma once

#include <glib.h>

namespace castline::launcher {

class SizeSettle {
 public:
  /* settle_us 0: settled at the first size */
  explicit SizeSettle (gint64 settle_us = 0) : settle_us_ (settle_us) {}

  /* The input's size at now_us (caps, or a frame: the same size again is
   * no change). */
  void saw (unsigned width, unsigned height, gint64 now_us);

  /* Whether the ladder is to be built now: a size seen, held for settle,
   * or twice settle gone since the first. */
  bool settled (gint64 now_us) const;

 private:
  gint64 settle_us_;
  gint64 first_us_ = -1;
  gint64 changed_us_ = -1;
  unsigned width_ = 0, height_ = 0;
};

}  // namespace castline::launcher
