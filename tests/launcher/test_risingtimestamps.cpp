/* keep_timestamps_rising: a WHIP video track's pictures keep rising PTS
 * through a burst that repeats one (which h264parse would leave without a
 * timestamp); rising ones and buffers without a PTS pass untouched. */
#include "ingest/whip/risingtimestamps.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

using namespace castline::launcher::whip;

static GstClockTime
pushed (GstHarness * h, GstClockTime pts)
{
  GstBuffer *in = gst_buffer_new_allocate (nullptr, 4, nullptr);
  GST_BUFFER_PTS (in) = pts;
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull (h);
  GstClockTime got = GST_BUFFER_PTS (out);
  gst_buffer_unref (out);
  return got;
}

GST_START_TEST (test_repeated_pts_rises_by_a_tick)
{
  const GstClockTime tick = GST_SECOND / 90000;
  GstHarness *h = gst_harness_new ("identity");
  gst_harness_set_src_caps_str (h, "video/x-h264");
  GstPad *src = gst_element_get_static_pad (h->element, "src");
  keep_timestamps_rising (src);
  gst_object_unref (src);

  fail_unless_equals_uint64 (pushed (h, GST_SECOND), GST_SECOND);
  /* a burst with one PTS, then one from before it */
  fail_unless_equals_uint64 (pushed (h, GST_SECOND), GST_SECOND + tick);
  fail_unless_equals_uint64 (pushed (h, GST_SECOND), GST_SECOND + 2 * tick);
  fail_unless_equals_uint64 (pushed (h, GST_SECOND / 2), GST_SECOND + 3 * tick);
  /* rising again: untouched */
  fail_unless_equals_uint64 (pushed (h, 2 * GST_SECOND), 2 * GST_SECOND);
  fail_unless_equals_uint64 (pushed (h, GST_CLOCK_TIME_NONE), GST_CLOCK_TIME_NONE);
  fail_unless_equals_uint64 (pushed (h, 2 * GST_SECOND + 1), 2 * GST_SECOND + 1);
  gst_harness_teardown (h);
}
GST_END_TEST;

static Suite *
risingtimestamps_suite (void)
{
  Suite *s = suite_create ("risingtimestamps");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_repeated_pts_rises_by_a_tick);
  return s;
}

GST_CHECK_MAIN (risingtimestamps);
