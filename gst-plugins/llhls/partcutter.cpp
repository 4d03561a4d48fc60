/* castline: where llhlssink's parts and segments close (see the header). */
#include "llhls/partcutter.h"

namespace castline::llhls {

void
PartCutter::open_segment (GstClockTime dts, GstClockTime pts)
{
  segment_start_ = part_start_ = last_keyframe_ = dts;
  segment_start_pts_ = pts;
  force_segment_ = false;
  /* split times at or before the new segment's start have nothing to cut */
  while (!splits_.empty () && splits_.front () <= pts)
    splits_.pop_front ();
}

/* with keyframes a gop apart, in_segment into the segment: close it here
 * (see the header) */
bool
PartCutter::due_by_target (GstClockTime in_segment, GstClockTime gop) const
{
  if (in_segment + kJitter >= target_duration_)
    return true;
  GstClockTime tenth = target_duration_ / 10;
  return in_segment + tenth + kJitter >= target_duration_
      && in_segment + gop > target_duration_ + tenth;
}

PartCutter::Cut
PartCutter::next (GstClockTime dts, GstClockTime duration, bool keyframe, GstClockTime pts)
{
  if (!GST_CLOCK_TIME_IS_VALID (pts))
    pts = dts;
  if (!GST_CLOCK_TIME_IS_VALID (segment_start_)) {
    open_segment (dts, pts);
    return Cut::kNone;
  }
  /* a decode time that goes back (a bad stream) counts as no time passed */
  GstClockTime in_segment = dts > segment_start_ ? dts - segment_start_ : 0;
  if (keyframe) {
    GstClockTime gop = dts > last_keyframe_ ? dts - last_keyframe_ : 0;
    last_keyframe_ = dts;
    bool split = !splits_.empty () && pts >= splits_.front () && pts > segment_start_pts_;
    if (force_segment_ || split || (!external_ && due_by_target (in_segment, gop))) {
      open_segment (dts, pts);
      return Cut::kSegment;
    }
  }
  GstClockTime end = dts + (GST_CLOCK_TIME_IS_VALID (duration) ? duration : 0);
  if (dts > part_start_ && end > part_start_ + part_target_ + kJitter) {
    part_start_ = dts;
    return Cut::kPart;
  }
  return Cut::kNone;
}

void
PartCutter::split_at (GstClockTime rt)
{
  if (!GST_CLOCK_TIME_IS_VALID (rt) || (!splits_.empty () && rt < splits_.back ()))
    return;
  if (GST_CLOCK_TIME_IS_VALID (segment_start_pts_) && rt <= segment_start_pts_)
    return;
  if (splits_.size () >= kMaxSplits)
    splits_.pop_front ();
  splits_.push_back (rt);
}

void
PartCutter::driver_changed (GstClockTime first_dts)
{
  if (GST_CLOCK_TIME_IS_VALID (part_start_) && first_dts < part_start_)
    part_start_ = first_dts;
}

GstClockTime
PartCutter::segment_due () const
{
  if (!GST_CLOCK_TIME_IS_VALID (segment_start_) || external_)
    return GST_CLOCK_TIME_NONE;
  return segment_start_ + target_duration_;
}

}  // namespace castline::llhls
