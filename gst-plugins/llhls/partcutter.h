/* castline: where llhlssink's parts and segments close, from the samples
 * of the track that drives the cuts (video, or audio when alone).
 *
 * Pure: each sample's decode time, duration and keyframe flag go in, in
 * order; the answer says whether the part (and the segment) open so far
 * closes before that sample:
 *  - a segment closes before a keyframe, so each segment starts with one:
 *    the first at or after target-duration from its start, or one a little
 *    early (at 90 % of it or later) when the next keyframe, expected a GOP
 *    (the last one's length) later, would come more than a tenth late: a
 *    keyframe asked for a little under each segment (a WebRTC publisher's)
 *    is not passed over for the one after it, and audio or all-intra video
 *    still fills the target. Segments may still exceed target-duration
 *    where keyframes are rarer; the playlist's EXT-X-TARGETDURATION follows
 *    the longest;
 *  - or, with external cuts (set_external_cuts), only where told:
 *    before the first keyframe at or after each split_at () time (running
 *    times of the keyframes' presentation), as splitmuxsink's
 *    split-at-running-time; a split time also closes a segment when the
 *    cutter cuts by itself;
 *  - otherwise a part closes before the sample that would make it longer
 *    than part-target (give or take kJitter, for durations rounded to
 *    ticks), so no part exceeds the target unless one sample alone does. */
#pragma once

#include <gst/gst.h>

#include <deque>

namespace castline::llhls {

class PartCutter {
 public:
  enum class Cut { kNone, kPart, kSegment };

  /* rounding slack: 30 fps durations of 33333333 and 33333334 ns make nine
   * frames a hair over 0.3 s */
  static constexpr GstClockTime kJitter = GST_MSECOND;

  /* split times waiting for their keyframe at most: a sink fed nothing
   * while told of every cut keeps the newest */
  static constexpr size_t kMaxSplits = 64;

  PartCutter (GstClockTime part_target, GstClockTime target_duration)
    : part_target_ (part_target), target_duration_ (target_duration) {}

  /* The next sample, pts its presentation time (NONE: dts is used). The
   * first one opens the first segment (kNone). */
  Cut next (GstClockTime dts, GstClockTime duration, bool keyframe,
      GstClockTime pts = GST_CLOCK_TIME_NONE);

  /* true: segments close only at split_at () times (and force_segment ()),
   * never by target-duration */
  void set_external_cuts (bool external) { external_ = external; }

  /* The segment closes before the first keyframe presented at or after
   * rt; ignored when rt is not after the open segment's start (nothing
   * to cut) or before an earlier split time. */
  void split_at (GstClockTime rt);

  /* Close the segment before the next keyframe, however short it is (the
   * caps changed: the next segment needs a new init segment). */
  void force_segment () { force_segment_ = true; }

  /* Another track drives from now on (the video ended): its samples may
   * lag behind where the open part started; the part counts from its
   * first one then. */
  void driver_changed (GstClockTime first_dts);

  /* when the open segment started, and when it reaches target-duration
   * (where a keyframe is wanted); NONE before the first sample, and
   * segment_due () NONE with external cuts */
  GstClockTime segment_start () const { return segment_start_; }
  GstClockTime segment_due () const;

 private:
  GstClockTime part_target_, target_duration_;
  GstClockTime segment_start_ = GST_CLOCK_TIME_NONE;
  GstClockTime part_start_ = GST_CLOCK_TIME_NONE;
  GstClockTime last_keyframe_ = GST_CLOCK_TIME_NONE;
  GstClockTime segment_start_pts_ = GST_CLOCK_TIME_NONE;
  bool force_segment_ = false;
  bool external_ = false;
  std::deque<GstClockTime> splits_;   /* ascending */

  bool due_by_target (GstClockTime in_segment, GstClockTime gop) const;
  void open_segment (GstClockTime dts, GstClockTime pts);
};

}  // namespace castline::llhls
