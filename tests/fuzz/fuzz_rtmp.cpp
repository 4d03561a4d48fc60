/* libFuzzer target: what an RTMP publisher sends, through castline's RTMP
 * protocol engine (gst-plugins/rtmp: handshake, chunk stream, AMF0, the
 * publish session, FLV tags).
 *
 * Each input is one connection. Its first byte picks how it is taken:
 *   bit 0  the session starts with the handshake (else after it)
 *   bit 1  only the application "live" is accepted
 *   bit 2  the publish is refused (else accepted when asked)
 *   bit 3  the first half is a replay (the launcher's hand-over), then live
 *   bits 4-7  the bytes come in pieces of 1 + 61 * that value
 * The rest is fed to a PublishSession, answering what it asks; each tag it
 * gives is made into FLV. The same bytes also go to the AMF0 decoder.
 *
 * Findings: crashes, sanitizer reports, leaks, and broken promises:
 *  - feed succeeding after it once failed, or an error without a reason;
 *  - more held than Limits allow (the chunk reader's partial messages);
 *  - an FLV tag whose size fields disagree with its body;
 *  - an AMF0 value that does not encode, decode and encode again to the
 *    same bytes. */
#include "rtmp/amf0.h"
#include "rtmp/chunkstream.h"
#include "rtmp/rtmpsession.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace castline::rtmp;

namespace {

void
broken (const char *what)
{
  fprintf (stderr, "broken promise: %s\n", what);
  abort ();
}

Limits
fuzz_limits ()
{
  /* small enough that a fuzzer reaches them */
  Limits l;
  l.max_message_size = 256 * 1024;
  l.max_chunk_size = 64 * 1024;
  l.max_chunk_streams = 8;
  l.max_buffered = 512 * 1024;
  l.max_amf_depth = 8;
  return l;
}

void
check_tag (const FlvTag & tag)
{
  if (!tag.body)
    broken ("a tag without a body");
  GBytes *flv = flv_tag (tag);
  gsize size = 0, body = g_bytes_get_size (tag.body);
  const auto *p = (const uint8_t *) g_bytes_get_data (flv, &size);
  uint32_t data_size = ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
  uint32_t prev = ((uint32_t) p[size - 4] << 24) | ((uint32_t) p[size - 3] << 16)
      | ((uint32_t) p[size - 2] << 8) | p[size - 1];
  if (data_size != body || size != 11 + body + 4 || prev != 11 + body)
    broken ("FLV tag sizes");
  const auto *b = (const uint8_t *) g_bytes_get_data (tag.body, nullptr);
  if (tag.type == 8)
    flv_audio_codec (b, body);
  else if (tag.type == 9)
    flv_video_codec (b, body);
  flv_is_sequence_header (tag.type, b, body);
  g_bytes_unref (flv);
}

void
run_session (uint8_t flags, const uint8_t * data, size_t size)
{
  PublishSession s (flags & 1 ? PublishSession::Start::Handshake
      : PublishSession::Start::AfterHandshake, fuzz_limits ());
  if (flags & 2)
    s.accept_app ("live");
  size_t replay_end = flags & 8 ? size / 2 : 0;
  if (replay_end)
    s.begin_replay ();
  size_t piece = 1 + 61 * (size_t) (flags >> 4);
  bool failed = false;
  size_t pos = 0;
  while (pos < size) {
    if (replay_end && pos >= replay_end) {
      s.end_replay ();
      s.accept_publish ();
      replay_end = 0;
    }
    size_t n = std::min (piece, size - pos);
    if (replay_end && pos < replay_end)
      n = std::min (n, replay_end - pos);
    bool ok = s.feed (data + pos, n);
    pos += n;
    if (failed && ok)
      broken ("feed succeeded after a failure");
    if (!ok) {
      if (s.error ().empty ())
        broken ("an error without a reason");
      failed = true;
    }
    Event e;
    while (s.next_event (e)) {
      if (e.type == EventType::Publish && !s.publishing ()) {
        if (flags & 4)
          s.refuse_publish ("NetStream.Publish.BadName", "no such stream");
        else
          s.accept_publish ();
      } else if (e.type == EventType::Media || e.type == EventType::Metadata) {
        check_tag (e.tag);
      }
    }
    s.take_output ();
    if (failed)
      break;
  }
  s.codecs ();
  s.end_publish ("done");
  s.take_output ();
}

void
run_amf0 (const uint8_t * data, size_t size)
{
  std::vector<AmfValue> values;
  if (!amf0_decode_all (data, size, 8, values, nullptr))
    return;
  std::string once;
  for (const auto & v : values)
    amf0_encode (once, v);
  std::vector<AmfValue> again;
  std::string error;
  if (!amf0_decode_all ((const uint8_t *) once.data (), once.size (), 8, again, &error)) {
    fprintf (stderr, "%s\n", error.c_str ());
    broken ("an encoded AMF0 value does not decode");
  }
  std::string twice;
  for (const auto & v : again)
    amf0_encode (twice, v);
  if (once != twice)
    broken ("AMF0 encode, decode, encode differs");
}

void
run_chunks (const uint8_t * data, size_t size)
{
  Limits l = fuzz_limits ();
  ChunkReader r (l);
  size_t pos = 0;
  while (pos < size) {
    RtmpMessage m;
    size_t used = 0;
    auto st = r.read (data + pos, size - pos, &used, m);
    pos += used;
    if (r.buffered () > l.max_buffered)
      broken ("partial messages over max_buffered");
    if (st != ChunkReader::Status::Message)
      break;
    if (m.payload.size () > l.max_message_size)
      broken ("a message over max_message_size");
  }
}

}  // namespace

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  if (size < 1)
    return 0;
  run_session (data[0], data + 1, size - 1);
  run_chunks (data + 1, size - 1);
  run_amf0 (data + 1, size - 1);
  return 0;
}
