/* viewerstats: passthrough, and what it measures (StreamMeter with explicit
 * times, the element in a GstHarness). */
#include "viewerstats/streammeter.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <thread>

using castline::MeterLimits;
using castline::StreamMeter;

static GstCaps *
video_caps ()
{
  return gst_caps_from_string ("video/x-h264,width=1280,height=720,framerate=30/1");
}

/* 30 fps, 1 keyframe every `gop` frames, `size` bytes each, starting at t0 */
static void
feed (StreamMeter & m, int frames, int gop, gsize size, gint64 t0_us = 0, int first = 0)
{
  for (int i = first; i < first + frames; i++) {
    GstClockTime pts = gst_util_uint64_scale (i, GST_SECOND, 30);
    m.on_buffer (t0_us + gst_util_uint64_scale (i, G_USEC_PER_SEC, 30), pts, GST_SECOND / 30,
        size, i % gop == 0, false);
  }
}

GST_START_TEST (test_bitrate_fps_keyframes)
{
  StreamMeter m;
  GstCaps *caps = video_caps ();
  m.set_caps (caps);
  gst_caps_unref (caps);
  m.set_window_us (5 * G_USEC_PER_SEC);
  feed (m, 300, 60, 12500);  /* 10 s at 30 fps x 12500 B = 3 Mb/s */
  auto s = m.snapshot (10 * G_USEC_PER_SEC, MeterLimits ());
  fail_unless (s.bitrate > 2.9e6 && s.bitrate < 3.1e6, "bitrate %f", s.bitrate);
  fail_unless (s.fps > 29.5 && s.fps < 30.5, "fps %f", s.fps);
  fail_unless (s.codec == "h264" && s.width == 1280 && s.height == 720);
  fail_unless (s.caps_fps == 30);
  fail_unless (s.keyframe_interval > 1.99 && s.keyframe_interval < 2.01, "%f", s.keyframe_interval);
  fail_unless_equals_int (s.keyframe_interval_frames, 60);
  fail_unless_equals_int (s.buffers, 300);
  fail_unless_equals_int (s.bytes, 300 * 12500);
  fail_unless_equals_int (s.health, 100);
}
GST_END_TEST;

GST_START_TEST (test_stall_counted_once_and_health_drops)
{
  StreamMeter m;
  GstCaps *caps = video_caps ();
  m.set_caps (caps);
  gst_caps_unref (caps);
  feed (m, 60, 30, 1000);
  MeterLimits limits;
  limits.stall_threshold_us = G_USEC_PER_SEC;
  auto s = m.snapshot (2 * G_USEC_PER_SEC + G_USEC_PER_SEC / 2, limits);  /* 0.53 s silent */
  fail_if (s.stalled);
  s = m.snapshot (4 * G_USEC_PER_SEC, limits);
  fail_unless (s.stalled);
  fail_unless_equals_int (s.stalls, 1);
  fail_unless (s.health <= 40, "health %u while stalled", s.health);
  s = m.snapshot (5 * G_USEC_PER_SEC, limits);
  fail_unless_equals_int (s.stalls, 1);  /* the same stall */
  feed (m, 30, 30, 1000, 5 * G_USEC_PER_SEC, 150);
  s = m.snapshot (6 * G_USEC_PER_SEC, limits);
  fail_if (s.stalled);
  fail_unless_equals_int (s.stalls, 1);
}
GST_END_TEST;

GST_START_TEST (test_gaps_and_discontinuities)
{
  StreamMeter m;
  m.on_buffer (0, 0, GST_SECOND / 30, 10, true, true);   /* first DISCONT: normal */
  m.on_buffer (33000, GST_SECOND / 30, GST_SECOND / 30, 10, false, false);
  m.on_buffer (66000, 3 * GST_SECOND, GST_SECOND / 30, 10, false, true);  /* jump + DISCONT */
  m.on_gap ();
  auto s = m.snapshot (100000, MeterLimits ());
  fail_unless_equals_int (s.discontinuities, 1);
  fail_unless_equals_int (s.gaps, 2);
  fail_unless (s.health <= 80, "health %u after troubles", s.health);
  /* troubles count against health only until the next report */
  m.on_buffer (133000, 3 * GST_SECOND + GST_SECOND / 30, GST_SECOND / 30, 10, false, false);
  s = m.snapshot (140000, MeterLimits ());
  fail_unless_equals_int (s.health, 100);
}
GST_END_TEST;

GST_START_TEST (test_health_formula)
{
  MeterLimits l;
  castline::MeterSnapshot s;
  s.buffers = 1;
  fail_unless_equals_int (StreamMeter::health (s, l, 0), 100);
  s.caps_fps = 30;
  s.fps = 15;
  fail_unless_equals_int (StreamMeter::health (s, l, 0), 80);
  s.keyframe_interval = 10;
  fail_unless_equals_int (StreamMeter::health (s, l, 0), 65);
  s.latency = 10 * (gint64) GST_SECOND;
  fail_unless_equals_int (StreamMeter::health (s, l, 0), 50);
  fail_unless_equals_int (StreamMeter::health (s, l, 5), 20);  /* troubles capped at 30 */
  s.stalled = true;
  fail_unless_equals_int (StreamMeter::health (s, l, 5), 0);
  castline::MeterSnapshot none;
  fail_unless_equals_int (StreamMeter::health (none, l, 0), 0);
}
GST_END_TEST;

GST_START_TEST (test_element_is_a_true_passthrough)
{
  GstHarness *h = gst_harness_new ("viewerstats");
  gst_harness_set_src_caps_str (h, "video/x-h264,width=640,height=360,framerate=25/1");
  for (int i = 0; i < 10; i++) {
    GstBuffer *in = gst_harness_create_buffer (h, 1000);
    GST_BUFFER_PTS (in) = i * GST_SECOND / 25;
    if (i % 5)
      GST_BUFFER_FLAG_SET (in, GST_BUFFER_FLAG_DELTA_UNIT);
    GstBuffer *out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
    fail_unless (out == in, "buffer %d was copied", i);
    gst_buffer_unref (out);
    gst_buffer_unref (in);
  }
  GstStructure *s = nullptr;
  g_object_get (h->element, "stats", &s, nullptr);
  fail_unless (s && gst_structure_has_name (s, "viewerstats"));
  guint64 buffers = 0, bytes = 0, kf_frames = 0;
  gint width = 0;
  gint64 latency = 0;
  fail_unless (gst_structure_get_uint64 (s, "buffers", &buffers) && buffers == 10);
  fail_unless (gst_structure_get_uint64 (s, "bytes", &bytes) && bytes == 10000);
  fail_unless (gst_structure_get_int (s, "width", &width) && width == 640);
  fail_unless_equals_string (gst_structure_get_string (s, "codec"), "h264");
  fail_unless (gst_structure_get_uint64 (s, "keyframe-interval-frames", &kf_frames) && kf_frames == 5);
  /* the harness clock is at 0 and the buffers run ahead: a negative lag */
  fail_unless (gst_structure_get_int64 (s, "latency", &latency) && latency <= 0);
  for (const char *f : { "bitrate", "fps", "caps-fps", "keyframe-interval", "gaps",
          "discontinuities", "stalls", "stalled", "health", "height" })
    fail_unless (gst_structure_has_field (s, f), "no field %s", f);
  gst_structure_free (s);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_element_posts_at_interval_and_reports_stall)
{
  GstElement *e = gst_element_factory_make ("viewerstats", nullptr);
  g_object_set (e, "interval", 50, "stall-threshold", 100, nullptr);
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (e, bus);
  GstHarness *h = gst_harness_new_with_element (e, "sink", "src");
  gst_harness_set_src_caps_str (h, "video/x-raw,width=320,height=240,framerate=30/1");
  gst_harness_push (h, gst_harness_create_buffer (h, 100));
  gst_buffer_unref (gst_harness_pull (h));

  /* no more buffers: within a bounded wait a report must say stalled */
  bool stalled = false;
  int reports = 0;
  for (int i = 0; i < 40 && !stalled; i++) {
    GstMessage *m = gst_bus_timed_pop_filtered (bus, 100 * GST_MSECOND, GST_MESSAGE_ELEMENT);
    if (!m)
      continue;
    const GstStructure *s = gst_message_get_structure (m);
    if (gst_structure_has_name (s, "viewerstats")) {
      reports++;
      gboolean st = FALSE;
      gst_structure_get_boolean (s, "stalled", &st);
      stalled = st;
    }
    gst_message_unref (m);
  }
  fail_unless (reports >= 2, "only %d reports", reports);
  fail_unless (stalled, "no stall reported while no buffer came");
  gst_harness_teardown (h);
  /* the reports still queued hold the element, which holds the bus */
  gst_element_set_bus (e, nullptr);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (e);
  gst_object_unref (bus);
}
GST_END_TEST;

/* the streaming thread, the timer and the application at once: properties
 * change and stats are read while buffers flow (run it under helgrind or
 * a -Db_sanitize=thread build to see races) */
GST_START_TEST (test_properties_change_while_buffers_flow)
{
  GstElement *e = gst_element_factory_make ("viewerstats", nullptr);
  g_object_set (e, "interval", 5, nullptr);
  GstHarness *h = gst_harness_new_with_element (e, "sink", "src");
  gst_harness_set_src_caps_str (h, "video/x-h264,width=640,height=360,framerate=25/1");
  const int kBuffers = 300;
  std::thread streaming ([h] {
    for (int i = 0; i < kBuffers; i++) {
      GstBuffer *b = gst_harness_create_buffer (h, 100);
      GST_BUFFER_PTS (b) = i * GST_SECOND / 25;
      gst_harness_push (h, b);
      gst_buffer_unref (gst_harness_pull (h));
    }
  });
  for (guint i = 0; i < 200; i++) {
    g_object_set (e, "window", 100 + i, "stall-threshold", 10 + i, "max-keyframe-interval",
        1.0 + i, "latency-threshold", i, nullptr);
    GstStructure *s = nullptr;
    g_object_get (e, "stats", &s, nullptr);
    gst_structure_free (s);
  }
  streaming.join ();

  guint window = 0;
  GstStructure *s = nullptr;
  g_object_get (e, "window", &window, "stats", &s, nullptr);
  fail_unless_equals_int (window, 299);
  guint64 buffers = 0;
  fail_unless (gst_structure_get_uint64 (s, "buffers", &buffers));
  fail_unless_equals_uint64 (buffers, kBuffers);
  gst_structure_free (s);
  gst_harness_teardown (h);
  gst_object_unref (e);
}
GST_END_TEST;

static Suite *
viewerstats_suite (void)
{
  Suite *s = suite_create ("viewerstats");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_bitrate_fps_keyframes);
  tcase_add_test (tc, test_stall_counted_once_and_health_drops);
  tcase_add_test (tc, test_gaps_and_discontinuities);
  tcase_add_test (tc, test_health_formula);
  tcase_add_test (tc, test_element_is_a_true_passthrough);
  tcase_add_test (tc, test_element_posts_at_interval_and_reports_stall);
  tcase_add_test (tc, test_properties_change_while_buffers_flow);
  return s;
}

GST_CHECK_MAIN (viewerstats);
