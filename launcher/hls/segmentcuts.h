/* castline-launcher: where every rung of an abr stream cuts its segments.
 *
 * Rungs added while the stream runs start at a keyframe that need not be
 * where the others' splitmuxsinks opened their segment; left to their own
 * rule (the first keyframe past the target duration, counted from their
 * own start) they would cut elsewhere. So no rung cuts by itself
 * (max-size-time 0): at each keyframe every rung makes (the frame
 * AbrBuilder forces, seen upstream of every rung), the stream decides
 * whether a segment starts there (a target duration, give or take a
 * tenth, since the last cut; or at once when asked: a rung was added) and
 * tells every rung's sink, before the frame reaches it
 * (split-at-running-time: splitmuxsink's, or llhlssink's own with
 * segment-cuts=external). A rung added starts its first segment at its
 * first keyframe, which is such a cut, and is told of the cuts after it.
 * Thread-safe; the keyframes come on the streaming thread. */
#pragma once

#include <gst/gst.h>

#include <mutex>
#include <vector>

namespace castline::launcher {

class SegmentCuts {
 public:
  explicit SegmentCuts (GstClockTime target) : target_ (target) {}
  ~SegmentCuts ();
  SegmentCuts (const SegmentCuts &) = delete;
  SegmentCuts & operator= (const SegmentCuts &) = delete;

  /* A rung's HLS sink (llhlssink, or a splitmuxsink inside: hlssink2,
   * s3hlssink), not fed yet: its own cutting turned off, told of the cuts
   * after its first keyframe. False when it is none of those. */
  bool add (GstElement * sink);

  /* The next keyframe starts a segment in every rung. */
  void cut_at_next () { std::lock_guard<std::mutex> lk (lock_); cut_next_ = true; }

  /* A keyframe is wanted now: a cut asked for, or a rung waiting for its
   * first (where AbrBuilder forces keyframes by time, not the input's). */
  bool wanted () { std::lock_guard<std::mutex> lk (lock_); return cut_next_ || !starting_.empty (); }

  /* A keyframe every rung makes, at running time rt, before it reaches
   * any rung's sink; true when a segment starts there. */
  bool keyframe (GstClockTime rt);

 private:
  GstClockTime target_;
  std::mutex lock_;
  bool cut_next_ = false;
  GstClockTime last_ = GST_CLOCK_TIME_NONE;
  std::vector<GstElement *> cutting_;   /* llhlssinks or splitmuxsinks, owned refs */
  std::vector<GstElement *> starting_;  /* added, their first keyframe to come */
};

}  // namespace castline::launcher
