/* llhlssink's CMAF box writer: codec strings. */
#include "llhls/fmp4writer.h"

#include <gst/check/gstcheck.h>

using namespace castline::llhls;

static TrackInfo
track (TrackInfo::Kind kind, std::vector<guint8> codec_data)
{
  TrackInfo t;
  t.kind = kind;
  t.codec_data = std::move (codec_data);
  return t;
}

GST_START_TEST (test_codec_string)
{
  const auto V = TrackInfo::Kind::kVideo;
  const auto A = TrackInfo::Kind::kAudio;
  fail_unless_equals_string (codec_string (track (V, { 1, 0x64, 0x00, 0x1f, 0xff })).c_str (),
      "avc1.64001f");
  fail_unless_equals_string (codec_string (track (V, { 1, 0x42, 0xc0, 0x1e })).c_str (),
      "avc1.42c01e");
  fail_unless_equals_string (codec_string (track (V, { 1, 0x64, 0x00 })).c_str (), "");
  fail_unless_equals_string (codec_string (track (V, { 0, 0x64, 0x00, 0x1f })).c_str (), "");
  fail_unless_equals_string (codec_string (track (V, { })).c_str (), "");
  fail_unless_equals_string (codec_string (track (A, { 0x12, 0x10 })).c_str (), "mp4a.40.2");
  fail_unless_equals_string (codec_string (track (A, { 0x2b, 0x92 })).c_str (), "mp4a.40.5");
  /* 31: escape, 6 more bits: 32 + 10 = 42 (USAC) */
  fail_unless_equals_string (codec_string (track (A, { 0xf9, 0x40 })).c_str (), "mp4a.40.42");
  fail_unless_equals_string (codec_string (track (A, { 0xf9 })).c_str (), "");
  fail_unless_equals_string (codec_string (track (A, { 0x00, 0x10 })).c_str (), "");
  fail_unless_equals_string (codec_string (track (A, { })).c_str (), "");
}
GST_END_TEST;

static Suite *
fmp4writer_suite ()
{
  Suite *s = suite_create ("fmp4writer");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_codec_string);
  return s;
}

GST_CHECK_MAIN (fmp4writer);
