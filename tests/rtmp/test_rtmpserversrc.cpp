/* rtmpserversrc in a GstHarness, fed by a scripted publisher (rtmptestclient):
 * through add-connection on a socket pair (live, and with a replay), and
 * through its own listener on a loopback port. What goes downstream (the FLV
 * header's flags, each tag with its timestamp), what the publisher is told,
 * and how every end of a publisher ends the stream. */
#include "rtmptestclient.h"

#include "../assertions.h"
#include "../harnessread.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <string>
#include <vector>

using castline::test::PublishScript;
using castline::test::TestClient;

namespace {

struct Tag {
  uint8_t type;
  uint32_t timestamp;
  std::string body;
};

/* what the element pushed: the FLV header's flags, and its tags */
struct Flv {
  int flags = -1;
  std::vector<Tag> tags;
  bool eos = false;

  std::vector<uint32_t> timestamps (uint8_t type) const
  {
    std::vector<uint32_t> out;
    for (const auto & t : tags)
      if (t.type == type)
        out.push_back (t.timestamp);
    return out;
  }
};

uint32_t
be24 (const std::string & s, size_t at)
{
  return ((uint8_t) s[at] << 16) | ((uint8_t) s[at + 1] << 8) | (uint8_t) s[at + 2];
}

Flv
parse_flv (const std::string & bytes)
{
  Flv flv;
  if (bytes.size () < 13)
    return flv;
  fail_unless (bytes.compare (0, 4, "FLV\x01", 4) == 0, "not an FLV header");
  flv.flags = (uint8_t) bytes[4];
  size_t at = 13;
  while (at + 11 <= bytes.size ()) {
    Tag t;
    t.type = (uint8_t) bytes[at];
    uint32_t size = be24 (bytes, at + 1);
    t.timestamp = be24 (bytes, at + 4) | ((uint32_t) (uint8_t) bytes[at + 7] << 24);
    fail_unless (at + 11 + size + 4 <= bytes.size (), "a cut tag");
    t.body = bytes.substr (at + 11, size);
    fail_unless_equals_int (((uint8_t) bytes[at + 11 + size] << 24)
        | ((uint8_t) bytes[at + 12 + size] << 16) | ((uint8_t) bytes[at + 13 + size] << 8)
        | (uint8_t) bytes[at + 14 + size], size + 11);
    flv.tags.push_back (t);
    at += 11 + size + 4;
  }
  fail_unless_equals_int (at, bytes.size ());
  return flv;
}

struct SrcFixture {
  GstElement *src = nullptr;
  GstHarness *h = nullptr;
  GstBus *bus = nullptr;

  explicit SrcFixture (const char *props = "port=-1")
  {
    g_autofree gchar *desc = g_strdup_printf ("rtmpserversrc %s", props);
    h = harness_source (desc, &src, &bus);
  }

  ~SrcFixture ()
  {
    gst_harness_teardown (h);
    gst_object_unref (src);
    gst_object_unref (bus);
  }

  int port ()
  {
    int port = 0;
    g_object_get (src, "bound-port", &port, nullptr);
    return port;
  }

  bool add (GIOStream * connection, GBytes * replay = nullptr)
  {
    gboolean taken = FALSE;
    g_signal_emit_by_name (src, "add-connection", connection, replay, "test-peer", &taken);
    return taken;
  }

  /* waits for n more buffers (the FLV header is one, then one per tag) */
  void pull (int n)
  {
    for (int i = 0; i < n; i++) {
      GstBuffer *b = gst_harness_pull (h);
      fail_unless (b);
      append_buffer (bytes, b);
    }
  }

  /* everything pushed (since the start) until EOS or the time-out, as FLV */
  Flv read_flv (GstClockTime timeout = 10 * GST_SECOND)
  {
    bool eos = harness_read_to_eos (h, bytes, timeout);
    Flv flv = parse_flv (bytes);
    flv.eos = eos;
    return flv;
  }

  std::string bytes;

  /* the next element message of that name (a copy), or nullptr after the
   * time-out; warnings and errors seen on the way are counted */
  GstStructure *wait_message (const char *name, GstClockTime timeout = 5 * GST_SECOND)
  {
    gint64 deadline = g_get_monotonic_time () + (gint64) (timeout / 1000);
    while (g_get_monotonic_time () < deadline) {
      GstMessage *m = gst_bus_timed_pop (bus, 50 * GST_MSECOND);
      if (!m)
        continue;
      GstStructure *out = nullptr;
      if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_WARNING)
        warnings++;
      else if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR)
        errors++;
      else if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT
          && gst_structure_has_name (gst_message_get_structure (m), name))
        out = gst_structure_copy (gst_message_get_structure (m));
      gst_message_unref (m);
      if (out)
        return out;
    }
    return nullptr;
  }

  /* the disconnected message's reason (after its connected message) */
  std::string disconnect_reason ()
  {
    g_autoptr (GstStructure) s = wait_message ("rtmpserversrc-publisher-disconnected");
    fail_unless (s, "no rtmpserversrc-publisher-disconnected");
    /* the warning, when there is one, comes right after */
    g_autoptr (GstStructure) none = wait_message ("none", 200 * GST_MSECOND);
    return gst_structure_get_string (s, "reason");
  }

  int warnings = 0;
  int errors = 0;
};

/* a publisher on a socket pair, handed over with nothing read: it connects
 * and publishes live (the element answers) */
struct PairPublisher {
  GIOStream *server = nullptr;
  std::unique_ptr<TestClient> client;

  PairPublisher ()
  {
    auto ends = TestClient::socket_pair ();
    server = ends.first;
    client = std::make_unique<TestClient> (ends.second);
    g_object_unref (ends.second);
  }
  ~PairPublisher () { g_object_unref (server); }

  /* what a publisher does once told Unpublish.Success: close (the source
   * waits a little for it before the end of the stream) */
  void hang_up ()
  {
    assert_str_eq (client->wait_code (), "NetStream.Unpublish.Success");
    client->close ();
  }

  /* handed over to f's source, then connected and publishing */
  static std::unique_ptr<PairPublisher> live (SrcFixture & f)
  {
    auto p = std::make_unique<PairPublisher> ();
    fail_unless (f.add (p->server));
    p->go_live ();
    return p;
  }

  void go_live ()
  {
    PublishScript & s = client->script;
    fail_unless (client->send (s.set_chunk_size (4096)));
    fail_unless (client->send (s.connect ("live", "rtmp://127.0.0.1/live")));
    assert_str_eq (client->wait_code (), "NetConnection.Connect.Success");
    fail_unless (client->send (s.publish ("the-key")));
    assert_str_eq (client->wait_code (), "NetStream.Publish.Start");
  }
};

}  // namespace

GST_START_TEST (test_flv_out_of_a_live_publish)
{
  SrcFixture f;
  auto live = PairPublisher::live (f);
  PairPublisher & p = *live;
  PublishScript & s = p.client->script;
  /* the publisher's clock starts anywhere: the tags start at 0 */
  fail_unless (p.client->send (s.metadata () + s.avc_sequence_header (5000)
          + s.aac_sequence_header (5000) + s.video_frame (5000, true) + s.audio_frame (5023)
          + s.video_frame (5033, false) + s.audio_frame (5046) + s.video_frame (5066, false)
          + s.unpublish ("the-key")));
  p.hang_up ();

  Flv flv = f.read_flv ();
  fail_unless (flv.eos);
  fail_unless_equals_int (flv.flags, 0x05);       /* audio and video */
  fail_unless_equals_int (flv.tags.size (), 8);
  fail_unless_equals_int (flv.tags[0].type, 18);  /* onMetaData first, as sent */
  assert_has (flv.tags[0].body, "onMetaData");
  fail_unless (flv.timestamps (9) == std::vector<uint32_t> ({0, 0, 33, 66}));
  fail_unless (flv.timestamps (8) == std::vector<uint32_t> ({0, 23, 46}));
  /* bodies untouched: the AVC sequence header as sent */
  assert_str_eq (flv.tags[1].body.substr (0, 2), std::string ("\x17\x00", 2));

  g_autoptr (GstStructure) connected = f.wait_message ("rtmpserversrc-publisher-connected");
  fail_unless (connected);
  assert_str_eq (gst_structure_get_string (connected, "remote-address"), "test-peer");
  gboolean tls = TRUE;
  fail_unless (gst_structure_get_boolean (connected, "tls", &tls) && !tls);
  assert_str_eq (f.disconnect_reason (), "unpublished");
  fail_unless_equals_int (f.warnings, 0);
}
GST_END_TEST;

GST_START_TEST (test_replay_is_read_and_not_answered_again)
{
  SrcFixture f;
  PairPublisher p;
  /* what a listener read and answered, handed over with the connection */
  PublishScript & s = p.client->script;
  std::string replay = s.publish_exchange ("live", "the-key");
  g_autoptr (GBytes) bytes = g_bytes_new (replay.data (), replay.size ());
  fail_unless (f.add (p.server, bytes));
  fail_unless (p.client->send (s.video_frame (0, true) + s.audio_frame (23)
          + s.video_frame (33, false) + s.unpublish ("the-key")));
  /* no second Connect.Success or Publish.Start: the first answer now is the end */
  p.hang_up ();

  Flv flv = f.read_flv ();
  fail_unless (flv.eos);
  fail_unless_equals_int (flv.flags, 0x05);
  /* the replay's metadata and sequence headers, then the live frames */
  fail_unless_equals_int (flv.tags.size (), 6);
  fail_unless_equals_int (flv.tags[0].type, 18);
  fail_unless (flv.timestamps (9) == std::vector<uint32_t> ({0, 0, 33}));
  fail_unless (flv.timestamps (8) == std::vector<uint32_t> ({0, 23}));
  assert_str_eq (f.disconnect_reason (), "unpublished");
}
GST_END_TEST;

GST_START_TEST (test_header_flags_follow_the_metadata)
{
  SrcFixture f;
  auto live = PairPublisher::live (f);
  PairPublisher & p = *live;
  PublishScript & s = p.client->script;
  /* an audio-only publisher */
  fail_unless (p.client->send (s.metadata (false, true) + s.aac_sequence_header (0)
          + s.audio_frame (23) + s.unpublish ("the-key")));
  p.hang_up ();
  Flv flv = f.read_flv ();
  fail_unless (flv.eos);
  fail_unless_equals_int (flv.flags, 0x04);
  fail_unless (flv.timestamps (9).empty ());
}
GST_END_TEST;

GST_START_TEST (test_end_publisher)
{
  SrcFixture f;
  auto live = PairPublisher::live (f);
  PairPublisher & p = *live;
  PublishScript & s = p.client->script;
  fail_unless (p.client->send (s.metadata () + s.avc_sequence_header (0)
          + s.aac_sequence_header (0) + s.video_frame (0, true)));
  f.pull (5);                          /* the header and the 4 tags */
  g_signal_emit_by_name (f.src, "end-publisher", "the stream was deleted");
  assert_str_eq (p.client->wait_code (), "NetStream.Unpublish.Success");
  assert_str_eq (p.client->answers.back ().description, "the stream was deleted");
  fail_unless (p.client->wait_closed ());
  Flv flv = f.read_flv ();
  fail_unless (flv.eos);
  fail_unless_equals_int (flv.tags.size (), 4);   /* every tag read is out */
  assert_str_eq (f.disconnect_reason (), "ended");
  fail_unless_equals_int (f.warnings, 0);
}
GST_END_TEST;

GST_START_TEST (test_idle_publisher_times_out)
{
  SrcFixture f ("port=-1 idle-timeout=1");
  auto live = PairPublisher::live (f);
  PairPublisher & p = *live;
  PublishScript & s = p.client->script;
  fail_unless (p.client->send (s.metadata () + s.avc_sequence_header (0)
          + s.video_frame (0, true)));
  /* then nothing */
  Flv flv = f.read_flv ();
  fail_unless (flv.eos);
  fail_unless_equals_int (flv.tags.size (), 3);
  assert_str_eq (f.disconnect_reason (), "timeout");
  fail_unless_equals_int (f.warnings, 1);
  fail_unless (p.client->wait_closed ());
}
GST_END_TEST;

GST_START_TEST (test_dropped_publisher)
{
  SrcFixture f;
  auto live = PairPublisher::live (f);
  PairPublisher & p = *live;
  PublishScript & s = p.client->script;
  fail_unless (p.client->send (s.metadata () + s.avc_sequence_header (0)
          + s.video_frame (0, true)));
  f.pull (4);
  p.client->close ();                  /* gone without unpublishing */
  Flv flv = f.read_flv ();
  fail_unless (flv.eos);
  fail_unless_equals_int (flv.tags.size (), 3);
  assert_str_eq (f.disconnect_reason (), "closed");
  fail_unless_equals_int (f.warnings, 1);
}
GST_END_TEST;

/* a source stopped while its streaming thread waits on a publisher that
 * sends nothing (and may wait forever): the read is cancelled */
GST_START_TEST (test_stop_while_reading)
{
  auto f = std::make_unique<SrcFixture> ("port=-1 idle-timeout=0");
  auto live = PairPublisher::live (*f);
  PairPublisher & p = *live;
  fail_unless (p.client->send (p.client->script.avc_sequence_header (0)));
  f->pull (2);
  gint64 start = g_get_monotonic_time ();
  f.reset ();
  fail_unless (g_get_monotonic_time () - start < 5 * G_USEC_PER_SEC);
  fail_unless (p.client->wait_closed ());
}
GST_END_TEST;

GST_START_TEST (test_second_connection_refused)
{
  SrcFixture f;
  PairPublisher first, second;
  fail_unless (f.add (first.server));
  fail_if (f.add (second.server));
  /* the refused one is still its caller's: open */
  fail_unless (second.client->send (second.client->script.connect ("live", "rtmp://x/live")));
  first.go_live ();
  PublishScript & s = first.client->script;
  fail_unless (first.client->send (s.metadata () + s.avc_sequence_header (0)
          + s.unpublish ("the-key")));
  first.hang_up ();
  Flv flv = f.read_flv ();
  fail_unless (flv.eos);
  /* one run, one broadcast: nothing is taken after the end */
  PairPublisher third;
  fail_if (f.add (third.server));
}
GST_END_TEST;

GST_START_TEST (test_protocol_error_ends_the_stream)
{
  SrcFixture f;
  auto live = PairPublisher::live (f);
  PairPublisher & p = *live;
  PublishScript & s = p.client->script;
  fail_unless (p.client->send (s.metadata () + s.avc_sequence_header (0)));
  /* a type 1 header on chunk stream 40, which never had a type 0 */
  fail_unless (p.client->send (std::string ("\x68\x00\x00\x00\x00\x00\x10\x09", 8)
          + std::string (16, 'x')));
  Flv flv = f.read_flv ();
  fail_unless (flv.eos);
  fail_unless_equals_int (flv.tags.size (), 2);
  assert_str_eq (f.disconnect_reason (), "protocol-error");
  fail_unless_equals_int (f.warnings, 1);
  fail_unless_equals_int (f.errors, 0);           /* not an error of the element */
  fail_unless (p.client->wait_closed ());
}
GST_END_TEST;

GST_START_TEST (test_message_over_max_message_size)
{
  SrcFixture f ("port=-1 max-message-size=8192");
  auto live = PairPublisher::live (f);
  PairPublisher & p = *live;
  PublishScript & s = p.client->script;
  fail_unless (p.client->send (s.avc_sequence_header (0)));
  fail_unless (p.client->send (s.message (6, castline::rtmp::kMsgVideo, 1, 33,
              std::string ("\x27\x01\x00\x00\x00", 5) + std::string (8192, 'x'))));
  Flv flv = f.read_flv ();
  fail_unless (flv.eos);
  fail_unless_equals_int (flv.tags.size (), 1);
  assert_str_eq (f.disconnect_reason (), "protocol-error");
}
GST_END_TEST;

GST_START_TEST (test_standalone_listener)
{
  SrcFixture f ("port=0 host=127.0.0.1 application=live stream-key=the-key");
  fail_unless (f.port () > 0);

  /* an unknown application */
  {
    g_autoptr (GIOStream) c = TestClient::connect_tcp (f.port ());
    TestClient client (c);
    fail_unless (client.handshake ());
    fail_unless (client.send (client.script.connect ("other", "rtmp://127.0.0.1/other")));
    assert_str_eq (client.wait_code (), "NetConnection.Connect.Rejected");
    fail_unless (client.wait_closed ());
  }
  /* a wrong key */
  {
    g_autoptr (GIOStream) c = TestClient::connect_tcp (f.port ());
    TestClient client (c);
    assert_str_eq (client.publish ("live", "wrong-key"), "NetStream.Publish.BadName");
    fail_unless (client.wait_closed ());
  }
  /* the key, with a query tail */
  g_autoptr (GIOStream) c = TestClient::connect_tcp (f.port ());
  TestClient client (c);
  assert_str_eq (client.publish ("live", "the-key?token=x"), "NetStream.Publish.Start");
  PublishScript & s = client.script;
  g_autoptr (GstStructure) connected = f.wait_message ("rtmpserversrc-publisher-connected");
  fail_unless (connected);
  assert_has (gst_structure_get_string (connected, "remote-address"), "127.0.0.1:");

  /* a second publisher while this one is live */
  {
    g_autoptr (GIOStream) c2 = TestClient::connect_tcp (f.port ());
    TestClient second (c2);
    assert_str_eq (second.publish ("live", "the-key"), "NetStream.Publish.Rejected");
    assert_str_eq (second.answers.back ().description, "already publishing");
    fail_unless (second.wait_closed ());
  }

  fail_unless (client.send (s.video_frame (0, true) + s.audio_frame (23)
          + s.unpublish ("the-key")));
  assert_str_eq (client.wait_code (), "NetStream.Unpublish.Success");
  client.close ();
  Flv flv = f.read_flv ();
  fail_unless (flv.eos);
  fail_unless_equals_int (flv.flags, 0x05);
  fail_unless_equals_int (flv.tags.size (), 5);
  assert_str_eq (f.disconnect_reason (), "unpublished");
}
GST_END_TEST;

GST_START_TEST (test_stream_key_not_readable)
{
  GstElement *src = gst_element_factory_make ("rtmpserversrc", nullptr);
  g_object_set (src, "stream-key", "the-key", nullptr);
  GParamSpec *spec = g_object_class_find_property (G_OBJECT_GET_CLASS (src), "stream-key");
  fail_unless (spec && !(spec->flags & G_PARAM_READABLE));
  gst_object_unref (src);
}
GST_END_TEST;

static Suite *
rtmpserversrc_suite (void)
{
  Suite *s = suite_create ("rtmpserversrc");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_flv_out_of_a_live_publish);
  tcase_add_test (tc, test_replay_is_read_and_not_answered_again);
  tcase_add_test (tc, test_header_flags_follow_the_metadata);
  tcase_add_test (tc, test_end_publisher);
  tcase_add_test (tc, test_idle_publisher_times_out);
  tcase_add_test (tc, test_dropped_publisher);
  tcase_add_test (tc, test_stop_while_reading);
  tcase_add_test (tc, test_second_connection_refused);
  tcase_add_test (tc, test_protocol_error_ends_the_stream);
  tcase_add_test (tc, test_message_over_max_message_size);
  tcase_add_test (tc, test_standalone_listener);
  tcase_add_test (tc, test_stream_key_not_readable);
  return s;
}

GST_CHECK_MAIN (rtmpserversrc);
