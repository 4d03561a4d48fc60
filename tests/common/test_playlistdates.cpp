/* PlaylistDates and running_time_to_unix_offset: the dated playlists
 * s3hlssink and the launcher's hlssink2 outputs share. */
#include "common/playlistdates.h"

#include "../assertions.h"

#include <gst/check/gstcheck.h>

#include <string>

using castline::common::PlaylistDates;
using castline::common::running_time_to_unix_offset;

/* running time 0 is 2026-12-01T08:00:00Z (in ns since 1970) */
static constexpr gint64 kOffset = G_GINT64_CONSTANT (1796112000) * GST_SECOND;

static const char kPlaylist[] = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:0\n"
    "#EXT-X-TARGETDURATION:2\n\n#EXTINF:2,\nsegment00000.ts\n";

GST_START_TEST (test_no_dates_until_the_offset_is_known)
{
  PlaylistDates dates;
  dates.segment_started (0);
  assert_str_eq (dates.rewrite (kPlaylist), kPlaylist);
  dates.set_offset (kOffset);
  assert_has (dates.rewrite (kPlaylist),
      "#EXT-X-PROGRAM-DATE-TIME:2026-12-01T08:00:00.000Z\n#EXTINF:2,\nsegment00000.ts\n");
}
GST_END_TEST;

GST_START_TEST (test_no_offset_without_a_clock)
{
  GstElement *pipeline = gst_pipeline_new (nullptr);
  fail_if (running_time_to_unix_offset (pipeline).has_value ());
  gst_object_unref (pipeline);
}
GST_END_TEST;

/* running time + offset is the real time now, within the time it takes
 * to ask */
GST_START_TEST (test_offset_maps_running_time_to_real_time)
{
  GstElement *pipeline = gst_parse_launch ("fakesrc ! fakesink", nullptr);
  fail_unless (pipeline);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  fail_unless (gst_element_get_state (pipeline, nullptr, nullptr, 5 * GST_SECOND)
      == GST_STATE_CHANGE_SUCCESS);

  std::optional<gint64> offset = running_time_to_unix_offset (pipeline);
  fail_unless (offset.has_value ());
  g_autoptr (GstClock) clock = gst_element_get_clock (pipeline);
  gint64 running = (gint64) (gst_clock_get_time (clock) - gst_element_get_base_time (pipeline));
  gint64 drift = running + *offset - g_get_real_time () * 1000;
  fail_unless (ABS (drift) < 100 * GST_MSECOND, "%" G_GINT64_FORMAT " ns off", drift);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}
GST_END_TEST;

static Suite *
playlistdates_suite (void)
{
  Suite *s = suite_create ("playlistdates");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_no_dates_until_the_offset_is_known);
  tcase_add_test (tc, test_no_offset_without_a_clock);
  tcase_add_test (tc, test_offset_maps_running_time_to_real_time);
  return s;
}

GST_CHECK_MAIN (playlistdates);
