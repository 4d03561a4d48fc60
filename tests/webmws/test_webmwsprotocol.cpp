/* webmwssrc's pieces without a network: the EBML header reader, the JSON
 * control protocol, one publisher's session rules and the bounded queue. */
#include "webmws/chunkqueue.h"
#include "webmws/controlmessage.h"
#include "webmws/ebmlheader.h"
#include "webmws/trackcodecs.h"
#include "webmws/webmwssession.h"

#include "../assertions.h"

#include <gst/check/gstcheck.h>

#include <string>

using namespace castline::webmws;

static std::string
element (const std::string & id, const std::string & body)
{
  /* sizes under 127 bytes only: one-byte size */
  return id + std::string (1, (char) (0x80 | body.size ())) + body;
}

static std::string
ebml_header (const std::string & doc_type)
{
  return element ("\x1a\x45\xdf\xa3", element ("\x42\x82", doc_type));
}

static std::string
track (int number, int type, const std::string & codec)
{
  return element ("\xae", element ("\xd7", std::string (1, (char) number))
      + element ("\x83", std::string (1, (char) type)) + element ("\x86", codec));
}

/* header, a Segment of unknown size, Tracks, and the start of a Cluster */
static std::string
recording (const std::string & tracks)
{
  return ebml_header ("webm") + std::string ("\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff", 12)
      + element ("\x16\x54\xae\x6b", tracks)
      + std::string ("\x1f\x43\xb6\x75\x01\xff\xff\xff\xff\xff\xff\xff", 12);
}

GST_START_TEST (test_header_reader)
{
  std::string av = recording (track (1, 2, "A_OPUS") + track (2, 1, "V_VP8"));
  HeaderInfo h = read_webm_header ((const uint8_t *) av.data (), av.size ());
  fail_unless (h.status == HeaderStatus::ok);
  assert_str_eq (h.doc_type, "webm");
  fail_unless (h.tracks_known);
  assert_str_eq (describe_tracks (h.tracks), "1:audio:A_OPUS, 2:video:V_VP8");

  std::string mkv = ebml_header ("matroska");
  h = read_webm_header ((const uint8_t *) mkv.data (), mkv.size ());
  fail_unless (h.status == HeaderStatus::ok && !h.tracks_known);

  std::string other = ebml_header ("notmkv");
  fail_unless (read_webm_header ((const uint8_t *) other.data (), other.size ()).status
      == HeaderStatus::unsupported_doc_type);
  fail_unless (read_webm_header ((const uint8_t *) av.data (), 7).status == HeaderStatus::truncated);
  /* a prefix of the magic may be the start of a header */
  fail_unless (read_webm_header ((const uint8_t *) "\x1a\x45\xdf", 3).status
      == HeaderStatus::truncated);
  fail_unless (read_webm_header ((const uint8_t *) "RIFF....", 8).status == HeaderStatus::not_ebml);
  fail_unless (read_webm_header (nullptr, 0).status == HeaderStatus::not_ebml);
  /* a child claiming more bytes than its parent holds */
  std::string bad = std::string ("\x1a\x45\xdf\xa3\x84\x42\x82\x88w", 9);
  fail_unless (read_webm_header ((const uint8_t *) bad.data (), bad.size ()).status
      == HeaderStatus::malformed);
  /* a size field of 0x00 (no length marker) */
  std::string zero = std::string ("\x1a\x45\xdf\xa3\x00", 5);
  fail_unless (read_webm_header ((const uint8_t *) zero.data (), zero.size ()).status
      == HeaderStatus::malformed);
}
GST_END_TEST;

static SessionOutcome binary (WebmWsSession & s, const std::string & bytes);

/* bytes that end inside the Tracks (or before them) may be completed by
 * the next message; bytes that reach a Cluster without Tracks cannot */
GST_START_TEST (test_header_reader_says_when_tracks_may_follow)
{
  std::string av = recording (track (1, 2, "A_OPUS") + track (2, 1, "V_VP8"));
  size_t tracks_at = ebml_header ("webm").size () + 12;
  for (size_t cut = ebml_header ("webm").size (); cut < tracks_at + 20; cut++) {
    HeaderInfo h = read_webm_header ((const uint8_t *) av.data (), cut);
    fail_unless (h.status == HeaderStatus::ok && !h.tracks_known && h.tracks_incomplete,
        "cut at %zu", cut);
  }
  HeaderInfo whole = read_webm_header ((const uint8_t *) av.data (), av.size ());
  fail_unless (whole.tracks_known && !whole.tracks_incomplete);
  std::string no_tracks = ebml_header ("webm")
      + std::string ("\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff", 12)
      + std::string ("\x1f\x43\xb6\x75\x01\xff\xff\xff\xff\xff\xff\xff", 12);
  HeaderInfo h = read_webm_header ((const uint8_t *) no_tracks.data (), no_tracks.size ());
  fail_unless (h.status == HeaderStatus::ok && !h.tracks_known && !h.tracks_incomplete);
}
GST_END_TEST;

GST_START_TEST (test_track_codecs)
{
  assert_str_eq (codec_of_codec_id ("V_VP8"), "vp8");
  assert_str_eq (codec_of_codec_id ("V_VP9"), "vp9");
  assert_str_eq (codec_of_codec_id ("V_MPEG4/ISO/AVC"), "h264");
  assert_str_eq (codec_of_codec_id ("A_OPUS"), "opus");
  assert_str_eq (codec_of_codec_id ("A_AAC/MPEG4/LC"), "aac");
  assert_str_eq (codec_of_codec_id ("V_THEORA"), "");
  assert_str_eq (codec_of_mime_codec ("avc1.42E01E"), "h264");
  assert_str_eq (codec_of_mime_codec ("vp09.00.10.08"), "vp9");

  std::vector<TrackInfo> tracks = { { 1, 1, "V_VP8" }, { 2, 2, "A_OPUS" }, { 3, 17, "S_TEXT/UTF8" } };
  RecordingCodecs c = codecs_of_tracks (tracks);
  fail_unless (c.video == std::vector<std::string> { "vp8" });
  fail_unless (c.audio == std::vector<std::string> { "opus" });
  /* an unknown codec is named by its CodecID, for the refusal */
  c = codecs_of_tracks ({ { 1, 1, "V_THEORA" } });
  fail_unless (c.video == std::vector<std::string> { "V_THEORA" });

  auto wrong = [&] (const char *mime) {
    MimeType m;
    std::string error;
    fail_unless (parse_mime_type (mime, m, error), "%s", error.c_str ());
    return mime_type_contradiction (m, tracks);
  };
  assert_str_eq (wrong ("video/webm;codecs=vp8,opus"), "");
  assert_str_eq (wrong ("video/webm"), "");
  assert_str_eq (wrong ("video/webm;codecs=vp8"), "");      /* audio not listed: not compared */
  assert_str_eq (wrong ("video/webm;codecs=vp8.0,opus"), "");
  std::string r = wrong ("video/x-matroska;codecs=avc1,opus");
  fail_unless (r.find ("h264") != std::string::npos && r.find ("vp8") != std::string::npos, "%s",
      r.c_str ());
  r = wrong ("audio/webm;codecs=opus");
  fail_unless (r.find ("audio only") != std::string::npos, "%s", r.c_str ());
  r = wrong ("video/webm;codecs=vp8,vorbis");
  fail_unless (r.find ("vorbis") != std::string::npos, "%s", r.c_str ());
  fail_unless (r.size () <= 123);
}
GST_END_TEST;

/* the header is what counts: a mimeType that contradicts it closes 1003
 * with a reason naming both; none at all is fine */
GST_START_TEST (test_session_checks_the_mime_type_against_the_header)
{
  std::string vp8 = recording (track (1, 1, "V_VP8") + track (2, 2, "A_OPUS"));
  SessionLimits limits;
  {
    WebmWsSession s (limits);
    fail_if (s.declare_mime_type ("video/webm;codecs=h264,opus").close);
    SessionOutcome out = binary (s, vp8);
    fail_unless (out.close && out.close->code == close_code::unsupported_data);
    fail_unless (out.close->reason.find ("h264") != std::string::npos
        && out.close->reason.find ("vp8") != std::string::npos, "%s", out.close->reason.c_str ());
    fail_unless (out.warning_kind == WarningKind::bad_stream);
    fail_if (out.chunk);
  }
  {
    WebmWsSession s (limits);
    SessionOutcome out = binary (s, vp8);
    fail_unless (out.first_chunk && !out.close);
    fail_unless (s.header ().tracks_known);
  }
  {
    /* the header and its Tracks split across messages: held until whole */
    WebmWsSession s (limits);
    size_t cut = ebml_header ("webm").size () + 16;
    fail_if (binary (s, vp8.substr (0, cut)).chunk);
    SessionOutcome out = binary (s, vp8.substr (cut));
    fail_unless (out.first_chunk && s.header ().tracks_known);
    fail_unless_equals_int (g_bytes_get_size (out.chunk.get ()), vp8.size ());
  }
}
GST_END_TEST;

static ControlMessage
control (const std::string & t)
{
  return parse_control_message (t.data (), t.size ());
}

GST_START_TEST (test_control_messages)
{
  ControlMessage m = control ("{\"type\":\"ping\",\"t\":1.5}");
  fail_unless (m.kind == ControlKind::ping);
  std::string pong = make_pong (m, 1234);
  fail_unless (pong.find ("\"pong\"") != std::string::npos);
  fail_unless (pong.find ("1234") != std::string::npos);
  fail_unless (pong.find ("1.5") != std::string::npos, "%s", pong.c_str ());

  fail_unless (control ("{\"type\":\"stop-stream\"}").kind
      == ControlKind::stop_stream);
  fail_unless (control ("{\"type\":\"x\"}").kind == ControlKind::unknown);
  fail_unless (control ("nope").kind == ControlKind::malformed);
  fail_unless (control ("{}").kind == ControlKind::malformed);
  std::string deep = std::string (5000, '[') + std::string (5000, ']');
  m = parse_control_message (deep.data (), deep.size ());
  fail_unless (m.kind == ControlKind::malformed && m.error.find ("deep") != std::string::npos);

  MimeType mt;
  std::string err;
  fail_unless (parse_mime_type ("video/webm;codecs=vp8,opus", mt, err));
  assert_str_eq (mt.codecs, "vp8,opus");
  fail_unless (parse_mime_type ("audio/webm; codecs=\"opus\"", mt, err));
  assert_str_eq (mt.to_string (), "audio/webm;codecs=opus");
  fail_if (parse_mime_type ("video/mp4", mt, err));
  assert_str_eq (media_type_for ("video/webm", "matroska"), "video/x-matroska");
  assert_str_eq (media_type_for ("audio/webm", "webm"), "audio/webm");
  assert_str_eq (utf8_prefix ("h\xc3\xa9llo", 2), "h");
}
GST_END_TEST;

static SessionOutcome
text (WebmWsSession & s, const std::string & t)
{
  return s.on_text (t.data (), t.size ());
}

static SessionOutcome
binary (WebmWsSession & s, const std::string & bytes)
{
  GBytes *b = g_bytes_new (bytes.data (), bytes.size ());
  SessionOutcome out = s.on_binary (b);
  g_bytes_unref (b);
  return out;
}

GST_START_TEST (test_session_rules)
{
  std::string av = recording (track (1, 2, "A_OPUS") + track (2, 1, "V_VP8"));
  SessionLimits limits;
  limits.max_message_size = 1000;
  {
    WebmWsSession s (limits);
    fail_if (binary (s, "").chunk);                 /* empty: ignored */
    SessionOutcome out = binary (s, av);
    fail_unless (out.chunk && out.first_chunk && !out.close);
    out = binary (s, "any cluster bytes");
    fail_unless (out.chunk && !out.first_chunk);
    out = binary (s, std::string (1001, 'x'));
    fail_unless (out.close && out.close->code == close_code::too_big);
    fail_unless (s.closing ());
    fail_if (binary (s, "later").chunk);            /* ignored once closing */
  }
  {
    WebmWsSession s (limits);
    SessionOutcome out = text (s, "{\"type\":\"start\",\"mimeType\":\"text/html\"}");
    fail_unless (out.close && out.close->code == close_code::unsupported_data);
  }
  {
    WebmWsSession s (limits);
    SessionOutcome out = text (s, "\xff\xfe");
    fail_unless (!out.close && out.warning_kind == WarningKind::bad_control);
    out = text (s, "{\"type\":\"stop-stream\"}");
    fail_unless (out.end_of_stream && out.close && out.close->code == close_code::normal);
  }
  {
    /* a replacing publisher must record the same tracks */
    HeaderInfo first = read_webm_header ((const uint8_t *) av.data (), av.size ());
    WebmWsSession same (limits, &first);
    fail_unless (binary (same, av).chunk);
    WebmWsSession other (limits, &first);
    std::string audio = recording (track (1, 2, "A_OPUS"));
    SessionOutcome out = binary (other, audio);
    fail_unless (out.close && out.close->code == close_code::policy_violation);
    fail_unless (out.warning_kind == WarningKind::replacement_differs);
  }
  {
    /* warnings about control messages are bounded, replies are not */
    WebmWsSession s (limits);
    int warnings = 0;
    for (int i = 0; i < 50; i++) {
      SessionOutcome out = text (s, "?");
      fail_if (out.reply.empty ());
      warnings += out.warning_kind != WarningKind::none;
    }
    fail_unless_equals_int (warnings, (int) limits.max_control_warnings);
  }
}
GST_END_TEST;

static Chunk
chunk_of (size_t size)
{
  Chunk c;
  c.bytes = std::shared_ptr<GBytes> (g_bytes_new_take (g_malloc0 (size), size), g_bytes_unref);
  return c;
}

GST_START_TEST (test_queue_is_bounded)
{
  ChunkQueue q (10000);
  /* one message always fits an empty queue */
  fail_unless (q.push (chunk_of (50000)) == ChunkQueue::PushResult::queued_high);
  fail_unless (q.push (chunk_of (10)) == ChunkQueue::PushResult::full);
  Chunk out;
  fail_unless (q.pop (out, 0) == ChunkQueue::PopResult::chunk);
  fail_unless_equals_int (q.bytes (), 0);
  int queued = 0;
  while (q.push (chunk_of (1000)) != ChunkQueue::PushResult::full)
    queued++;
  fail_unless (queued >= 7 && queued <= 8, "%d", queued);
  fail_unless (q.bytes () <= 10000);
  q.push_end ();
  fail_unless (q.push (chunk_of (1)) == ChunkQueue::PushResult::ended);
  for (int i = 0; i < queued; i++)
    fail_unless (q.pop (out, 0) == ChunkQueue::PopResult::chunk);
  fail_unless (q.pop (out, 0) == ChunkQueue::PopResult::end);
}
GST_END_TEST;

GST_START_TEST (test_queue_idle_and_flushing)
{
  ChunkQueue q (10000);
  Chunk out;
  q.set_flushing (true);
  fail_unless (q.pop (out, 1000) == ChunkQueue::PopResult::flushing);
  q.set_flushing (false);
  q.touch ();
  gint64 t0 = g_get_monotonic_time ();
  fail_unless (q.pop (out, 200 * 1000) == ChunkQueue::PopResult::idle);
  gint64 waited = g_get_monotonic_time () - t0;
  fail_unless (waited >= 190 * 1000 && waited < 5 * G_USEC_PER_SEC);
}
GST_END_TEST;

static Suite *
webmwsprotocol_suite (void)
{
  Suite *s = suite_create ("webmwsprotocol");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_header_reader);
  tcase_add_test (tc, test_header_reader_says_when_tracks_may_follow);
  tcase_add_test (tc, test_track_codecs);
  tcase_add_test (tc, test_session_checks_the_mime_type_against_the_header);
  tcase_add_test (tc, test_control_messages);
  tcase_add_test (tc, test_session_rules);
  tcase_add_test (tc, test_queue_is_bounded);
  tcase_add_test (tc, test_queue_idle_and_flushing);
  return s;
}

GST_CHECK_MAIN (webmwsprotocol);
