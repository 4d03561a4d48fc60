/* RtmpListener on a thread of its own (ListenerThread), driven by the
 * scripted publisher over loopback TCP: what `ready` is handed (the bytes
 * after the handshake, the request, the codecs), decisions answered later,
 * and every bound: negotiation and prelude time-outs, max_pending,
 * protocol errors, stop. */
#include "rtmptestclient.h"

#include "rtmp/amf0.h"
#include "rtmp/listenerthread.h"

#include "../assertions.h"

#include <gst/check/gstcheck.h>

#include <condition_variable>
#include <mutex>

using castline::rtmp::AmfValue;
using castline::rtmp::ListenerSettings;
using castline::rtmp::ListenerThread;
using castline::rtmp::PublishDecision;
using castline::rtmp::Publisher;
using castline::rtmp::PublishRequest;
using castline::test::PublishScript;
using castline::test::TestClient;

namespace {

ListenerSettings
loopback ()
{
  ListenerSettings s;
  s.host = "127.0.0.1";
  s.port = 0;
  return s;
}

struct ListenerFixture {
  std::mutex lock;
  std::condition_variable changed;
  std::vector<PublishRequest> requests;
  std::vector<std::shared_ptr<PublishDecision>> decisions;   /* not answered yet */
  std::vector<Publisher> ready;
  bool decide_later = false;
  ListenerThread thread;

  explicit ListenerFixture (ListenerSettings settings = loopback (), bool later = false)
      : decide_later (later)
  {
    std::string error;
    fail_unless (thread.start (std::move (settings),
            [this] (const PublishRequest & r, std::shared_ptr<PublishDecision> d) {
              std::lock_guard<std::mutex> lk (lock);
              requests.push_back (r);
              if (decide_later)
                decisions.push_back (d);
              else
                d->accept ();
              changed.notify_all ();
            },
            [this] (Publisher && p) {
              std::lock_guard<std::mutex> lk (lock);
              ready.push_back (std::move (p));
              changed.notify_all ();
            }, error), "%s", error.c_str ());
    fail_unless (thread.port () > 0);
  }

  template <typename Pred>
  bool wait (Pred pred, int seconds = 5)
  {
    std::unique_lock<std::mutex> lk (lock);
    return changed.wait_for (lk, std::chrono::seconds (seconds), pred);
  }

  GIOStream *connect ()
  {
    GIOStream *c = TestClient::connect_tcp (thread.port ());
    fail_unless (c);
    return c;
  }
};

std::string
bytes_of (GBytes * b)
{
  gsize size = 0;
  const char *data = (const char *) g_bytes_get_data (b, &size);
  return std::string (data, size);
}

}  // namespace

GST_START_TEST (test_ready_gets_the_bytes_after_the_handshake)
{
  ListenerFixture f;
  g_autoptr (GIOStream) c = f.connect ();
  TestClient client (c);
  assert_str_eq (client.publish ("live", "the-key?token=1"), "NetStream.Publish.Start");
  fail_unless (f.wait ([&] { return !f.ready.empty (); }));

  std::lock_guard<std::mutex> lk (f.lock);
  Publisher & p = f.ready[0];
  fail_unless (G_IS_SOCKET_CONNECTION (p.connection));
  /* everything after C0 C1 C2: the replay of a session of its own */
  assert_str_eq (bytes_of (p.replay), client.sent);
  assert_str_eq (p.request.app, "live");
  assert_str_eq (p.request.stream_name, "the-key");
  assert_has (p.request.remote_address, "127.0.0.1:");
  fail_if (p.request.tls);
  assert_str_eq (p.codecs.video, "h264");
  assert_str_eq (p.codecs.audio, "aac");
  fail_unless (p.session && p.session->publishing ());
  fail_unless_equals_int (f.thread.listener ()->accepted (), 1);
}
GST_END_TEST;

GST_START_TEST (test_reject_publisher_after_ready)
{
  ListenerFixture f;
  g_autoptr (GIOStream) c = f.connect ();
  TestClient client (c);
  assert_str_eq (client.publish ("live", "k"), "NetStream.Publish.Start");
  fail_unless (f.wait ([&] { return !f.ready.empty (); }));
  Publisher p;
  {
    std::lock_guard<std::mutex> lk (f.lock);
    p = std::move (f.ready[0]);
  }
  auto shared = std::make_shared<Publisher> (std::move (p));
  /* on the listener's thread, as the launcher does on its context */
  f.thread.invoke ([shared] {
    castline::rtmp::reject_publisher (std::move (*shared), "NetStream.Publish.Rejected",
        "no pipeline takes hevc");
  });
  assert_str_eq (client.wait_code (), "NetStream.Publish.Rejected");
  assert_str_eq (client.answers.back ().description, "no pipeline takes hevc");
  fail_unless (client.wait_closed ());
}
GST_END_TEST;

GST_START_TEST (test_decision_answered_later)
{
  ListenerFixture f (loopback (), true);
  g_autoptr (GIOStream) c = f.connect ();
  TestClient client (c);
  fail_unless (client.handshake ());
  fail_unless (client.send (client.script.publish_exchange ("live", "no-such-stream")));
  assert_str_eq (client.wait_code (), "NetConnection.Connect.Success");
  fail_unless (f.wait ([&] { return !f.decisions.empty (); }));
  std::shared_ptr<PublishDecision> d;
  {
    std::lock_guard<std::mutex> lk (f.lock);
    d = f.decisions[0];
    assert_str_eq (f.requests[0].stream_name, "no-such-stream");
  }
  f.thread.invoke ([d] {
    d->refuse ("NetStream.Publish.BadName", "no such stream");
    d->accept ();                      /* a second answer does nothing */
  });
  assert_str_eq (client.wait_code (), "NetStream.Publish.BadName");
  assert_str_eq (client.answers.back ().description, "no such stream");
  fail_unless (client.wait_closed ());
  std::lock_guard<std::mutex> lk (f.lock);
  fail_unless (f.ready.empty ());
}
GST_END_TEST;

GST_START_TEST (test_unknown_application_refused)
{
  ListenerFixture f;
  g_autoptr (GIOStream) c = f.connect ();
  TestClient client (c);
  fail_unless (client.handshake ());
  fail_unless (client.send (client.script.connect ("other", "rtmp://127.0.0.1/other")));
  assert_str_eq (client.wait_code (), "NetConnection.Connect.Rejected");
  fail_unless (client.wait_closed ());
  std::lock_guard<std::mutex> lk (f.lock);
  fail_unless (f.requests.empty ());
}
GST_END_TEST;

GST_START_TEST (test_negotiation_times_out)
{
  ListenerSettings s = loopback ();
  s.negotiation_timeout_s = 1;
  ListenerFixture f (s);
  g_autoptr (GIOStream) c = f.connect ();
  TestClient client (c);
  fail_unless (client.handshake ());
  /* then no publish */
  fail_unless (client.wait_closed ());
  fail_unless_equals_int (f.thread.listener ()->timed_out (), 1);
}
GST_END_TEST;

GST_START_TEST (test_prelude_times_out_into_ready)
{
  ListenerSettings s = loopback ();
  s.prelude_timeout_s = 1;
  ListenerFixture f (s);
  g_autoptr (GIOStream) c = f.connect ();
  TestClient client (c);
  fail_unless (client.handshake ());
  PublishScript & p = client.script;
  std::string bytes = p.set_chunk_size (4096);
  bytes += p.connect ("live", "rtmp://127.0.0.1/live");
  bytes += p.publish ("k");
  bytes += p.metadata (true, true);
  bytes += p.avc_sequence_header (0);
  /* the metadata promises audio that never comes */
  fail_unless (client.send (bytes));
  assert_str_eq (client.wait_code (), "NetConnection.Connect.Success");
  assert_str_eq (client.wait_code (), "NetStream.Publish.Start");
  g_usleep (300 * 1000);
  {
    std::lock_guard<std::mutex> lk (f.lock);
    fail_unless (f.ready.empty ());
  }
  fail_unless (f.wait ([&] { return !f.ready.empty (); }));
  std::lock_guard<std::mutex> lk (f.lock);
  assert_str_eq (f.ready[0].codecs.video, "h264");
  fail_if (f.ready[0].codecs.audio_seen);
}
GST_END_TEST;

GST_START_TEST (test_over_max_pending_closed_at_once)
{
  ListenerSettings s = loopback ();
  s.max_pending = 1;
  ListenerFixture f (s);
  g_autoptr (GIOStream) c1 = f.connect ();
  TestClient first (c1);
  fail_unless (first.handshake ());
  g_autoptr (GIOStream) c2 = f.connect ();
  TestClient second (c2, 2);
  fail_if (second.handshake ());
  fail_unless_equals_int (f.thread.listener ()->refused_over_limit (), 1);
  fail_unless_equals_int (f.thread.listener ()->accepted (), 1);
}
GST_END_TEST;

GST_START_TEST (test_protocol_error_closes)
{
  ListenerFixture f;
  g_autoptr (GIOStream) c = f.connect ();
  TestClient client (c);
  fail_unless (client.handshake ());
  /* a chunk size with the top bit set */
  fail_unless (client.send (std::string ("\x02\x00\x00\x00\x00\x00\x04\x01\x00\x00\x00\x00"
              "\x80\x00\x00\x00", 16)));
  fail_unless (client.wait_closed ());
  fail_unless_equals_int (f.thread.listener ()->protocol_errors (), 1);
}
GST_END_TEST;

GST_START_TEST (test_little_kept_before_the_answer)
{
  ListenerFixture f (loopback (), true);
  g_autoptr (GIOStream) c = f.connect ();
  TestClient client (c);
  fail_unless (client.handshake ());
  /* commands the server answers and forgets, 100 KiB of them, before any
   * publish */
  PublishScript & p = client.script;
  std::string bytes = p.connect ("live", "rtmp://127.0.0.1/live");
  std::string command;
  castline::rtmp::amf0_encode (command, AmfValue::make_string ("_checkbw"));
  castline::rtmp::amf0_encode (command, AmfValue::make_number (0));
  castline::rtmp::amf0_encode (command, AmfValue::make_null ());
  std::string filler = p.message (3, castline::rtmp::kMsgCommandAmf0, 0, 0, command);
  while (bytes.size () < 100 * 1024)
    bytes += filler;
  client.send (bytes);
  fail_unless (client.wait_closed ());
  fail_unless_equals_int (f.thread.listener ()->protocol_errors (), 1);
}
GST_END_TEST;

/* a self-signed certificate for 127.0.0.1 and its key, made once */
static const std::pair<std::string, std::string> &
certificate ()
{
  static std::pair<std::string, std::string> files = [] {
    g_autofree gchar *dir = g_dir_make_tmp ("castline-rtmps-XXXXXX", nullptr);
    std::string cert = std::string (dir) + "/cert.pem", key = std::string (dir) + "/key.pem";
    const gchar *argv[] = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key.c_str (), "-out",
        cert.c_str (), "-days", "2", "-subj", "/CN=127.0.0.1", nullptr};
    gint status = -1;
    fail_unless (g_spawn_sync (nullptr, (gchar **) argv, nullptr,
            (GSpawnFlags) (G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL
                | G_SPAWN_STDERR_TO_DEV_NULL), nullptr, nullptr, nullptr, nullptr, &status,
            nullptr) && status == 0, "openssl could not make a certificate");
    return std::make_pair (cert, key);
  } ();
  return files;
}

GST_START_TEST (test_rtmps_publisher)
{
  ListenerSettings s = loopback ();
  s.tls_certificate_file = certificate ().first;
  s.tls_key_file = certificate ().second;
  ListenerFixture f (s);
  g_autoptr (GIOStream) c = TestClient::connect_tls (f.thread.port ());
  fail_unless (c, "no TLS handshake");
  TestClient client (c);
  assert_str_eq (client.publish ("live", "k"), "NetStream.Publish.Start");
  fail_unless (f.wait ([&] { return !f.ready.empty (); }));
  std::lock_guard<std::mutex> lk (f.lock);
  fail_unless (f.ready[0].request.tls);
  fail_unless (G_IS_TLS_CONNECTION (f.ready[0].connection));
  assert_str_eq (bytes_of (f.ready[0].replay), client.sent);
}
GST_END_TEST;

GST_START_TEST (test_rtmps_silent_peer_times_out)
{
  ListenerSettings s = loopback ();
  s.tls_certificate_file = certificate ().first;
  s.tls_key_file = certificate ().second;
  s.negotiation_timeout_s = 1;
  ListenerFixture f (s);
  /* no TLS ClientHello, nothing */
  g_autoptr (GIOStream) c = f.connect ();
  TestClient client (c);
  fail_unless (client.wait_closed ());
  fail_unless_equals_int (f.thread.listener ()->timed_out (), 1);
}
GST_END_TEST;

GST_START_TEST (test_start_errors)
{
  ListenerSettings s = loopback ();
  s.tls_certificate_file = "/nonexistent/cert.pem";
  s.tls_key_file = "/nonexistent/key.pem";
  ListenerThread thread;
  std::string error;
  fail_if (thread.start (s, nullptr, nullptr, error));
  assert_has (error, "certificate");
  s = loopback ();
  s.host = "not-an-address";
  ListenerThread other;
  fail_if (other.start (s, nullptr, nullptr, error));
  assert_has (error, "not an IP address");
}
GST_END_TEST;

GST_START_TEST (test_stop_closes_connections_not_handed_out)
{
  auto f = std::make_unique<ListenerFixture> ();
  g_autoptr (GIOStream) c = f->connect ();
  TestClient client (c);
  fail_unless (client.handshake ());
  f.reset ();
  fail_unless (client.wait_closed ());
}
GST_END_TEST;

static Suite *
rtmplistener_suite (void)
{
  Suite *s = suite_create ("rtmplistener");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_ready_gets_the_bytes_after_the_handshake);
  tcase_add_test (tc, test_reject_publisher_after_ready);
  tcase_add_test (tc, test_decision_answered_later);
  tcase_add_test (tc, test_unknown_application_refused);
  tcase_add_test (tc, test_negotiation_times_out);
  tcase_add_test (tc, test_prelude_times_out_into_ready);
  tcase_add_test (tc, test_over_max_pending_closed_at_once);
  tcase_add_test (tc, test_protocol_error_closes);
  tcase_add_test (tc, test_little_kept_before_the_answer);
  tcase_add_test (tc, test_rtmps_publisher);
  tcase_add_test (tc, test_rtmps_silent_peer_times_out);
  tcase_add_test (tc, test_start_errors);
  tcase_add_test (tc, test_stop_closes_connections_not_handed_out);
  return s;
}

GST_CHECK_MAIN (rtmplistener);
