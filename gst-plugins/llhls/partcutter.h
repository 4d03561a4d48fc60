/* castline: where llhlssink's parts and segments close, from the samples
 * of the track that drives the cuts (video, or audio when alone).
 *
 * Pure: each sample's decode time, duration and keyframe flag go in, in
 * order; the answer says whether the part (and the segment) open so far
 * closes before that sample:
 *  - a segment closes before the first keyframe at or after
 *    target-duration from its start, so each segment starts with one;
 *  - otherwise a part closes before the sample that would make it longer
 *    than part-target (give or take kJitter, for durations rounded to
 *    ticks), so no part exceeds the target unless one sample alone does. */
#pragma once

#include <gst/gst.h>

namespace castline::llhls {

class PartCutter {
 public:
  enum class Cut { kNone, kPart, kSegment };

  /* rounding slack: 30 fps durations of 33333333 and 33333334 ns make nine
   * frames a hair over 0.3 s */
  static constexpr GstClockTime kJitter = GST_MSECOND;

  PartCutter (GstClockTime part_target, GstClockTime target_duration)
    : part_target_ (part_target), target_duration_ (target_duration) {}

  /* The next sample. The first one opens the first segment (kNone). */
  Cut next (GstClockTime dts, GstClockTime duration, bool keyframe);

  /* Close the segment before the next keyframe, however short it is (the
   * caps changed: the next segment needs a new init segment). */
  void force_segment () { force_segment_ = true; }

  /* Another track drives from now on (the video ended): its samples may
   * lag behind where the open part started; the part counts from its
   * first one then. */
  void driver_changed (GstClockTime first_dts);

  /* when the open segment started, and when it reaches target-duration
   * (where a keyframe is wanted); NONE before the first sample */
  GstClockTime segment_start () const { return segment_start_; }
  GstClockTime segment_due () const;

 private:
  GstClockTime part_target_, target_duration_;
  GstClockTime segment_start_ = GST_CLOCK_TIME_NONE;
  GstClockTime part_start_ = GST_CLOCK_TIME_NONE;
  bool force_segment_ = false;
};

}  // namespace castline::llhls
