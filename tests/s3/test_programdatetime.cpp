/* ProgramDateTimeWriter: EXT-X-PROGRAM-DATE-TIME added to hlssink2's
 * playlists, segments matched by sequence number. */
#include "s3/programdatetime.h"
#include "../assertstrings.h"

#include <glib.h>

#define GST_SECOND_NS G_GINT64_CONSTANT (1000000000)

#include <cstring>
#include <string>

using castline::s3::ProgramDateTimeWriter;


namespace {

/* running time 0 is 2026-12-01T08:00:00Z (in ns since 1970) */
constexpr gint64 kOffset = G_GINT64_CONSTANT (1796112000) * GST_SECOND_NS;
constexpr gint64 kT0 = G_GINT64_CONSTANT (1796112000) * G_USEC_PER_SEC;

std::string
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

void
test_formats_utc_with_milliseconds ()
{
  assert_str_eq (ProgramDateTimeWriter::format (kT0 + 123456),
      "2026-12-01T08:00:00.123Z");
  assert_str_eq (ProgramDateTimeWriter::format (0), "1970-01-01T00:00:00.000Z");
}

void
test_a_date_before_each_known_segment ()
{
  ProgramDateTimeWriter w;
  w.segment_started (0);
  w.segment_started (2 * GST_SECOND_NS);
  w.segment_started (4 * GST_SECOND_NS);   /* open: not in the playlist yet */
  std::string out = w.rewrite (playlist (0, 2), kOffset);
  assert_str_eq (out,
      "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-TARGETDURATION:2\n\n"
      "#EXT-X-PROGRAM-DATE-TIME:2026-12-01T08:00:00.000Z\n#EXTINF:2,\nsegment00000.ts\n"
      "#EXT-X-PROGRAM-DATE-TIME:2026-12-01T08:00:02.000Z\n#EXTINF:2,\nsegment00001.ts\n");
  /* the offset is the caller's at each rewrite: starts noted before it
   * was known (before PLAYING) get dated too */
  assert_has (w.rewrite (playlist (0, 1), kOffset + GST_SECOND_NS / 2),
      "#EXT-X-PROGRAM-DATE-TIME:2026-12-01T08:00:00.500Z\n#EXTINF:2,\nsegment00000.ts");
}

void
test_rolling_window_matches_by_sequence_and_forgets ()
{
  ProgramDateTimeWriter w;
  for (int i = 0; i < 8; i++)
    w.segment_started (i * 2 * GST_SECOND_NS);
  /* segments 5..7 named: their dates, not those of 0..2 */
  std::string out = w.rewrite (playlist (5, 3, true), kOffset);
  assert_has (out, "#EXT-X-PROGRAM-DATE-TIME:2026-12-01T08:00:10.000Z\n#EXTINF:2,\nsegment00005.ts");
  assert_has (out, "#EXT-X-PROGRAM-DATE-TIME:2026-12-01T08:00:14.000Z\n#EXTINF:2,\nsegment00007.ts");
  assert_lacks (out, "08:00:08");
  /* the final playlist keeps ending without a newline */
  g_assert_true (g_str_has_suffix (out.c_str (), "segment00007.ts\n#EXT-X-ENDLIST"));
  /* what the playlist no longer names is forgotten */
  g_assert_cmpuint (w.known (), ==, 3);
}

void
test_unknown_segments_get_no_date_and_old_dates_are_replaced ()
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

/* a fragment opened before any buffer (a stream that ends at once) has no
 * valid running time: no date for it, and the next ones keep theirs */
void
test_invalid_running_time_gets_no_date ()
{
  ProgramDateTimeWriter w;
  w.segment_started ((guint64) G_MININT64);      /* GST_CLOCK_STIME_NONE, read as unsigned */
  w.segment_started (2 * GST_SECOND_NS);
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

}  // namespace

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, nullptr);
  g_test_add_func ("/programdatetime/format", test_formats_utc_with_milliseconds);
  g_test_add_func ("/programdatetime/each-segment", test_a_date_before_each_known_segment);
  g_test_add_func ("/programdatetime/rolling", test_rolling_window_matches_by_sequence_and_forgets);
  g_test_add_func ("/programdatetime/invalid-running-time", test_invalid_running_time_gets_no_date);
  g_test_add_func ("/programdatetime/unknown-and-replaced",
      test_unknown_segments_get_no_date_and_old_dates_are_replaced);
  return g_test_run ();
}
