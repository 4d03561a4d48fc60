/* The PublishSession: a publish exchange as ffmpeg makes it (digest
 * handshake, Set Chunk Size, connect, releaseStream, FCPublish,
 * createStream, publish, @setDataFrame, media, FCUnpublish, deleteStream)
 * and the exact answers; refusals, errors, timestamps, replay; and the
 * FLV tags the element outputs. The server's output is read back with the
 * chunk reader and AMF0 decoder (each tested on its own). */
#include "rtmp/amf0.h"
#include "rtmp/chunkstream.h"
#include "rtmp/flvtags.h"
#include "rtmp/handshake.h"
#include "rtmp/rtmpsession.h"
#include "rtmp/timestamps.h"

#include "rtmptestclient.h"

#include "../assertions.h"

#include <gst/check/gstcheck.h>

#include <cstring>
#include <string>
#include <vector>

using namespace castline::rtmp;

namespace {

using castline::test::amf;
using castline::test::num;
using castline::test::str;
/* what a publisher sends, on ffmpeg's chunk streams (2 control, 3
 * commands, 4 audio, 6 video, 8 the published stream) */
using Publisher = castline::test::PublishScript;

/* the server's output, read back */
struct Answers {
  ChunkReader reader{Limits{}};
  std::string pending;
  std::vector<RtmpMessage> messages;

  void take (PublishSession & s)
  {
    pending += s.take_output ();
    for (;;) {
      RtmpMessage m;
      size_t used = 0;
      auto st = reader.read ((const uint8_t *) pending.data (), pending.size (), &used, m);
      pending.erase (0, used);
      fail_if (st == ChunkReader::Status::Error, "%s", reader.error ().c_str ());
      if (st != ChunkReader::Status::Message)
        return;
      messages.push_back (std::move (m));
    }
  }
};

std::vector<AmfValue>
values (const RtmpMessage & m)
{
  std::vector<AmfValue> v;
  std::string error;
  fail_unless (amf0_decode_all ((const uint8_t *) m.payload.data (), m.payload.size (), 16, v,
      &error), "%s", error.c_str ());
  return v;
}

/* a command answer: its name, transaction id and the info object's code */
void
check_command (const RtmpMessage & m, const std::string & name, double txn)
{
  fail_unless_equals_int (m.type, kMsgCommandAmf0);
  auto v = values (m);
  fail_unless (v.size () >= 2);
  assert_str_eq (v[0].string, name);
  fail_unless (v[1].number == txn, "transaction %g, not %g", v[1].number, txn);
}

std::string
status_code (const RtmpMessage & m)
{
  auto v = values (m);
  return v.size () >= 4 ? v[3].get_string ("code") : "";
}

uint32_t
control_value (const RtmpMessage & m)
{
  fail_unless (m.payload.size () >= 4);
  return get_u32be ((const uint8_t *) m.payload.data ());
}

std::string
c0c1_digest ()
{
  /* ffmpeg's C1: version 9.0.124.2 and a scheme 0 digest */
  std::string c1 (kHandshakeSize, '\0');
  for (auto & c : c1)
    c = (char) g_random_int_range (0, 256);
  memcpy (&c1[4], "\x09\x00\x7c\x02", 4);
  size_t at = handshake_digest_offset ((const uint8_t *) c1.data (), DigestScheme::Scheme0);
  std::string rest = c1.substr (0, at) + c1.substr (at + 32);
  uint8_t d[32];
  handshake_hmac_sha256 (handshake_player_key (), 30, (const uint8_t *) rest.data (), rest.size (), d);
  c1.replace (at, 32, (const char *) d, 32);
  return "\x03" + c1;
}

bool
feed (PublishSession & s, const std::string & bytes)
{
  return s.feed ((const uint8_t *) bytes.data (), bytes.size ());
}

std::vector<Event>
events (PublishSession & s)
{
  std::vector<Event> out;
  Event e;
  while (s.next_event (e))
    out.push_back (std::move (e));
  return out;
}

std::string
body (const Event & e)
{
  gsize size = 0;
  const char *data = (const char *) g_bytes_get_data (e.tag.body, &size);
  return std::string (data, size);
}

/* a session after the handshake that took connect .. publish; answers read */
void
start_publish (PublishSession & s, Publisher & p, Answers & a, const std::string & key = "secret")
{
  /* one after the other: the chunk size applies to what follows */
  std::string bytes = p.set_chunk_size (4096);
  bytes += p.connect ("live", "rtmp://127.0.0.1:1935/live");
  bytes += p.publish (key);
  fail_unless (feed (s, bytes), "%s", s.error ().c_str ());
  a.take (s);
  auto ev = events (s);
  fail_unless (ev.size () == 2 && ev[1].type == EventType::Publish);
}

/* a publisher that got as far as its publish, answered or not */
struct Live {
  PublishSession s;
  Publisher p;
  Answers a;

  explicit Live (bool accept = true, Limits limits = {})
      : s (PublishSession::Start::AfterHandshake, limits)
  {
    start_publish (s, p, a);
    if (accept)
      s.accept_publish ();
  }
};

}  // namespace

GST_START_TEST (test_full_publish_exchange)
{
  PublishSession s (PublishSession::Start::Handshake);
  s.accept_app ("live");
  Publisher p;
  Answers a;

  /* the handshake: S0 S1 S2 once C1 is in, nothing else until C2 */
  fail_unless (feed (s, c0c1_digest ()));
  std::string s012 = s.take_output ();
  fail_unless_equals_int (s012.size (), 1 + 2 * kHandshakeSize);
  fail_unless (handshake_find_client_digest ((const uint8_t *) s012.data () + 1) == DigestScheme::None,
      "S1 is signed with the server key, not the player's");
  fail_unless (feed (s, std::string (kHandshakeSize, 'c')));
  fail_if (s.has_output ());

  /* connect: Window Ack Size, Set Peer Bandwidth, Set Chunk Size, _result */
  std::string connect = p.set_chunk_size (4096);
  connect += p.connect ("live", "rtmp://127.0.0.1:1935/live");
  fail_unless (feed (s, connect));
  a.take (s);
  fail_unless_equals_int (a.messages.size (), 3);
  fail_unless_equals_int (a.messages[0].type, kMsgWindowAckSize);
  fail_unless_equals_int (control_value (a.messages[0]), 2500000);
  fail_unless_equals_int (a.messages[1].type, kMsgSetPeerBandwidth);
  fail_unless_equals_int (a.messages[1].payload.size (), 5);
  fail_unless_equals_int (a.messages[1].payload[4], 2);
  /* the reader took Set Chunk Size itself: it is not a message */
  fail_unless_equals_int (a.reader.chunk_size (), 4096);
  check_command (a.messages[2], "_result", 1);
  auto v = values (a.messages[2]);
  assert_str_eq (v[2].get_string ("fmsVer"), "FMS/3,0,1,123");
  fail_unless (v[2].get_number ("capabilities") == 31);
  assert_str_eq (v[3].get_string ("level"), "status");
  assert_str_eq (v[3].get_string ("code"), "NetConnection.Connect.Success");
  fail_unless (v[3].get ("objectEncoding") && v[3].get_number ("objectEncoding") == 0);
  auto ev = events (s);
  fail_unless_equals_int (ev.size (), 1);
  fail_unless (ev[0].type == EventType::Connect);
  assert_str_eq (ev[0].app, "live");
  assert_str_eq (ev[0].tc_url, "rtmp://127.0.0.1:1935/live");

  /* releaseStream, FCPublish, createStream, publish */
  fail_unless (feed (s, p.publish ("secret")));
  a.take (s);
  fail_unless_equals_int (a.messages.size (), 3 + 4);
  check_command (a.messages[3], "_result", 2);
  check_command (a.messages[4], "onFCPublish", 0);
  assert_str_eq (status_code (a.messages[4]), "NetStream.Publish.Start");
  check_command (a.messages[5], "_result", 3);
  check_command (a.messages[6], "_result", 4);
  fail_unless (values (a.messages[6])[3].number == 1, "createStream answers stream 1");
  ev = events (s);
  fail_unless_equals_int (ev.size (), 1);
  fail_unless (ev[0].type == EventType::Publish);
  assert_str_eq (ev[0].stream_name, "secret");
  assert_str_eq (ev[0].publish_type, "live");
  fail_if (s.publishing ());

  /* what comes before the answer is held */
  fail_unless (feed (s, p.metadata () + p.avc_sequence_header (0)
      + p.audio_frame (0) + p.video_frame (40, false)));
  fail_unless (events (s).empty ());
  fail_if (s.has_output ());

  s.accept_publish ();
  fail_unless (s.publishing ());
  fail_unless (s.error ().empty ());
  a.take (s);
  fail_unless_equals_int (a.messages.size (), 7 + 2);
  fail_unless_equals_int (a.messages[7].type, kMsgUserControl);
  assert_str_eq (a.messages[7].payload, std::string ("\x00\x00\x00\x00\x00\x01", 6));
  check_command (a.messages[8], "onStatus", 0);
  fail_unless_equals_int (a.messages[8].stream_id, 1);
  assert_str_eq (status_code (a.messages[8]), "NetStream.Publish.Start");

  ev = events (s);
  fail_unless_equals_int (ev.size (), 4);
  fail_unless (ev[0].type == EventType::Metadata);
  fail_unless_equals_int (ev[0].tag.type, 18);
  /* the tag body is what follows "@setDataFrame" */
  fail_unless (body (ev[0]).rfind (std::string ("\x02\x00\x0a" "onMetaData", 13), 0) == 0);
  fail_unless (ev[1].type == EventType::Media && ev[1].tag.type == 9);
  fail_unless (flv_is_sequence_header (9, (const uint8_t *) body (ev[1]).data (), body (ev[1]).size ()));
  fail_unless (ev[2].type == EventType::Media && ev[2].tag.type == 8);
  fail_unless_equals_int (ev[3].tag.timestamp, 40);
  assert_str_eq (s.codecs ().video, "h264");
  assert_str_eq (s.codecs ().audio, "aac");
  fail_unless (s.codecs ().metadata_seen && s.codecs ().video_seen && s.codecs ().audio_seen);

  /* the end: FCUnpublish then deleteStream, one Unpublish */
  fail_unless (feed (s, p.unpublish ("secret")));
  ev = events (s);
  fail_unless_equals_int (ev.size (), 1);
  fail_unless (ev[0].type == EventType::Unpublish);
  fail_unless (s.ended ());
  s.end_publish ("stopped");
  a.take (s);
  assert_str_eq (status_code (a.messages.back ()), "NetStream.Unpublish.Success");
  fail_unless (s.bytes_received () > 2 * kHandshakeSize);
}
GST_END_TEST;

/* what ffmpeg 5.1 sent after the handshake, publishing 2 s of H.264 and
 * AAC with `-re -i in.mp4 -c copy -f flv rtmp://127.0.0.1:19351/live/secret`
 * (recorded by a server on this session): connect, Set Chunk Size 4096,
 * releaseStream, FCPublish, createStream, publish (type 1 headers),
 * @setDataFrame, 52 video and 89 audio tags, FCUnpublish, deleteStream */
GST_START_TEST (test_recorded_ffmpeg_publish)
{
  g_autofree gchar *bytes = nullptr;
  gsize size = 0;
  g_autoptr (GError) error = nullptr;
  fail_unless (g_file_get_contents (RTMP_TEST_DATA "/ffmpeg-publish.rec", &bytes, &size, &error));
  PublishSession s (PublishSession::Start::AfterHandshake);
  s.accept_app ("live");
  Answers a;
  int tags[19] = {0};
  uint32_t last[19] = {0};
  bool unpublished = false;
  for (gsize pos = 0; pos < size; pos += 1000) {
    fail_unless (s.feed ((const uint8_t *) bytes + pos, MIN (1000, size - pos)), "%s",
        s.error ().c_str ());
    Event e;
    while (s.next_event (e)) {
      if (e.type == EventType::Connect) {
        assert_str_eq (e.app, "live");
        assert_str_eq (e.tc_url, "rtmp://127.0.0.1:19351/live");
      } else if (e.type == EventType::Publish) {
        assert_str_eq (e.stream_name, "secret");
        s.accept_publish ();
      } else if (e.type == EventType::Unpublish) {
        unpublished = true;
      } else {
        tags[e.tag.type]++;
        last[e.tag.type] = e.tag.timestamp;
      }
    }
    a.take (s);
  }
  fail_unless_equals_int (tags[18], 1);
  fail_unless_equals_int (tags[9], 52);
  fail_unless_equals_int (tags[8], 89);
  fail_unless_equals_int (last[9], 1960);
  fail_unless_equals_int (last[8], 2077);
  fail_unless (unpublished && s.ended ());
  assert_str_eq (s.codecs ().video, "h264");
  assert_str_eq (s.codecs ().audio, "aac");
  assert_str_eq (status_code (a.messages.back ()), "NetStream.Publish.Start");
}
GST_END_TEST;

GST_START_TEST (test_refuse_publish)
{
  Live live (false);
  PublishSession & s = live.s;
  Publisher & p = live.p;
  Answers & a = live.a;
  size_t before = a.messages.size ();
  s.refuse_publish ("NetStream.Publish.BadName", "no such stream");
  a.take (s);
  fail_unless_equals_int (a.messages.size (), before + 1);
  auto v = values (a.messages.back ());
  assert_str_eq (v[0].string, "onStatus");
  assert_str_eq (v[3].get_string ("level"), "error");
  assert_str_eq (v[3].get_string ("code"), "NetStream.Publish.BadName");
  assert_str_eq (v[3].get_string ("description"), "no such stream");
  fail_if (s.publishing ());
  fail_if (feed (s, p.video_frame (0, true)));
  assert_has (s.error (), "refused");
  assert_lacks (s.error (), "secret");
}
GST_END_TEST;

GST_START_TEST (test_unknown_app)
{
  PublishSession s (PublishSession::Start::AfterHandshake);
  s.accept_app ("live");
  Publisher p;
  Answers a;
  fail_if (feed (s, p.connect ("other", "rtmp://h/other")));
  assert_has (s.error (), "unknown application");
  a.take (s);
  fail_unless_equals_int (a.messages.size (), 1);
  check_command (a.messages[0], "_error", 1);
  assert_str_eq (status_code (a.messages[0]), "NetConnection.Connect.Rejected");
  fail_unless (events (s).empty ());

  /* a query and a trailing slash are not part of the app; an empty app is
   * read from the tcUrl */
  for (auto app : {"live?token=x", "live/", ""}) {
    PublishSession ok (PublishSession::Start::AfterHandshake);
    ok.accept_app ("live");
    Publisher q;
    fail_unless (feed (ok, q.connect (app, "rtmp://h:1935/live/x?y")), "%s: %s", app,
        ok.error ().c_str ());
    auto ev = events (ok);
    assert_str_eq (ev.at (0).app, "live");
  }
}
GST_END_TEST;

GST_START_TEST (test_protocol_order)
{
  {
    /* media before publish */
    PublishSession s (PublishSession::Start::AfterHandshake);
    Publisher p;
    fail_unless (feed (s, p.connect ("live", "rtmp://h/live")));
    fail_if (feed (s, p.video_frame (0, true)));
    assert_has (s.error (), "media before publish");
  }
  {
    /* metadata before publish */
    PublishSession s (PublishSession::Start::AfterHandshake);
    Publisher p;
    fail_unless (feed (s, p.connect ("live", "rtmp://h/live")));
    fail_if (feed (s, p.metadata ()));
    assert_has (s.error (), "media before publish");
  }
  {
    /* a command before connect */
    PublishSession s (PublishSession::Start::AfterHandshake);
    Publisher p;
    fail_if (feed (s, p.command (3, 0, {str ("createStream"), num (2), AmfValue::make_null ()})));
    assert_has (s.error (), "before connect");
  }
  {
    /* a second publish */
    Live live;
    Publisher & p = live.p;
    fail_if (feed (live.s, p.command (8, 1, {str ("publish"), num (9), AmfValue::make_null (),
        str ("other"), str ("live")})));
    assert_has (live.s.error (), "second publish");
  }
  {
    /* data on another message stream is dropped, media there is an error */
    Live live;
    Publisher & p = live.p;
    fail_unless (feed (live.s, p.message (8, kMsgDataAmf0, 0, 0, amf ({str ("onMetaData")}))));
    fail_unless (events (live.s).empty ());
    fail_if (feed (live.s, p.message (6, kMsgVideo, 0, 0, "\x17\x01")));
    assert_has (live.s.error (), "media on message stream 0");
  }
  {
    /* a player */
    Publisher p;
    PublishSession player (PublishSession::Start::AfterHandshake);
    fail_unless (feed (player, p.connect ("live", "rtmp://h/live")));
    fail_if (feed (player, p.command (8, 1, {str ("play"), num (2), AmfValue::make_null (),
        str ("x")})));
    assert_has (player.error (), "publishers only");
  }
  {
    /* a command that is not AMF0, one without a transaction id */
    PublishSession s (PublishSession::Start::AfterHandshake);
    Publisher p;
    fail_if (feed (s, p.message (3, kMsgCommandAmf0, 0, 0, std::string ("\x02\x00\x09" "conn", 7))));
    assert_has (s.error (), "malformed command");
    PublishSession t (PublishSession::Start::AfterHandshake);
    fail_if (feed (t, p.command (3, 0, {str ("connect")})));
    assert_has (t.error (), "transaction id");
  }
  {
    /* a handshake that is not RTMP */
    PublishSession s (PublishSession::Start::Handshake);
    fail_if (feed (s, "GET / HTTP/1.1\r\n"));
    assert_has (s.error (), "unsupported RTMP version");
  }
}
GST_END_TEST;

GST_START_TEST (test_unknown_command_answered)
{
  PublishSession s (PublishSession::Start::AfterHandshake);
  Publisher p;
  Answers a;
  fail_unless (feed (s, p.connect ("live", "rtmp://h/live")));
  fail_unless (feed (s, p.command (3, 0, {str ("getStreamLength"), num (9), AmfValue::make_null ()})
      + p.command (3, 0, {str ("whatever"), num (0), AmfValue::make_null ()})));
  a.take (s);
  check_command (a.messages.back (), "_error", 9);
  assert_str_eq (status_code (a.messages.back ()), "NetConnection.Call.Failed");
}
GST_END_TEST;

GST_START_TEST (test_ping_and_acknowledgement)
{
  PublishSession s (PublishSession::Start::AfterHandshake);
  Publisher p;
  Answers a;
  fail_unless (feed (s, p.connect ("live", "rtmp://h/live")));
  a.take (s);
  size_t n = a.messages.size ();
  /* PingRequest 0x01020304 -> PingResponse 0x01020304 */
  fail_unless (feed (s, p.message (2, kMsgUserControl, 0, 0, std::string ("\x00\x06\x01\x02\x03\x04", 6))));
  a.take (s);
  fail_unless_equals_int (a.messages.size (), n + 1);
  fail_unless_equals_int (a.messages[n].type, kMsgUserControl);
  assert_str_eq (a.messages[n].payload, std::string ("\x00\x07\x01\x02\x03\x04", 6));

  /* a window of 1000 bytes: an Acknowledgement with the count once passed */
  std::string win;
  put_u32be (win, 1000);
  fail_unless (feed (s, p.message (2, kMsgWindowAckSize, 0, 0, win)));
  a.take (s);
  fail_unless_equals_int (a.messages.size (), n + 1);
  fail_unless (feed (s, p.command (3, 0, {str ("createStream"), num (4), AmfValue::make_null ()})));
  std::string filler = p.command (3, 0, {str ("noop"), num (0), str (std::string (900, 'f'))});
  fail_unless (feed (s, filler));
  a.take (s);
  fail_unless_equals_int (a.messages.back ().type, kMsgAcknowledgement);
  fail_unless_equals_int (control_value (a.messages.back ()), s.bytes_received ());
  fail_unless (s.bytes_received () >= 1000);
}
GST_END_TEST;

GST_START_TEST (test_limits)
{
  /* a connect with that argument to a session with those limits: the error */
  auto connect_error = [] (const Limits & limits, const AmfValue & argument) {
    PublishSession s (PublishSession::Start::AfterHandshake, limits);
    Publisher p;
    fail_if (feed (s, p.command (3, 0, {str ("connect"), num (1), argument})));
    return s.error ();
  };
  {
    /* bytes held while the publish waits, over max_buffered */
    Limits l;
    l.max_buffered = 10000;
    Live live (false, l);
    fail_unless (feed (live.s, std::string (9000, 'x')));
    fail_if (feed (live.s, std::string (2000, 'x')));
    assert_has (live.s.error (), "while the publish waited");
  }
  {
    /* AMF nesting in a command */
    Limits l;
    l.max_amf_depth = 4;
    AmfValue deep = AmfValue::make_object ();
    for (int i = 0; i < 6; i++)
      deep = AmfValue::make_object ({{"o", deep}});
    assert_has (connect_error (l, deep), "nesting");
  }
  {
    /* a message over max_message_size */
    Limits l;
    l.max_message_size = 1000;
    assert_has (connect_error (l, str (std::string (1000, 'a'))), "bytes on chunk stream");
  }
}
GST_END_TEST;

GST_START_TEST (test_timestamps_wrap_and_jump)
{
  Live live;
  PublishSession & s = live.s;
  Publisher & p = live.p;
  /* starts near the top of 32 bits, wraps, then jumps 60 s forward, then 5 s
   * back */
  uint32_t in[] = {0xffffff00u, 0xffffff28u, 0xffffff50u, 0x00000038u, 0x00000060u,
      0x0000ea60u + 0x60u, 0x0000ea60u + 0x88u, 0x0000ea60u + 0x88u - 5000u,
      0x0000ea60u + 0x88u - 4960u};
  uint32_t want[] = {0, 40, 80, 312, 352, 392, 432, 472, 512};
  std::string bytes;
  for (uint32_t ts : in)
    bytes += p.video_frame (ts, true);
  fail_unless (feed (s, bytes));
  auto ev = events (s);
  fail_unless_equals_int (ev.size (), 9);
  for (size_t i = 0; i < 9; i++)
    fail_unless_equals_int (ev[i].tag.timestamp, want[i]);
}
GST_END_TEST;

GST_START_TEST (test_media_clock)
{
  MediaClock c;
  /* audio and video each follow their own jumps; the first message is 0 */
  fail_unless_equals_int (c.rebase (9, 5000), 0);
  fail_unless_equals_int (c.rebase (8, 5010), 10);
  fail_unless_equals_int (c.rebase (8, 5033), 33);
  /* audio jumps back 3 s: one step of its last delta (23) */
  fail_unless_equals_int (c.rebase (8, 2033), 56);
  fail_unless_equals_int (c.rebase (8, 2056), 79);
  /* a backward step under a second is kept (clamped at 0 when before the
   * start) */
  fail_unless_equals_int (c.rebase (9, 4900), 0);
  /* script data follows the latest media */
  fail_unless_equals_int (c.rebase (18, 0), 79);
  /* a video jump with no delta seen yet: 33 ms */
  MediaClock d;
  d.rebase (9, 0);
  fail_unless_equals_int (d.rebase (9, 20000), 33);
}
GST_END_TEST;

GST_START_TEST (test_replay_then_live)
{
  /* the launcher's session takes connect .. publish and hands over */
  PublishSession launcher (PublishSession::Start::AfterHandshake);
  Publisher p;
  Answers a;
  std::string read = p.set_chunk_size (4096);
  read += p.connect ("live", "rtmp://h/live");
  read += p.publish ("secret");
  fail_unless (feed (launcher, read));
  a.take (launcher);
  fail_unless_equals_int (a.messages.size (), 7);

  /* the element's session replays those bytes: no output, the publish
   * taken as accepted */
  PublishSession element (PublishSession::Start::AfterHandshake);
  element.begin_replay ();
  fail_unless (feed (element, read));
  fail_if (element.has_output ());
  fail_unless (element.publishing ());
  auto ev = events (element);
  fail_unless_equals_int (ev.size (), 2);
  fail_unless (ev[1].type == EventType::Publish);
  element.end_replay ();
  element.accept_publish ();
  a.take (element);
  /* the answer goes out in the server's 4096-byte chunks, as the
   * launcher's Set Chunk Size said */
  fail_unless_equals_int (a.messages.size (), 7 + 2);
  assert_str_eq (status_code (a.messages.back ()), "NetStream.Publish.Start");
  /* a second accept sends nothing */
  element.accept_publish ();
  fail_if (element.has_output ());

  fail_unless (feed (element, p.video_frame (100, true) + p.video_frame (140, true)));
  ev = events (element);
  fail_unless_equals_int (ev.size (), 2);
  fail_unless_equals_int (ev[0].tag.timestamp, 0);
  fail_unless_equals_int (ev[1].tag.timestamp, 40);
}
GST_END_TEST;

GST_START_TEST (test_replay_from_the_handshake)
{
  /* everything the client sent, handshake included, replayed: no S0 S1 S2 */
  Publisher p;
  std::string sent = c0c1_digest () + std::string (kHandshakeSize, 'c');
  sent += p.connect ("live", "rtmp://h/live");
  sent += p.publish ("secret");
  PublishSession element (PublishSession::Start::Handshake);
  element.begin_replay ();
  fail_unless (feed (element, sent));
  fail_if (element.has_output ());
  fail_unless (element.publishing ());
  element.end_replay ();
  element.accept_publish ();
  Answers a;
  a.take (element);
  fail_unless_equals_int (a.messages.size (), 2);
  assert_str_eq (status_code (a.messages.back ()), "NetStream.Publish.Start");
  fail_unless_equals_int (element.bytes_received (), sent.size ());
}
GST_END_TEST;

GST_START_TEST (test_aggregate_and_amf3)
{
  Live live;
  PublishSession & s = live.s;
  Publisher & p = live.p;
  /* an AMF3 data message (a 0 byte, then AMF0) and an aggregate of two
   * tags 20 ms apart */
  std::string meta = std::string (1, '\0') + amf ({str ("onMetaData"),
      AmfValue::make_object ({{"videocodecid", str ("hvc1")}})});
  std::string tag1 = std::string ("\x09\x00\x00\x02\x00\x00\x64\x00\x00\x00\x00" "\x17\x01"
      "\x00\x00\x00\x0d", 17);
  std::string tag2 = std::string ("\x09\x00\x00\x02\x00\x00\x78\x00\x00\x00\x00" "\x27\x01"
      "\x00\x00\x00\x0d", 17);
  fail_unless (feed (s, p.message (8, kMsgDataAmf3, 1, 0, meta)
      + p.message (6, kMsgAggregate, 1, 1000, tag1 + tag2)), "%s", s.error ().c_str ());
  auto ev = events (s);
  fail_unless_equals_int (ev.size (), 3);
  fail_unless (ev[0].type == EventType::Metadata);
  fail_unless_equals_int (ev[2].tag.timestamp - ev[1].tag.timestamp, 20);
  assert_str_eq (body (ev[2]), std::string ("\x27\x01", 2));
  /* the tags said h264 after the metadata said hevc */
  assert_str_eq (s.codecs ().video, "h264");
}
GST_END_TEST;

GST_START_TEST (test_flv_output)
{
  GBytes *h = flv_header (true, true);
  gsize size;
  const char *d = (const char *) g_bytes_get_data (h, &size);
  assert_str_eq (std::string (d, size), std::string ("FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00", 13));
  g_bytes_unref (h);
  h = flv_header (false, true);
  fail_unless_equals_int (((const char *) g_bytes_get_data (h, nullptr))[4], 1);
  g_bytes_unref (h);

  FlvTag tag;
  tag.type = 9;
  tag.timestamp = 0x01020304;
  tag.body = g_bytes_new ("abc", 3);
  GBytes *t = flv_tag (tag);
  d = (const char *) g_bytes_get_data (t, &size);
  assert_str_eq (std::string (d, size), std::string ("\x09\x00\x00\x03\x02\x03\x04\x01\x00\x00\x00"
      "abc\x00\x00\x00\x0e", 18));
  g_bytes_unref (t);

  FlvTag moved = std::move (tag);
  fail_unless (tag.body == nullptr && moved.body != nullptr);
}
GST_END_TEST;

GST_START_TEST (test_codecs)
{
  auto video = [] (const std::string & b) {
    return flv_video_codec ((const uint8_t *) b.data (), b.size ());
  };
  auto audio = [] (const std::string & b) {
    return flv_audio_codec ((const uint8_t *) b.data (), b.size ());
  };
  assert_str_eq (video (std::string ("\x17\x01", 2)), "h264");
  assert_str_eq (video (std::string ("\x1c\x01", 2)), "hevc");
  assert_str_eq (video ("\x22"), "h263");
  assert_str_eq (video ("\x24"), "vp6");
  /* Enhanced RTMP: IsExHeader, then a FourCC */
  assert_str_eq (video (std::string ("\x90hvc1", 5)), "hevc");
  assert_str_eq (video (std::string ("\x90" "av01", 5)), "av1");
  assert_str_eq (video (std::string ("\x91vp09", 5)), "vp9");
  assert_str_eq (video (std::string ("\x90hv", 3)), "");
  assert_str_eq (video (""), "");
  assert_str_eq (audio (std::string ("\xaf\x00", 2)), "aac");
  assert_str_eq (audio ("\x2f"), "mp3");
  assert_str_eq (audio ("\xb6"), "speex");
  assert_str_eq (audio ("\x3f"), "pcm");
  assert_str_eq (audio (std::string ("\x90Opus", 5)), "opus");
  assert_str_eq (audio (""), "");
  assert_str_eq (flv_video_codec_from_id (7), "h264");
  assert_str_eq (flv_video_codec_from_id (0x68766331), "hevc");
  assert_str_eq (flv_audio_codec_from_id (10), "aac");
  assert_str_eq (flv_audio_codec_from_id (-1), "");
  assert_str_eq (flv_video_codec_from_id (1e300), "");

  fail_unless (flv_is_sequence_header (9, (const uint8_t *) "\x17\x00", 2));
  fail_if (flv_is_sequence_header (9, (const uint8_t *) "\x17\x01", 2));
  fail_unless (flv_is_sequence_header (9, (const uint8_t *) "\x90hvc1", 5));
  fail_if (flv_is_sequence_header (9, (const uint8_t *) "\x91hvc1", 5));
  fail_unless (flv_is_sequence_header (8, (const uint8_t *) "\xaf\x00", 2));
  fail_if (flv_is_sequence_header (8, (const uint8_t *) "\xaf\x01", 2));
  fail_if (flv_is_sequence_header (8, (const uint8_t *) "\x2f\x00", 2));
}
GST_END_TEST;

static Suite *
rtmpsession_suite (void)
{
  Suite *s = suite_create ("rtmp-session");
  TCase *tc = tcase_create ("session");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_full_publish_exchange);
  tcase_add_test (tc, test_recorded_ffmpeg_publish);
  tcase_add_test (tc, test_refuse_publish);
  tcase_add_test (tc, test_unknown_app);
  tcase_add_test (tc, test_protocol_order);
  tcase_add_test (tc, test_unknown_command_answered);
  tcase_add_test (tc, test_ping_and_acknowledgement);
  tcase_add_test (tc, test_limits);
  tcase_add_test (tc, test_timestamps_wrap_and_jump);
  tcase_add_test (tc, test_media_clock);
  tcase_add_test (tc, test_replay_then_live);
  tcase_add_test (tc, test_replay_from_the_handshake);
  tcase_add_test (tc, test_aggregate_and_amf3);
  tcase_add_test (tc, test_flv_output);
  tcase_add_test (tc, test_codecs);
  return s;
}

GST_CHECK_MAIN (rtmpsession);
