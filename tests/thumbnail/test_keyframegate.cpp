/* keyframegate in a GstHarness: drops delta units, lets one key unit
 * through per interval, tells downstream it is key units only, and makes
 * a B-frame decoder behind it output each picture at once. */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

static GstBuffer *
frame (GstClockTime pts, bool key)
{
  GstBuffer *b = gst_buffer_new_allocate (nullptr, 16, nullptr);
  GST_BUFFER_PTS (b) = GST_BUFFER_DTS (b) = pts;
  GST_BUFFER_DURATION (b) = GST_SECOND / 25;
  if (!key)
    GST_BUFFER_FLAG_SET (b, GST_BUFFER_FLAG_DELTA_UNIT);
  return b;
}

static GstHarness *
gate (guint64 interval)
{
  GstHarness *h = gst_harness_new ("keyframegate");
  g_object_set (h->element, "interval", interval, nullptr);
  gst_harness_set_src_caps_str (h, "video/x-h264,stream-format=avc,alignment=au");
  return h;
}

/* the PTS of every buffer that came out */
static GArray *
pull_all (GstHarness * h)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  while (GstBuffer *b = gst_harness_try_pull (h)) {
    GstClockTime pts = GST_BUFFER_PTS (b);
    g_array_append_val (out, pts);
    gst_buffer_unref (b);
  }
  return out;
}

GST_START_TEST (test_drops_delta_units)
{
  GstHarness *h = gate (0);
  for (int i = 0; i < 50; i++)
    fail_unless_equals_int (gst_harness_push (h, frame (i * GST_SECOND / 25, i % 25 == 0)),
        GST_FLOW_OK);
  GArray *out = pull_all (h);
  fail_unless_equals_int (out->len, 2);
  fail_unless_equals_uint64 (g_array_index (out, GstClockTime, 0), 0);
  fail_unless_equals_uint64 (g_array_index (out, GstClockTime, 1), GST_SECOND);
  guint64 passed = 0, dropped = 0;
  g_object_get (h->element, "passed", &passed, "dropped", &dropped, nullptr);
  fail_unless_equals_uint64 (passed, 2);
  fail_unless_equals_uint64 (dropped, 48);
  g_array_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_one_key_unit_per_interval)
{
  GstHarness *h = gate (5 * GST_SECOND);
  /* a keyframe every second for 12 s: 0, 5 and 10 go through */
  for (int i = 0; i <= 12; i++)
    gst_harness_push (h, frame (i * GST_SECOND, true));
  GArray *out = pull_all (h);
  fail_unless_equals_int (out->len, 3);
  fail_unless_equals_uint64 (g_array_index (out, GstClockTime, 0), 0);
  fail_unless_equals_uint64 (g_array_index (out, GstClockTime, 1), 5 * GST_SECOND);
  fail_unless_equals_uint64 (g_array_index (out, GstClockTime, 2), 10 * GST_SECOND);
  g_array_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_passes_key_unit_after_interval_and_after_time_restarts)
{
  GstHarness *h = gate (5 * GST_SECOND);
  gst_harness_push (h, frame (100 * GST_SECOND, true));
  gst_harness_push (h, frame (104 * GST_SECOND + 999 * GST_MSECOND, true));   /* too soon */
  gst_harness_push (h, frame (105 * GST_SECOND, true));                        /* exactly 5 s */
  /* the publisher's clock starts again (a new session's timestamps) */
  gst_harness_push (h, frame (GST_SECOND, true));
  gst_harness_push (h, frame (2 * GST_SECOND, true));                          /* too soon */
  GArray *out = pull_all (h);
  fail_unless_equals_int (out->len, 3);
  fail_unless_equals_uint64 (g_array_index (out, GstClockTime, 1), 105 * GST_SECOND);
  fail_unless_equals_uint64 (g_array_index (out, GstClockTime, 2), GST_SECOND);
  g_array_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_says_key_units_only_and_gaps_after_each)
{
  GstHarness *h = gate (0);
  gst_harness_push (h, frame (0, true));
  gst_harness_push (h, frame (GST_SECOND / 25, false));
  bool segment_marked = false;
  int gaps = 0;
  while (GstEvent *e = gst_harness_try_pull_event (h)) {
    if (GST_EVENT_TYPE (e) == GST_EVENT_SEGMENT) {
      const GstSegment *s;
      gst_event_parse_segment (e, &s);
      segment_marked = (s->flags & GST_SEGMENT_FLAG_TRICKMODE_KEY_UNITS) != 0;
    } else if (GST_EVENT_TYPE (e) == GST_EVENT_GAP) {
      GstClockTime ts, dur;
      gst_event_parse_gap (e, &ts, &dur);
      fail_unless_equals_uint64 (ts, GST_SECOND / 25);   /* after the key unit */
      gaps++;
    }
    gst_event_unref (e);
  }
  fail_unless (segment_marked);
  fail_unless_equals_int (gaps, 1);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* pictures out of avdec_h264 for 3 s of 25 fps H.264 with B-frames and a
 * keyframe a second, through the gate (drain on or off) */
static guint
decoded_pictures (gboolean drain)
{
  GstHarness *h = gst_harness_new_parse ("keyframegate interval=0 ! avdec_h264 max-threads=1");
  GstElement *g = gst_harness_find_element (h, "keyframegate");
  g_object_set (g, "drain", drain, nullptr);
  gst_object_unref (g);
  gst_harness_add_src_parse (h, "videotestsrc pattern=ball num-buffers=75 "
      "! video/x-raw,width=160,height=120,framerate=25/1 "
      "! x264enc bframes=2 key-int-max=25 speed-preset=ultrafast ! h264parse", FALSE);
  gst_harness_play (h);
  for (int i = 0; i < 75; i++)
    fail_unless_equals_int (gst_harness_push_from_src (h), GST_FLOW_OK);
  guint n = gst_harness_buffers_received (h);
  gst_harness_teardown (h);
  return n;
}

GST_START_TEST (test_decoder_behind_outputs_each_picture_at_once)
{
  fail_unless_equals_int (decoded_pictures (TRUE), 3);
  /* without: avdec_h264 holds two pictures for reordering */
  fail_unless (decoded_pictures (FALSE) < 3);
}
GST_END_TEST;

static Suite *
keyframegate_suite ()
{
  Suite *s = suite_create ("keyframegate");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_drops_delta_units);
  tcase_add_test (tc, test_one_key_unit_per_interval);
  tcase_add_test (tc, test_passes_key_unit_after_interval_and_after_time_restarts);
  tcase_add_test (tc, test_says_key_units_only_and_gaps_after_each);
  tcase_add_test (tc, test_decoder_behind_outputs_each_picture_at_once);
  return s;
}

GST_CHECK_MAIN (keyframegate);
