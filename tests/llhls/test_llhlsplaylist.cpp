/* LlHlsPlaylist: the LL-HLS media playlist, full and delta. */
#include "llhls/llhlsplaylist.h"

#include "../assertions.h"

#include <gst/check/gstcheck.h>

#include <string>

using castline::llhls::LlHlsPlaylist;

static constexpr GstClockTime kPart = 300 * GST_MSECOND;

static std::string
seg_uri (guint64 msn)
{
  g_autofree gchar *s = g_strdup_printf ("segment%05" G_GUINT64_FORMAT ".m4s", msn);
  return s;
}

static std::string
part_uri (guint64 msn, guint part)
{
  g_autofree gchar *s = g_strdup_printf ("segment%05" G_GUINT64_FORMAT ".%u.m4s", msn, part);
  return s;
}

static LlHlsPlaylist
make (guint length = 6)
{
  LlHlsPlaylist::Config c;
  c.target_duration = 2 * GST_SECOND;
  c.part_target = kPart;
  c.playlist_length = length;
  c.part_uri = part_uri;
  return LlHlsPlaylist (c);
}

/* a segment of `parts` parts of 0.3 s (its first independent) */
static void
add_segment (LlHlsPlaylist & p, int parts, bool complete = true,
    GstClockTime last = kPart)
{
  guint64 msn = p.begin_segment (seg_uri (p.segments ().empty () ? 0
          : p.segments ().back ().msn + 1), "init.mp4", false,
      GST_CLOCK_TIME_NONE);
  for (int i = 0; i < parts; i++)
    p.add_part (i == parts - 1 ? last : kPart, part_uri (msn, i), i == 0);
  if (complete)
    p.end_segment ();
}

GST_START_TEST (test_header_and_first_parts)
{
  auto p = make ();
  add_segment (p, 2, false);
  assert_str_eq (*p.render (false),
      "#EXTM3U\n"
      "#EXT-X-VERSION:9\n"
      "#EXT-X-TARGETDURATION:2\n"
      "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.9,CAN-SKIP-UNTIL=12\n"
      "#EXT-X-PART-INF:PART-TARGET=0.3\n"
      "#EXT-X-MEDIA-SEQUENCE:0\n"
      "#EXT-X-MAP:URI=\"init.mp4\"\n"
      "#EXT-X-PART:DURATION=0.3,URI=\"segment00000.0.m4s\",INDEPENDENT=YES\n"
      "#EXT-X-PART:DURATION=0.3,URI=\"segment00000.1.m4s\"\n"
      "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"segment00000.2.m4s\"\n");
}
GST_END_TEST;

GST_START_TEST (test_complete_segment_sums_its_parts_and_hints_next_segment)
{
  auto p = make ();
  add_segment (p, 7, true, 200 * GST_MSECOND);   /* 6 x 0.3 + 0.2 = 2.0 */
  std::string out = *p.render (false);
  assert_has (out, "#EXT-X-PART:DURATION=0.2,URI=\"segment00000.6.m4s\"\n"
      "#EXTINF:2,\nsegment00000.m4s\n"
      "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"segment00001.0.m4s\"\n");
}
GST_END_TEST;

GST_START_TEST (test_window_media_sequence_and_trim)
{
  auto p = make (4);
  for (int i = 0; i < 6; i++)
    add_segment (p, 7, true, 200 * GST_MSECOND);
  auto gone = p.trim ();
  fail_unless_equals_int (gone.size (), 2);
  fail_unless_equals_uint64 (gone[0].msn, 0);
  fail_unless_equals_uint64 (gone[1].msn, 1);
  add_segment (p, 3, false);     /* the open one does not count */
  fail_unless_equals_int (p.trim ().size (), 0);
  std::string out = *p.render (false);
  assert_has (out, "#EXT-X-MEDIA-SEQUENCE:2\n");
  assert_lacks (out, "segment00001.m4s");
  assert_has (out, "#EXTINF:2,\nsegment00002.m4s\n");
  /* parts only for the segments ending within three target durations
   * (6 s) of the end, and the open one: of 8.9 s, segment 2 ends 6.9 s
   * before the end, segment 3 4.9 s before */
  assert_lacks (out, "segment00002.0.m4s");
  assert_has (out, "#EXT-X-PART:DURATION=0.3,URI=\"segment00003.0.m4s\",INDEPENDENT=YES\n");
  assert_has (out, "segment00006.2.m4s\"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"segment00006.3.m4s\"\n");
}
GST_END_TEST;

GST_START_TEST (test_delta_skips_segments_before_can_skip_until)
{
  auto p = make (10);
  fail_unless (!p.render (true).has_value ());
  for (int i = 0; i < 6; i++)
    add_segment (p, 7, true, 200 * GST_MSECOND);
  /* 12 s in all: segment 0 ends 10 s before the end, less than 12 s */
  fail_unless_equals_int (p.skippable (), 0);
  fail_unless (!p.render (true).has_value ());
  for (int i = 0; i < 3; i++)
    add_segment (p, 7, true, 200 * GST_MSECOND);
  add_segment (p, 1, false);
  /* 18.3 s: segments 0..2 end at least 12 s before the end (at 6 s,
   * 12.3 s before); segment 3 ends 10.3 s before */
  fail_unless_equals_int (p.skippable (), 3);
  std::string delta = *p.render (true);
  assert_has (delta, "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n"
      "#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:2,\nsegment00003.m4s\n");
  assert_lacks (delta, "segment00002.m4s");
  std::string full = *p.render (false);
  assert_has (full, "segment00000.m4s");
  assert_lacks (full, "EXT-X-SKIP");
}
GST_END_TEST;

GST_START_TEST (test_endlist_replaces_the_preload_hint)
{
  auto p = make ();
  add_segment (p, 2, true);
  p.end ();
  std::string out = *p.render (false);
  fail_unless (g_str_has_suffix (out.c_str (), "#EXTINF:0.6,\nsegment00000.m4s\n#EXT-X-ENDLIST\n"),
      "%s", out.c_str ());
  assert_lacks (out, "PRELOAD-HINT");
}
GST_END_TEST;

GST_START_TEST (test_target_duration_covers_the_longest_segment)
{
  auto p = make ();
  add_segment (p, 7, true, 200 * GST_MSECOND);      /* 2.0 */
  assert_has (*p.render (false), "#EXT-X-TARGETDURATION:2\n");
  add_segment (p, 9, true, 200 * GST_MSECOND);      /* 2.6: rounds to 3 */
  assert_has (*p.render (false), "#EXT-X-TARGETDURATION:3\n");
  /* and it never shrinks, not even once that segment has left */
  auto q = make (1);
  add_segment (q, 9, true, 200 * GST_MSECOND);
  add_segment (q, 2, true);
  q.trim ();
  assert_has (*q.render (false), "#EXT-X-TARGETDURATION:3\n");
  /* 2.4 rounds to 2 */
  auto r = make ();
  add_segment (r, 8, true);
  assert_has (*r.render (false), "#EXT-X-TARGETDURATION:2\n#EXT-X-SERVER-CONTROL:"
      "CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.9,CAN-SKIP-UNTIL=12\n");
}
GST_END_TEST;

GST_START_TEST (test_dates_discontinuity_and_new_map)
{
  auto p = make ();
  p.begin_segment ("a.m4s", "init.mp4", false, 0);
  p.add_part (kPart, "a.0.m4s", true);
  p.end_segment ();
  p.begin_segment ("b.m4s", "init1.mp4", true, 300 * GST_MSECOND);
  p.add_part (kPart, "b.0.m4s", true);
  /* running time 0 is 2026-12-01T08:00:00Z */
  std::string out = *p.render (false, G_GINT64_CONSTANT (1796112000) * GST_SECOND);
  assert_has (out, "#EXT-X-MAP:URI=\"init.mp4\"\n"
      "#EXT-X-PROGRAM-DATE-TIME:2026-12-01T08:00:00.000Z\n"
      "#EXT-X-PART:DURATION=0.3,URI=\"a.0.m4s\",INDEPENDENT=YES\n#EXTINF:0.3,\na.m4s\n"
      "#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init1.mp4\"\n"
      "#EXT-X-PROGRAM-DATE-TIME:2026-12-01T08:00:00.300Z\n"
      "#EXT-X-PART:DURATION=0.3,URI=\"b.0.m4s\",INDEPENDENT=YES\n");
  assert_lacks (*p.render (false), "PROGRAM-DATE-TIME");
}
GST_END_TEST;

GST_START_TEST (test_seconds_formatting)
{
  assert_str_eq (LlHlsPlaylist::seconds (2 * GST_SECOND), "2");
  assert_str_eq (LlHlsPlaylist::seconds (299999997), "0.3");
  assert_str_eq (LlHlsPlaylist::seconds (1966666666), "1.967");
  assert_str_eq (LlHlsPlaylist::seconds (50 * GST_MSECOND), "0.05");
  assert_str_eq (LlHlsPlaylist::seconds (123450 * GST_USECOND, 5), "0.12345");
}
GST_END_TEST;

static Suite *
llhlsplaylist_suite (void)
{
  Suite *s = suite_create ("llhlsplaylist");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_header_and_first_parts);
  tcase_add_test (tc, test_complete_segment_sums_its_parts_and_hints_next_segment);
  tcase_add_test (tc, test_window_media_sequence_and_trim);
  tcase_add_test (tc, test_delta_skips_segments_before_can_skip_until);
  tcase_add_test (tc, test_endlist_replaces_the_preload_hint);
  tcase_add_test (tc, test_target_duration_covers_the_longest_segment);
  tcase_add_test (tc, test_dates_discontinuity_and_new_map);
  tcase_add_test (tc, test_seconds_formatting);
  return s;
}

GST_CHECK_MAIN (llhlsplaylist);
