/* ProgramDateTimeWriter: EXT-X-PROGRAM-DATE-TIME added to hlssink2's
 * playlists, segments matched by sequence number. */
#include "common/programdatetime.h"

#include "../assertions.h"

#include <gst/check/gstcheck.h>

#include <string>

using castline::common::ProgramDateTimeWriter;

/* running time 0 is 2026-12-01T08:00:00Z (in ns since 1970) */
static constexpr gint64 kOffset = G_GINT64_CONSTANT (1796112000) * GST_SECOND;
static constexpr gint64 kT0 = G_GINT64_CONSTANT (1796112000) * G_USEC_PER_SEC;

static std::string
playlist (unsigned first, unsigned count, bool end = false)
{
  std::string p = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:" + std::to_string (first)
      + "\n#EXT-X-TARGETDURATION:2\n\n";
  for (unsigned i = first; i < first + count; i++) {
    g_autofree gchar *name = g_strdup_printf ("segment%05u.ts", i);
    p += "#EXTINF:2,\n" + std::string (name) + "\n";
  }
  if (end)
    p += "#EXT-X-ENDLIST";          /* hlssink2: no newline after it */
  return p;
}

GST_START_TEST (test_formats_utc_with_milliseconds)
{
  assert_str_eq (ProgramDateTimeWriter::format (kT0 + 123456),
      "2026-12-01T08:00:00.123Z");
  assert_str_eq (ProgramDateTimeWriter::format (0), "1970-01-01T00:00:00.000Z");
}
GST_END_TEST;

GST_START_TEST (test_a_date_before_each_known_segment)
{
  ProgramDateTimeWriter w;
  w.segment_started (0);
  w.segment_started (2 * GST_SECOND);
  w.segment_started (4 * GST_SECOND);   /* open: not in the playlist yet */
  std::string out = w.rewrite (playlist (0, 2), kOffset);
  assert_str_eq (out,
      "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-TARGETDURATION:2\n\n"
      "#EXT-X-PROGRAM-DATE-TIME:2026-12-01T08:00:00.000Z\n#EXTINF:2,\nsegment00000.ts\n"
      "#EXT-X-PROGRAM-DATE-TIME:2026-12-01T08:00:02.000Z\n#EXTINF:2,\nsegment00001.ts\n");
  /* the offset is the caller's at each rewrite: starts noted before it
   * was known (before PLAYING) get dated too */
  assert_has (w.rewrite (playlist (0, 1), kOffset + GST_SECOND / 2),
      "#EXT-X-PROGRAM-DATE-TIME:2026-12-01T08:00:00.500Z\n#EXTINF:2,\nsegment00000.ts");
}
GST_END_TEST;

GST_START_TEST (test_rolling_window_matches_by_sequence_and_forgets)
{
  ProgramDateTimeWriter w;
  for (int i = 0; i < 8; i++)
    w.segment_started (i * 2 * GST_SECOND);
  /* segments 5..7 named: their dates, not those of 0..2 */
  std::string out = w.rewrite (playlist (5, 3, true), kOffset);
  assert_has (out, "#EXT-X-PROGRAM-DATE-TIME:2026-12-01T08:00:10.000Z\n#EXTINF:2,\nsegment00005.ts");
  assert_has (out, "#EXT-X-PROGRAM-DATE-TIME:2026-12-01T08:00:14.000Z\n#EXTINF:2,\nsegment00007.ts");
  assert_lacks (out, "08:00:08");
  /* the final playlist keeps ending without a newline */
  fail_unless (g_str_has_suffix (out.c_str (), "segment00007.ts\n#EXT-X-ENDLIST"), "%s",
      out.c_str ());
  /* what the playlist no longer names is forgotten */
  fail_unless_equals_uint64 (w.known (), 3);
}
GST_END_TEST;

GST_START_TEST (test_unknown_segments_get_no_date_and_old_dates_are_replaced)
{
  ProgramDateTimeWriter w;
  std::string plain = playlist (0, 2);
  assert_str_eq (w.rewrite (plain, kOffset), plain.c_str ());
  w.segment_started (0);
  std::string once = w.rewrite (plain, kOffset);
  /* rewriting its own output gives the same, not a second date */
  assert_str_eq (w.rewrite (once, kOffset), once.c_str ());
  assert_has (once, "08:00:00.000Z\n#EXTINF:2,\nsegment00000.ts\n#EXTINF");
}
GST_END_TEST;

/* a fragment opened before any buffer (a stream that ends at once) has no
 * valid running time: no date for it, and the next ones keep theirs */
GST_START_TEST (test_invalid_running_time_gets_no_date)
{
  ProgramDateTimeWriter w;
  w.segment_started ((guint64) G_MININT64);      /* GST_CLOCK_STIME_NONE, read as unsigned */
  w.segment_started (2 * GST_SECOND);
  w.segment_started (G_MAXUINT64);               /* GST_CLOCK_TIME_NONE */
  std::string out = w.rewrite (playlist (0, 3), kOffset);
  assert_has (out, "segment00000.ts\n"
      "#EXT-X-PROGRAM-DATE-TIME:2026-12-01T08:00:02.000Z\n#EXTINF:2,\nsegment00001.ts\n"
      "#EXTINF:2,\nsegment00002.ts");
  assert_lacks (out.substr (0, out.find ("segment00000.ts")), "PROGRAM-DATE-TIME");
  /* a date before 1970 is no date either */
  assert_lacks (w.rewrite (playlist (0, 3), -kOffset), "PROGRAM-DATE-TIME");
  assert_str_eq (ProgramDateTimeWriter::format (-1500), "");
}
GST_END_TEST;

static Suite *
programdatetime_suite (void)
{
  Suite *s = suite_create ("programdatetime");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_formats_utc_with_milliseconds);
  tcase_add_test (tc, test_a_date_before_each_known_segment);
  tcase_add_test (tc, test_rolling_window_matches_by_sequence_and_forgets);
  tcase_add_test (tc, test_invalid_running_time_gets_no_date);
  tcase_add_test (tc, test_unknown_segments_get_no_date_and_old_dates_are_replaced);
  return s;
}

GST_CHECK_MAIN (programdatetime);
