/* TrackCollector: buffers become samples in the track's timescale, each
 * held until the next gives its duration. */
#include "llhls/trackcollector.h"

#include "../assertions.h"

#include <gst/check/gstcheck.h>

using namespace castline::llhls;

static GstCaps *
video_caps ()
{
  const guint8 avcc[] = {1, 0x64, 0, 0x1f, 0xff, 0xe0, 0};
  g_autoptr (GstBuffer) cd = gst_buffer_new_memdup (avcc, sizeof (avcc));
  return gst_caps_new_simple ("video/x-h264", "stream-format", G_TYPE_STRING, "avc",
      "alignment", G_TYPE_STRING, "au", "width", G_TYPE_INT, 320, "height", G_TYPE_INT, 240,
      "codec_data", GST_TYPE_BUFFER, cd, nullptr);
}

static std::string
push (TrackCollector & c, GstClockTime dts, GstClockTime pts, bool key,
    GstClockTime duration = GST_CLOCK_TIME_NONE)
{
  g_autoptr (GstBuffer) b = gst_buffer_new_allocate (nullptr, 10, nullptr);
  gst_buffer_memset (b, 0, 7, 10);
  GST_BUFFER_DURATION (b) = duration;
  if (!key)
    GST_BUFFER_FLAG_SET (b, GST_BUFFER_FLAG_DELTA_UNIT);
  return c.push (b, dts, pts);
}

GST_START_TEST (test_video_durations_offsets_and_sync)
{
  TrackCollector c (TrackInfo::Kind::kVideo, 1);
  bool changed = true;
  g_autoptr (GstCaps) caps = video_caps ();
  assert_str_eq (c.set_caps (caps, &changed), "");
  fail_unless (!changed);
  fail_unless_equals_int (c.info ().timescale, 90000);
  fail_unless_equals_int (c.info ().width, 320);
  fail_unless_equals_int (c.info ().codec_data.size (), 7);
  /* B-frames: I P B with pts ahead of dts */
  GstClockTime f = GST_SECOND / 30;
  assert_str_eq (push (c, 0, 2 * f, true), "");
  assert_str_eq (push (c, f, 4 * f, false), "");
  fail_unless_equals_int (c.ready ().size (), 1);
  assert_str_eq (push (c, 2 * f, 3 * f, false, f), "");
  c.finish ();
  auto s = c.take ();
  fail_unless_equals_int (s.size (), 3);
  fail_unless (s[0].sync && !s[1].sync && !s[2].sync);
  fail_unless_equals_int (s[0].duration, 3000);
  fail_unless_equals_int (s[1].duration, 3000);
  fail_unless_equals_int (s[2].duration, 3000);     /* its own buffer duration */
  fail_unless_equals_int (s[0].composition_offset, 6000);
  fail_unless_equals_int (s[1].composition_offset, 9000);
  fail_unless_equals_int (s[2].composition_offset, 3000);
  fail_unless_equals_uint64 (s[1].dts, 3000);
  fail_unless_equals_int (s[1].data.size (), 10);
  fail_unless_equals_int (s[1].data[0], 7);
  /* the same caps again: not a change; another codec_data: a change */
  assert_str_eq (c.set_caps (caps, &changed), "");
  fail_unless (!changed);
  g_autoptr (GstCaps) other = gst_caps_copy (caps);
  const guint8 avcc2[] = {1, 0x42, 0, 0x1e, 0xff, 0xe0, 0};
  g_autoptr (GstBuffer) cd = gst_buffer_new_memdup (avcc2, sizeof (avcc2));
  gst_caps_set_simple (other, "codec_data", GST_TYPE_BUFFER, cd, nullptr);
  assert_str_eq (c.set_caps (other, &changed), "");
  fail_unless (changed);
}
GST_END_TEST;

GST_START_TEST (test_audio_timescale_take_before_and_bounds)
{
  TrackCollector c (TrackInfo::Kind::kAudio, 2);
  const guint8 asc[] = {0x11, 0x90};
  g_autoptr (GstBuffer) cd = gst_buffer_new_memdup (asc, sizeof (asc));
  g_autoptr (GstCaps) caps = gst_caps_new_simple ("audio/mpeg", "mpegversion", G_TYPE_INT, 4,
      "stream-format", G_TYPE_STRING, "raw", "rate", G_TYPE_INT, 48000, "channels", G_TYPE_INT,
      2, "codec_data", GST_TYPE_BUFFER, cd, nullptr);
  bool changed = false;
  assert_str_eq (c.set_caps (caps, &changed), "");
  fail_unless_equals_int (c.info ().timescale, 48000);
  for (int i = 0; i < 10; i++) {
    GstClockTime t = gst_util_uint64_scale (i * 1024, GST_SECOND, 48000);
    assert_str_eq (push (c, t, t, false), "");   /* audio is always sync */
  }
  /* durations in ticks, exact: 1024 each */
  auto taken = c.take (gst_util_uint64_scale (3 * 1024, GST_SECOND, 48000));
  fail_unless_equals_int (taken.size (), 3);
  for (const auto & s : taken) {
    fail_unless (s.sync);
    fail_unless_equals_int (s.duration, 1024);
  }
  fail_unless_equals_uint64 (taken[2].dts, 2048);
  /* decode times never go back */
  assert_str_eq (push (c, 0, 0, true), "");
  /* at most the span asked waits */
  fail_unless (c.drop_older_than (2 * 1024 * GST_SECOND / 48000) > 0);
  fail_unless (c.ready ().back ().dts_ns - c.ready ().front ().dts_ns
      <= 2 * 1024 * GST_SECOND / 48000 + 1);
  /* no timestamps at all */
  assert_has (push (c, GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE, true), "without timestamps");
}
GST_END_TEST;

static Suite *
trackcollector_suite (void)
{
  Suite *s = suite_create ("trackcollector");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_video_durations_offsets_and_sync);
  tcase_add_test (tc, test_audio_timescale_take_before_and_bounds);
  return s;
}

GST_CHECK_MAIN (trackcollector);
