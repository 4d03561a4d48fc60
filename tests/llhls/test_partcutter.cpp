/* PartCutter: where parts and segments close. */
#include "llhls/partcutter.h"

#include <gst/check/gstcheck.h>

#include <vector>

using castline::llhls::PartCutter;
using Cut = PartCutter::Cut;

static constexpr GstClockTime kPartTarget = 300 * GST_MSECOND;
static constexpr GstClockTime kTarget = 2 * GST_SECOND;

struct Run {
  std::vector<GstClockTime> parts;      /* durations of the closed parts */
  std::vector<bool> part_ends_segment;
  std::vector<GstClockTime> segments;   /* durations of the closed segments */
  std::vector<bool> segment_starts_on_keyframe;
};

/* n samples of (num/den) s each, a keyframe every gop samples (every
 * sample with gop 1) */
static Run
cut (int n, guint64 num, guint64 den, int gop, GstClockTime part_target = kPartTarget)
{
  PartCutter c (part_target, kTarget);
  Run r;
  GstClockTime part_start = 0, seg_start = 0;
  for (int i = 0; i < n; i++) {
    GstClockTime dts = gst_util_uint64_scale (i, num * GST_SECOND, den);
    GstClockTime next = gst_util_uint64_scale (i + 1, num * GST_SECOND, den);
    bool key = i % gop == 0;
    Cut k = c.next (dts, next - dts, key);
    if (k != Cut::kNone) {
      r.parts.push_back (dts - part_start);
      r.part_ends_segment.push_back (k == Cut::kSegment);
      part_start = dts;
    }
    if (k == Cut::kSegment) {
      r.segments.push_back (dts - seg_start);
      r.segment_starts_on_keyframe.push_back (key);
      seg_start = dts;
    }
  }
  return r;
}

static void
check_parts_within_target (const Run & r, GstClockTime part_target = kPartTarget)
{
  fail_unless (!r.parts.empty ());
  for (GstClockTime d : r.parts)
    fail_unless (d <= part_target + PartCutter::kJitter, "a part of %" GST_TIME_FORMAT,
        GST_TIME_ARGS (d));
}

GST_START_TEST (test_30fps_parts_of_nine_frames_segments_of_two_seconds)
{
  Run r = cut (300, 1, 30, 30);
  check_parts_within_target (r);
  /* 0.3 s is nine frames: every part but the segment's last is full */
  for (size_t i = 0; i < r.parts.size (); i++)
    if (!r.part_ends_segment[i])
      fail_unless_equals_uint64 (r.parts[i], gst_util_uint64_scale (9, GST_SECOND, 30));
  fail_unless_equals_int (r.segments.size (), 4);
  for (size_t i = 0; i < r.segments.size (); i++) {
    fail_unless (r.segment_starts_on_keyframe[i]);
    fail_unless_equals_uint64 (r.segments[i], gst_util_uint64_scale (60, GST_SECOND, 30));
  }
}
GST_END_TEST;

GST_START_TEST (test_ntsc_and_25fps_parts_within_target)
{
  check_parts_within_target (cut (600, 1001, 30000, 60));
  Run r = cut (250, 1, 25, 50);
  check_parts_within_target (r);
  /* 0.3 s is 7.5 frames of 25 fps: seven (0.28 s) */
  fail_unless_equals_uint64 (r.parts[0], 280 * GST_MSECOND);
  fail_unless_equals_int (r.segments.size (), 4);
}
GST_END_TEST;

GST_START_TEST (test_audio_only_1024_sample_frames)
{
  /* 48 kHz: 14 frames (0.2987 s) a part; every frame is a keyframe, so a
   * segment closes at the first frame at or after 2 s */
  Run r = cut (1000, 1024, 48000, 1);
  check_parts_within_target (r);
  fail_unless_equals_uint64 (r.parts[0], gst_util_uint64_scale (14 * 1024, GST_SECOND, 48000));
  for (GstClockTime s : r.segments) {
    fail_unless (s >= kTarget - PartCutter::kJitter);
    fail_unless (s < kTarget + gst_util_uint64_scale (1024, GST_SECOND, 48000));
  }
  check_parts_within_target (cut (1000, 1024, 44100, 1));
}
GST_END_TEST;

GST_START_TEST (test_long_gop_segment_waits_for_the_keyframe)
{
  /* keyframes every 5 s at 30 fps: segments of 5 s, parts still <= 0.3 s */
  Run r = cut (600, 1, 30, 150);
  check_parts_within_target (r);
  fail_unless_equals_int (r.segments.size (), 3);
  for (GstClockTime s : r.segments)
    fail_unless_equals_uint64 (s, 5 * GST_SECOND);
  /* keyframes more often than the target: the segment still lasts 2 s */
  Run q = cut (300, 1, 30, 10);
  for (GstClockTime s : q.segments)
    fail_unless_equals_uint64 (s, 2 * GST_SECOND);
}
GST_END_TEST;

GST_START_TEST (test_sample_longer_than_part_target_makes_its_own_part)
{
  /* 0.5 s samples with a 0.3 s target: one sample a part */
  Run r = cut (10, 1, 2, 100);
  fail_unless_equals_int (r.parts.size (), 9);
  for (GstClockTime d : r.parts)
    fail_unless_equals_uint64 (d, GST_SECOND / 2);
}
GST_END_TEST;

GST_START_TEST (test_forced_segment_and_due_time)
{
  PartCutter c (kPartTarget, kTarget);
  fail_unless (!GST_CLOCK_TIME_IS_VALID (c.segment_due ()));
  fail_unless (c.next (GST_SECOND, 0, true) == Cut::kNone);
  fail_unless_equals_uint64 (c.segment_due (), 3 * GST_SECOND);
  fail_unless (c.next (GST_SECOND + 100 * GST_MSECOND, 0, false) == Cut::kNone);
  c.force_segment ();
  /* at the next keyframe, not before */
  fail_unless (c.next (GST_SECOND + 200 * GST_MSECOND, 0, false) == Cut::kNone);
  fail_unless (c.next (GST_SECOND + 300 * GST_MSECOND, 0, true) == Cut::kSegment);
  fail_unless_equals_uint64 (c.segment_start (), GST_SECOND + 300 * GST_MSECOND);
  fail_unless_equals_uint64 (c.segment_due (), 3 * GST_SECOND + 300 * GST_MSECOND);
  /* and only once */
  fail_unless (c.next (GST_SECOND + 400 * GST_MSECOND, 0, true) == Cut::kNone);
}
GST_END_TEST;

GST_START_TEST (test_a_lagging_new_driver_still_cuts_parts)
{
  /* video cut a part at 4.9 s, then ended; audio lags at 2.5 s */
  PartCutter c (kPartTarget, kTarget);
  c.next (4 * GST_SECOND, 0, true);
  c.next (4900 * GST_MSECOND, 0, false);
  c.driver_changed (2500 * GST_MSECOND);
  GstClockTime frame = gst_util_uint64_scale (1024, GST_SECOND, 48000);
  int cuts = 0;
  for (int i = 1; i < 40; i++)
    cuts += c.next (2500 * GST_MSECOND + i * frame, frame, true) != Cut::kNone;
  /* 0.83 s of audio: two cuts, not one part of it all */
  fail_unless_equals_int (cuts, 2);
}
GST_END_TEST;

GST_START_TEST (test_keyframes_a_little_early_or_late_make_one_gop_segments)
{
  /* a publisher asked for keyframes a little under each segment (every
   * 1.8 s), or one that makes them a little late (2.1 s): each segment is
   * one GOP, not two (3.6 s) */
  for (int gop : {54, 63}) {
    Run r = cut (30 * 20, 1, 30, gop);
    check_parts_within_target (r);
    fail_unless (r.segments.size () >= 8);
    for (size_t i = 0; i < r.segments.size (); i++) {
      fail_unless_equals_uint64 (r.segments[i], gst_util_uint64_scale (gop, GST_SECOND, 30));
      fail_unless (r.segment_starts_on_keyframe[i]);
    }
  }
  /* too early (1.7 s, under 90 %): the next one, 3.4 s */
  Run r = cut (30 * 20, 1, 30, 51);
  for (GstClockTime s : r.segments)
    fail_unless_equals_uint64 (s, gst_util_uint64_scale (102, GST_SECOND, 30));
  /* keyframes every 0.3 s: the one at 1.8 s is passed over, as the next
   * comes on target */
  Run q = cut (300, 1, 30, 9);
  for (GstClockTime s : q.segments)
    fail_unless_equals_uint64 (s, gst_util_uint64_scale (63, GST_SECOND, 30));
}
GST_END_TEST;

GST_START_TEST (test_external_cuts_only_where_told)
{
  PartCutter c (kPartTarget, kTarget);
  c.set_external_cuts (true);
  fail_unless (!GST_CLOCK_TIME_IS_VALID (c.segment_due ()));
  /* told before the first sample: a time at its start has nothing to cut */
  c.split_at (GST_SECOND);
  c.split_at (3500 * GST_MSECOND);
  fail_unless (c.next (GST_SECOND, 0, true) == Cut::kNone);
  fail_unless (!GST_CLOCK_TIME_IS_VALID (c.segment_due ()));
  /* keyframes past target-duration and not yet at the split: no cut */
  int segments = 0;
  for (int i = 1; i <= 24; i++)
    segments += c.next (GST_SECOND + i * 100 * GST_MSECOND, 0, i % 5 == 0) == Cut::kSegment;
  fail_unless_equals_int (segments, 0);
  /* a delta frame past the split time: still no cut; the keyframe after it */
  fail_unless (c.next (3600 * GST_MSECOND, 0, false) != Cut::kSegment);
  fail_unless (c.next (3700 * GST_MSECOND, 0, true) == Cut::kSegment);
  fail_unless_equals_uint64 (c.segment_start (), 3700 * GST_MSECOND);
  /* and only once: no split time left */
  fail_unless (c.next (9 * GST_SECOND, 0, true) != Cut::kSegment);
}
GST_END_TEST;

GST_START_TEST (test_split_times_compare_presentation_times)
{
  /* a keyframe decoded before the split time but presented at it cuts
   * there, as splitmuxsink and SegmentCuts count it */
  PartCutter c (kPartTarget, kTarget);
  c.set_external_cuts (true);
  c.next (0, 0, true, 100 * GST_MSECOND);
  c.split_at (GST_SECOND);
  c.split_at (500 * GST_MSECOND);   /* before an earlier one: ignored */
  fail_unless (c.next (400 * GST_MSECOND, 0, true, 500 * GST_MSECOND) != Cut::kSegment);
  fail_unless (c.next (900 * GST_MSECOND, 0, true, GST_SECOND) == Cut::kSegment);
}
GST_END_TEST;

GST_START_TEST (test_split_time_in_auto_mode_cuts_early)
{
  /* auto: a split time closes the segment before target-duration too, and
   * target-duration then counts from the new segment */
  PartCutter c (kPartTarget, kTarget);
  c.next (0, 0, true);
  c.split_at (GST_SECOND);
  fail_unless (c.next (GST_SECOND, 0, true) == Cut::kSegment);
  fail_unless (c.next (2500 * GST_MSECOND, 0, true) != Cut::kSegment);
  fail_unless (c.next (3 * GST_SECOND, 0, true) == Cut::kSegment);
}
GST_END_TEST;

GST_START_TEST (test_split_times_are_bounded)
{
  PartCutter c (kPartTarget, kTarget);
  c.set_external_cuts (true);
  c.next (0, 0, true);
  for (guint64 i = 1; i <= 10000; i++)
    c.split_at (i * GST_SECOND);
  /* the oldest were dropped: the first cut waits for the oldest kept */
  GstClockTime oldest = (10001 - PartCutter::kMaxSplits) * GST_SECOND;
  fail_unless (c.next (oldest - GST_SECOND, 0, true) != Cut::kSegment);
  fail_unless (c.next (oldest, 0, true) == Cut::kSegment);
}
GST_END_TEST;

static Suite *
partcutter_suite (void)
{
  Suite *s = suite_create ("partcutter");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_30fps_parts_of_nine_frames_segments_of_two_seconds);
  tcase_add_test (tc, test_ntsc_and_25fps_parts_within_target);
  tcase_add_test (tc, test_audio_only_1024_sample_frames);
  tcase_add_test (tc, test_long_gop_segment_waits_for_the_keyframe);
  tcase_add_test (tc, test_sample_longer_than_part_target_makes_its_own_part);
  tcase_add_test (tc, test_forced_segment_and_due_time);
  tcase_add_test (tc, test_a_lagging_new_driver_still_cuts_parts);
  tcase_add_test (tc, test_keyframes_a_little_early_or_late_make_one_gop_segments);
  tcase_add_test (tc, test_external_cuts_only_where_told);
  tcase_add_test (tc, test_split_times_compare_presentation_times);
  tcase_add_test (tc, test_split_time_in_auto_mode_cuts_early);
  tcase_add_test (tc, test_split_times_are_bounded);
  return s;
}

GST_CHECK_MAIN (partcutter);
