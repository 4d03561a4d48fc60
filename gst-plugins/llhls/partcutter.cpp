/* castline: where llhlssink's parts and segments close (see the header). */
#include "llhls/partcutter.h"

namespace castline::llhls {

PartCutter::Cut
PartCutter::next (GstClockTime dts, GstClockTime duration, bool keyframe)
{
  if (!GST_CLOCK_TIME_IS_VALID (segment_start_)) {
    segment_start_ = part_start_ = dts;
    force_segment_ = false;
    return Cut::kNone;
  }
  /* a decode time that goes back (a bad stream) counts as no time passed */
  GstClockTime in_segment = dts > segment_start_ ? dts - segment_start_ : 0;
  if (keyframe && (force_segment_ || in_segment + kJitter >= target_duration_)) {
    segment_start_ = part_start_ = dts;
    force_segment_ = false;
    return Cut::kSegment;
  }
  GstClockTime end = dts + (GST_CLOCK_TIME_IS_VALID (duration) ? duration : 0);
  if (dts > part_start_ && end > part_start_ + part_target_ + kJitter) {
    part_start_ = dts;
    return Cut::kPart;
  }
  return Cut::kNone;
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
  if (!GST_CLOCK_TIME_IS_VALID (segment_start_))
    return GST_CLOCK_TIME_NONE;
  return segment_start_ + target_duration_;
}

}  // namespace castline::llhls
