/* TsHandoff: whole 188-byte packets out of SRT messages of any size, with
 * garbage before sync, packets split across messages, lost messages, and
 * input that is no MPEG-TS at all. */
#include "srt/tshandoff.h"

#include "tsdata.h"

#include "../assertions.h"

#include <gst/check/gstcheck.h>

#include <set>
#include <string>
#include <vector>

using namespace castline::srt;

/* data pushed in messages of the sizes given (cycled); the output */
static std::vector<uint8_t>
push_in_pieces (TsHandoff & h, const std::vector<uint8_t> & data, const std::vector<size_t> & sizes,
    size_t skip_every = 0)
{
  std::vector<uint8_t> out;
  size_t off = 0, i = 0;
  while (off < data.size ()) {
    size_t n = std::min (sizes[i % sizes.size ()], data.size () - off);
    i++;
    if (!skip_every || i % skip_every != 0)
      fail_unless (h.push (data.data () + off, n, out) == TsHandoff::Result::ok);
    off += n;
  }
  return out;
}

GST_START_TEST (test_whole_messages_pass_unchanged)
{
  auto ts = read_test_ts ("h264-aac.ts");
  fail_unless (ts.size () > 0 && ts.size () % kTsPacketSize == 0);
  TsHandoff h;
  auto out = push_in_pieces (h, ts, { 7 * kTsPacketSize });
  fail_unless (out == ts);
  fail_unless (h.synced ());
  fail_unless_equals_uint64 (h.packets (), ts.size () / kTsPacketSize);
  fail_unless_equals_uint64 (h.resyncs (), 0);
  fail_unless_equals_uint64 (h.dropped_bytes (), 0);
}
GST_END_TEST;

GST_START_TEST (test_split_packets_are_joined)
{
  auto ts = read_test_ts ("h264-opus.ts");
  TsHandoff h;
  auto out = push_in_pieces (h, ts, { 1, 7, 100, 187, 189, 1000, 188, 376, 3 });
  fail_unless (out == ts);
  fail_unless_equals_uint64 (h.resyncs (), 0);
  fail_unless_equals_uint64 (h.dropped_bytes (), 0);
}
GST_END_TEST;

GST_START_TEST (test_garbage_before_sync_is_dropped)
{
  auto ts = read_test_ts ("hevc-aac.ts");
  /* 1000 bytes with sync bytes in them, none 188 apart */
  std::vector<uint8_t> in;
  for (size_t i = 0; i < 1000; i++)
    in.push_back (i % 100 == 0 ? 0x47 : (uint8_t) (i * 7));
  in.insert (in.end (), ts.begin (), ts.end ());
  TsHandoff h;
  auto out = push_in_pieces (h, in, { 1316 });
  fail_unless (out == ts);
  fail_unless_equals_uint64 (h.dropped_bytes (), 1000);
  fail_unless_equals_uint64 (h.resyncs (), 0);
}
GST_END_TEST;

GST_START_TEST (test_lost_messages_resync)
{
  /* messages that do not end on packet boundaries, every fifth lost: only
   * whole packets of the original come out */
  auto ts = read_test_ts ("h264-aac.ts");
  std::set<std::vector<uint8_t>> originals;
  for (size_t off = 0; off < ts.size (); off += kTsPacketSize)
    originals.insert (std::vector<uint8_t> (ts.begin () + off, ts.begin () + off + kTsPacketSize));

  TsHandoff h;
  auto out = push_in_pieces (h, ts, { 1000 }, 5);
  fail_unless (out.size () % kTsPacketSize == 0);
  for (size_t off = 0; off < out.size (); off += kTsPacketSize) {
    std::vector<uint8_t> p (out.begin () + off, out.begin () + off + kTsPacketSize);
    fail_unless (originals.count (p) == 1, "packet %zu is not one sent", off / kTsPacketSize);
  }
  fail_unless (h.resyncs () > 0);
  fail_unless (h.dropped_bytes () > 0);
  /* four of five messages arrive: most of their packets come out */
  fail_unless (out.size () > ts.size () / 2, "only %zu of %zu bytes", out.size (), ts.size ());
}
GST_END_TEST;

GST_START_TEST (test_not_ts_is_final)
{
  /* 70 KB of text has no sync byte at all */
  std::string text;
  while (text.size () < 70 * 1024)
    text += "GET / HTTP/1.1 this is not an MPEG transport stream. ";
  TsHandoff h;
  std::vector<uint8_t> out;
  TsHandoff::Result r = TsHandoff::Result::ok;
  for (size_t off = 0; off < text.size () && r == TsHandoff::Result::ok; off += 1316)
    r = h.push ((const uint8_t *) text.data () + off, std::min<size_t> (1316, text.size () - off), out);
  fail_unless (r == TsHandoff::Result::not_ts);
  fail_unless (out.empty ());
  fail_if (h.synced ());

  /* real TS after it does not bring it back */
  auto ts = read_test_ts ("aac-only.ts");
  fail_unless (h.push (ts.data (), ts.size (), out) == TsHandoff::Result::not_ts);
  fail_unless (out.empty ());
}
GST_END_TEST;

GST_START_TEST (test_not_ts_with_sync_bytes_scattered)
{
  /* a pseudo-random stream (many 0x47, never 188 apart twice in a row)
   * is refused within the bound too */
  std::vector<uint8_t> noise (200 * 1024);
  guint32 x = 12345;
  for (auto & b : noise) {
    x = x * 1103515245u + 12345u;
    b = (uint8_t) (x >> 16);
  }
  TsHandoff h (16 * 1024);
  std::vector<uint8_t> out;
  size_t off = 0;
  TsHandoff::Result r = TsHandoff::Result::ok;
  for (; off < noise.size () && r == TsHandoff::Result::ok; off += 1316)
    r = h.push (noise.data () + off, std::min<size_t> (1316, noise.size () - off), out);
  fail_unless (r == TsHandoff::Result::not_ts);
  fail_unless (off <= 16 * 1024 + 2 * 1316 + 376 * 4, "not_ts only after %zu bytes", off);
}
GST_END_TEST;

GST_START_TEST (test_garbage_after_sync_counts_resyncs)
{
  /* sync, then 10 KB of junk in the middle, then TS again: the junk is
   * dropped, the TS after it comes out whole */
  auto ts = read_test_ts ("aac-only.ts");
  size_t half = (ts.size () / kTsPacketSize / 2) * kTsPacketSize;
  std::vector<uint8_t> in (ts.begin (), ts.begin () + half);
  in.insert (in.end (), 10 * 1024, 0x00);
  in.insert (in.end (), ts.begin () + half, ts.end ());
  TsHandoff h;
  auto out = push_in_pieces (h, in, { 1316 });
  fail_unless (out == ts);
  fail_unless_equals_uint64 (h.resyncs (), 1);
  fail_unless_equals_uint64 (h.dropped_bytes (), 10 * 1024);
}
GST_END_TEST;

static Suite *
tshandoff_suite (void)
{
  Suite *s = suite_create ("tshandoff");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_whole_messages_pass_unchanged);
  tcase_add_test (tc, test_split_packets_are_joined);
  tcase_add_test (tc, test_garbage_before_sync_is_dropped);
  tcase_add_test (tc, test_lost_messages_resync);
  tcase_add_test (tc, test_not_ts_is_final);
  tcase_add_test (tc, test_not_ts_with_sync_bytes_scattered);
  tcase_add_test (tc, test_garbage_after_sync_counts_resyncs);
  return s;
}

GST_CHECK_MAIN (tshandoff);
