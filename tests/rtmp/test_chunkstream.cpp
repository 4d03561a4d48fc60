/* The chunk stream, from bytes written out by hand: the basic header
 * sizes, the four message header types, extended timestamps (with and
 * without the repeat on type 3 chunks), Set Chunk Size mid-message,
 * interleaved chunk streams, Abort, the limits, and the writer. */
#include "rtmp/chunkstream.h"

#include "../assertions.h"

#include <gst/check/gstcheck.h>

#include <string>
#include <vector>

using namespace castline::rtmp;

static std::string
u24 (uint32_t v)
{
  return std::string ({(char) (v >> 16), (char) (v >> 8), (char) v});
}

static std::string
u32 (uint32_t v)
{
  return std::string ({(char) (v >> 24), (char) (v >> 16), (char) (v >> 8), (char) v});
}

static std::string
basic (int fmt, uint32_t csid)
{
  if (csid < 64)
    return std::string (1, (char) ((fmt << 6) | csid));
  if (csid < 320)
    return std::string ({(char) (fmt << 6), (char) (csid - 64)});
  return std::string ({(char) ((fmt << 6) | 1), (char) ((csid - 64) & 0xff),
      (char) ((csid - 64) >> 8)});
}

static std::string
type0 (uint32_t csid, uint32_t ts, uint32_t len, uint8_t type, uint32_t stream)
{
  return basic (0, csid) + u24 (ts) + u24 (len) + std::string (1, (char) type)
      + std::string ({(char) stream, (char) (stream >> 8), (char) (stream >> 16),
          (char) (stream >> 24)});
}

static std::string
type1 (uint32_t csid, uint32_t delta, uint32_t len, uint8_t type)
{
  return basic (1, csid) + u24 (delta) + u24 (len) + std::string (1, (char) type);
}

static std::string
type2 (uint32_t csid, uint32_t delta)
{
  return basic (2, csid) + u24 (delta);
}

static std::string
set_chunk_size (uint32_t size)
{
  return type0 (2, 0, 4, kMsgSetChunkSize, 0) + u32 (size);
}

struct Reading {
  ChunkReader reader;
  std::string pending;
  std::vector<RtmpMessage> messages;

  explicit Reading (Limits l = {}) : reader (l) {}

  /* feeds bytes; the status of the last read */
  ChunkReader::Status feed (const std::string & bytes)
  {
    pending += bytes;
    for (;;) {
      RtmpMessage m;
      size_t used = 0;
      auto st = reader.read ((const uint8_t *) pending.data (), pending.size (), &used, m);
      pending.erase (0, used);
      if (st != ChunkReader::Status::Message)
        return st;
      messages.push_back (std::move (m));
    }
  }
};

GST_START_TEST (test_header_types)
{
  Reading r;
  std::string a (10, 'a'), b (20, 'b'), c (20, 'c'), d (20, 'd');
  std::string bytes = type0 (4, 1000, 10, kMsgAudio, 1) + a
      + type1 (4, 40, 20, kMsgVideo) + b      /* new length and type, delta 40 */
      + type2 (4, 20) + c                     /* same length and type, delta 20 */
      + basic (3, 4) + d;                     /* all as before: delta 20 again */
  fail_unless (r.feed (bytes) == ChunkReader::Status::NeedMore);
  fail_unless_equals_int (r.messages.size (), 4);
  uint32_t want_ts[] = {1000, 1040, 1060, 1080};
  uint8_t want_type[] = {kMsgAudio, kMsgVideo, kMsgVideo, kMsgVideo};
  std::string want_payload[] = {a, b, c, d};
  for (int i = 0; i < 4; i++) {
    fail_unless_equals_int (r.messages[i].timestamp, want_ts[i]);
    fail_unless_equals_int (r.messages[i].type, want_type[i]);
    fail_unless_equals_int (r.messages[i].stream_id, 1);
    fail_unless_equals_int (r.messages[i].csid, 4);
    assert_str_eq (r.messages[i].payload, want_payload[i]);
  }
  fail_unless (r.pending.empty ());
}
GST_END_TEST;

GST_START_TEST (test_type3_after_type0_repeats_its_timestamp)
{
  /* the timestamp of a type 0 header is the delta a type 3 repeats (as
   * ffmpeg and SRS read it) */
  Reading r;
  r.feed (type0 (5, 100, 1, kMsgAudio, 1) + "x" + basic (3, 5) + "y");
  fail_unless_equals_int (r.messages.size (), 2);
  fail_unless_equals_int (r.messages[1].timestamp, 200);
}
GST_END_TEST;

GST_START_TEST (test_basic_header_sizes)
{
  Reading r;
  r.feed (type0 (63, 0, 1, kMsgAudio, 1) + "a" + type0 (64 + 200, 0, 1, kMsgAudio, 1) + "b"
      + type0 (64 + 5000, 0, 1, kMsgAudio, 1) + "c" + type0 (65599, 0, 1, kMsgAudio, 1) + "d");
  fail_unless_equals_int (r.messages.size (), 4);
  fail_unless_equals_int (r.messages[0].csid, 63);
  fail_unless_equals_int (r.messages[1].csid, 264);
  fail_unless_equals_int (r.messages[2].csid, 5064);
  fail_unless_equals_int (r.messages[3].csid, 65599);
}
GST_END_TEST;

GST_START_TEST (test_message_in_chunks)
{
  Reading r;
  std::string payload (300, 'p');
  for (size_t i = 0; i < payload.size (); i++)
    payload[i] = (char) i;
  std::string bytes = type0 (6, 7, 300, kMsgVideo, 1) + payload.substr (0, 128) + basic (3, 6)
      + payload.substr (128, 128) + basic (3, 6) + payload.substr (256);
  /* byte by byte: one message, at the end */
  for (size_t i = 0; i < bytes.size (); i++) {
    r.feed (bytes.substr (i, 1));
    fail_unless_equals_int (r.messages.size (), i == bytes.size () - 1 ? 1 : 0);
  }
  assert_str_eq (r.messages[0].payload, payload);
  fail_unless_equals_int (r.reader.buffered (), 0);
}
GST_END_TEST;

GST_START_TEST (test_extended_timestamps)
{
  const uint32_t big = 0x01020304;
  std::string payload (200, 'e');
  /* repeated on the continuation chunk (ffmpeg, librtmp) */
  Reading with;
  with.feed (type0 (4, 0xffffff, 200, kMsgVideo, 1) + u32 (big) + payload.substr (0, 128)
      + basic (3, 4) + u32 (big) + payload.substr (128));
  fail_unless_equals_int (with.messages.size (), 1);
  fail_unless_equals_int (with.messages[0].timestamp, big);
  assert_str_eq (with.messages[0].payload, payload);

  /* not repeated (some other peers) */
  Reading without;
  without.feed (type0 (4, 0xffffff, 200, kMsgVideo, 1) + u32 (big) + payload.substr (0, 128)
      + basic (3, 4) + payload.substr (128));
  fail_unless_equals_int (without.messages.size (), 1);
  assert_str_eq (without.messages[0].payload, payload);

  /* a type 3 header starting a message carries a new extended delta; a
   * type 1 with an extended delta */
  Reading next;
  next.feed (type0 (4, 0xffffff, 1, kMsgVideo, 1) + u32 (big) + "a" + basic (3, 4) + u32 (big)
      + "b" + type1 (4, 0xffffff, 1, kMsgVideo) + u32 (0x01000000) + "c"
      + type2 (4, 5) + "d");
  fail_unless_equals_int (next.messages.size (), 4);
  fail_unless_equals_int (next.messages[1].timestamp, 2 * big);
  fail_unless_equals_int (next.messages[2].timestamp, 2 * big + 0x01000000);
  fail_unless_equals_int (next.messages[3].timestamp, 2 * big + 0x01000000 + 5);

  /* timestamps wrap at 32 bits */
  Reading wrap;
  wrap.feed (type0 (4, 0xffffff, 1, kMsgVideo, 1) + u32 (0xfffffff0) + "a" + type2 (4, 0x20) + "b");
  fail_unless_equals_int (wrap.messages[1].timestamp, 0x10);
}
GST_END_TEST;

GST_START_TEST (test_chunk_size_change_mid_message)
{
  Reading r;
  std::string payload (1000, 'm');
  payload[999] = 'z';
  /* 128 bytes of a message on chunk stream 4, then Set Chunk Size 4096 on
   * chunk stream 2, then the rest of the message in one chunk */
  fail_unless (r.feed (type0 (4, 0, 1000, kMsgVideo, 1) + payload.substr (0, 128)
      + set_chunk_size (4096) + basic (3, 4) + payload.substr (128))
      == ChunkReader::Status::NeedMore);
  fail_unless_equals_int (r.reader.chunk_size (), 4096);
  fail_unless_equals_int (r.messages.size (), 1);
  assert_str_eq (r.messages[0].payload, payload);
}
GST_END_TEST;

GST_START_TEST (test_interleaved_chunk_streams)
{
  Reading r;
  std::string a (200, 'a'), v (200, 'v');
  r.feed (type0 (4, 10, 200, kMsgAudio, 1) + a.substr (0, 128) + type0 (6, 20, 200, kMsgVideo, 1)
      + v.substr (0, 128) + basic (3, 4) + a.substr (128) + basic (3, 6) + v.substr (128));
  fail_unless_equals_int (r.messages.size (), 2);
  fail_unless_equals_int (r.messages[0].csid, 4);
  assert_str_eq (r.messages[0].payload, a);
  fail_unless_equals_int (r.messages[0].timestamp, 10);
  fail_unless_equals_int (r.messages[1].csid, 6);
  assert_str_eq (r.messages[1].payload, v);
  fail_unless_equals_int (r.messages[1].timestamp, 20);
}
GST_END_TEST;

GST_START_TEST (test_abort)
{
  Reading r;
  r.feed (type0 (4, 0, 300, kMsgVideo, 1) + std::string (128, 'x'));
  fail_unless_equals_int (r.reader.buffered (), 128);
  r.feed (type0 (2, 0, 4, kMsgAbort, 0) + u32 (4));
  fail_unless_equals_int (r.reader.buffered (), 0);
  /* chunk stream 4 takes a new message at once */
  fail_unless (r.feed (type0 (4, 0, 2, kMsgVideo, 1) + "ok") == ChunkReader::Status::NeedMore);
  fail_unless_equals_int (r.messages.size (), 1);
  assert_str_eq (r.messages[0].payload, "ok");
  /* aborting a chunk stream that is idle or unknown does nothing */
  fail_unless (r.feed (type0 (2, 0, 4, kMsgAbort, 0) + u32 (77)) == ChunkReader::Status::NeedMore);
}
GST_END_TEST;

static void
expect_error (Reading & r, const std::string & bytes, const std::string & words)
{
  fail_unless (r.feed (bytes) == ChunkReader::Status::Error, "no error for: %s", words.c_str ());
  assert_has (r.reader.error (), words);
  /* and nothing more after */
  fail_unless (r.feed (type0 (4, 0, 1, kMsgAudio, 1) + "a") == ChunkReader::Status::Error);
}

GST_START_TEST (test_limits)
{
  Limits l;
  l.max_message_size = 1000;
  l.max_chunk_size = 65536;
  l.max_chunk_streams = 3;
  l.max_buffered = 2000;
  {
    Reading r (l);
    expect_error (r, type0 (4, 0, 1001, kMsgVideo, 1), "a message of 1001 bytes");
  }
  {
    Reading r (l);
    fail_unless (r.feed (set_chunk_size (65536)) == ChunkReader::Status::NeedMore);
    expect_error (r, set_chunk_size (65537), "Set Chunk Size 65537");
  }
  {
    Reading r (l);
    expect_error (r, set_chunk_size (0), "Set Chunk Size 0");
  }
  {
    Reading r (l);
    expect_error (r, set_chunk_size (0x80000100), "Set Chunk Size");
  }
  {
    Reading r (l);
    expect_error (r, type0 (2, 0, 2, kMsgSetChunkSize, 0) + "ab", "shorter than 4 bytes");
  }
  {
    /* three chunk streams with a partial message are fine, a fourth not */
    Reading r (l);
    for (uint32_t cs = 4; cs < 7; cs++)
      fail_unless (r.feed (type0 (cs, 0, 200, kMsgVideo, 1) + std::string (128, 'x'))
          == ChunkReader::Status::NeedMore);
    expect_error (r, type0 (7, 0, 200, kMsgVideo, 1) + std::string (128, 'x'),
        "more than 3 chunk streams");
  }
  {
    /* twelve chunk streams in use (4 x 3) are fine, a thirteenth not */
    Reading r (l);
    for (uint32_t cs = 4; cs < 16; cs++)
      fail_unless (r.feed (type0 (cs, 0, 1, kMsgAudio, 1) + "a") == ChunkReader::Status::NeedMore);
    fail_unless_equals_int (r.messages.size (), 12);
    expect_error (r, type0 (16, 0, 1, kMsgAudio, 1) + "a", "more than 12 chunk streams in use");
  }
  {
    /* partial messages together over max_buffered */
    Reading r (l);
    fail_unless (r.feed (set_chunk_size (900)) == ChunkReader::Status::NeedMore);
    fail_unless (r.feed (type0 (4, 0, 1000, kMsgVideo, 1) + std::string (900, 'x'))
        == ChunkReader::Status::NeedMore);
    fail_unless (r.feed (type0 (5, 0, 1000, kMsgVideo, 1) + std::string (900, 'x'))
        == ChunkReader::Status::NeedMore);
    expect_error (r, type0 (6, 0, 1000, kMsgVideo, 1) + std::string (900, 'x'),
        "bytes of partial messages");
  }
  for (int fmt = 1; fmt <= 3; fmt++) {
    Reading r (l);
    std::string h = fmt == 1 ? type1 (9, 0, 1, kMsgAudio) : fmt == 2 ? type2 (9, 0) : basic (3, 9);
    expect_error (r, h + "a", "which has had no type 0 header");
  }
  {
    Reading r (l);
    expect_error (r, type0 (4, 0, 200, kMsgVideo, 1) + std::string (128, 'x')
        + type0 (4, 0, 10, kMsgVideo, 1), "while its message is incomplete");
  }
}
GST_END_TEST;

GST_START_TEST (test_writer)
{
  ChunkWriter w;
  std::string out;
  w.write (out, 3, kMsgCommandAmf0, 0, 0, "hello");
  assert_str_eq (out, type0 (3, 0, 5, kMsgCommandAmf0, 0) + "hello");

  /* a long message with an extended timestamp, on a 3-byte chunk stream id,
   * read back */
  std::string payload (1000, 'w');
  payload[0] = 'A';
  payload[999] = 'Z';
  out.clear ();
  w.set_chunk_size (300);
  w.write (out, 400, kMsgVideo, 1, 0x12345678, payload);
  /* a type 0 header with the extended timestamp, three type 3 chunks
   * repeating it */
  fail_unless_equals_int (out.size (), 3 + 11 + 4 + 3 * (3 + 4) + 1000);
  Reading r;
  r.feed (set_chunk_size (300) + out);
  fail_unless_equals_int (r.messages.size (), 1);
  fail_unless_equals_int (r.messages[0].timestamp, 0x12345678);
  fail_unless_equals_int (r.messages[0].csid, 400);
  assert_str_eq (r.messages[0].payload, payload);
}
GST_END_TEST;

static Suite *
chunkstream_suite (void)
{
  Suite *s = suite_create ("rtmp-chunkstream");
  TCase *tc = tcase_create ("chunkstream");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_header_types);
  tcase_add_test (tc, test_type3_after_type0_repeats_its_timestamp);
  tcase_add_test (tc, test_basic_header_sizes);
  tcase_add_test (tc, test_message_in_chunks);
  tcase_add_test (tc, test_extended_timestamps);
  tcase_add_test (tc, test_chunk_size_change_mid_message);
  tcase_add_test (tc, test_interleaved_chunk_streams);
  tcase_add_test (tc, test_abort);
  tcase_add_test (tc, test_limits);
  tcase_add_test (tc, test_writer);
  return s;
}

GST_CHECK_MAIN (chunkstream);
