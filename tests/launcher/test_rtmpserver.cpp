/* The launcher's RTMP server (ingest/rtmp/rtmpserver.h) with a real
 * StreamManager on the main context and the scripted publisher
 * (tests/rtmp/rtmptestclient.h) over loopback TCP on a thread of its own:
 * the stream found by the key, each refusal as an onStatus code, a
 * publisher handed to its stream's rtmpserversrc, and Enhanced RTMP's HEVC
 * refused with a status that names the codec. */
#include "ingest/rtmp/rtmpserver.h"
#include "rtmptestclient.h"
#include "routetest.h"

#include <gst/check/gstcheck.h>

#include <atomic>
#include <functional>
#include <thread>

using namespace castline::launcher;
using namespace routetest;
using castline::test::TestClient;

namespace {

/* a port free now, for rtmp.port (0 there turns RTMP off) */
int
free_port ()
{
  g_autoptr (GSocketListener) l = g_socket_listener_new ();
  guint16 port = g_socket_listener_add_any_inet_port (l, nullptr, nullptr);
  g_socket_listener_close (l);
  return port;
}

struct Server {
  std::unique_ptr<StreamManager> manager;
  std::unique_ptr<RtmpServer> rtmp;
  std::string id, key;

  explicit Server (Config c = test_config ())
  {
    c.rtmp.port = free_port ();
    /* the scripted frames are no real H.264: the end need not wait for them */
    c.shutdown_timeout = 1;
    manager = make_manager (c);
    rtmp = std::make_unique<RtmpServer> (*manager);
    std::string error;
    fail_unless (rtmp->start (error), "%s", error.c_str ());
    Refusal refusal;
    auto r = manager->create ("t", 0, "", std::nullopt, key, refusal);
    fail_unless (r.has_value ());
    id = r->id;
  }

  ~Server ()
  {
    manager->end (id);
    iterate_until ([this] { return manager->live_count () == 0; });
  }

  /* runs a publisher's script on a thread while the main context runs the
   * server (each_iteration called between its iterations); the answers it
   * read, in order */
  template <typename Script>
  std::vector<castline::test::Answer> publish (Script script,
      std::function<void ()> each_iteration = [] {})
  {
    std::atomic<bool> done { false };
    std::vector<castline::test::Answer> answers;
    int port = rtmp->port ();
    std::thread client ([&] {
          GIOStream *c = TestClient::connect_tcp (port);
          if (c) {
            TestClient t (c, 10);
            g_object_unref (c);
            script (t);
            answers = t.answers;
          }
          done = true;
        });
    iterate_until ([&done, &each_iteration] {
          each_iteration ();
          return done.load ();
        }, 30000);
    client.join ();
    return answers;
  }
};

/* the answer with this code, or nullptr (onFCPublish says
 * NetStream.Publish.Start before any decision: not an answer) */
const castline::test::Answer *
find (const std::vector<castline::test::Answer> & answers, const std::string & code)
{
  for (auto & a : answers)
    if (a.name != "onFCPublish" && a.code == code)
      return &a;
  return nullptr;
}

/* an Enhanced RTMP video sequence start: IsExHeader, keyframe, packet
 * type 0, FourCC hvc1, then (a stand-in for) its configuration record */
std::string
hevc_sequence_start (TestClient & t)
{
  std::string body ("\x90" "hvc1", 5);
  body += std::string ("\x01\x01\x60\x00\x00\x00", 6);
  return t.script.message (6, 9, 1, 0, body);
}

}  // namespace

GST_START_TEST (test_an_unknown_key_is_bad_name_and_closed)
{
  Server s;
  std::string code;
  bool closed = false;
  auto answers = s.publish ([&code, &closed] (TestClient & t) {
        code = t.publish ("live", "not-a-key");
        closed = t.wait_closed ();
      });
  fail_unless (code == "NetStream.Publish.BadName", "%s", code.c_str ());
  fail_unless (closed);
  fail_unless (find (answers, code)->description == "unknown stream key");
  fail_unless (s.manager->get (s.id)->state == StreamState::created);
  fail_unless_equals_int (s.rtmp->metrics ().refused, 1);
}
GST_END_TEST;

GST_START_TEST (test_an_unknown_application_is_refused_at_connect)
{
  Server s;
  std::string code;
  s.publish ([&s, &code] (TestClient & t) { code = t.publish ("other", s.key); });
  fail_unless (code == "NetConnection.Connect.Rejected", "%s", code.c_str ());
  fail_unless (s.manager->get (s.id)->state == StreamState::created);
}
GST_END_TEST;

GST_START_TEST (test_the_key_takes_its_stream_live)
{
  Server s;
  std::atomic<bool> live { false };
  std::string code;
  s.publish ([&s, &live, &code] (TestClient & t) {
        code = t.publish ("live", s.key);
        /* the stream goes live once the codecs are known: keep sending */
        for (uint32_t ts = 0; ts < 10000 && !live; ts += 40) {
          t.send (t.script.video_frame (ts, ts % 1000 == 0) + t.script.audio_frame (ts));
          g_usleep (10000);
        }
      }, [&s, &live] { live = live || s.manager->get (s.id)->state == StreamState::live; });
  fail_unless (code == "NetStream.Publish.Start", "%s", code.c_str ());
  fail_unless (live, "never live: %s", s.manager->get (s.id)->reason.c_str ());
  fail_unless (s.manager->get (s.id)->ingest == "rtmp");
  fail_unless_equals_int (s.rtmp->metrics ().accepted, 1);
}
GST_END_TEST;

GST_START_TEST (test_hevc_is_refused_naming_the_codec)
{
  Server s;
  auto answers = s.publish ([&s] (TestClient & t) {
        t.handshake ();
        t.send (t.script.set_chunk_size (4096));
        t.send (t.script.connect ("live", "rtmp://127.0.0.1/live"));
        t.send (t.script.publish (s.key));
        t.send (hevc_sequence_start (t));
        t.send (t.script.aac_sequence_header (0));
        std::string code;
        while (!(code = t.wait_code ()).empty () && code != "NetStream.Publish.Rejected") {}
        t.wait_closed ();
      });
  const castline::test::Answer *a = find (answers, "NetStream.Publish.Rejected");
  fail_unless (a != nullptr, "not refused");
  fail_unless (a->description.find ("hevc") != std::string::npos, "%s", a->description.c_str ());
  fail_unless (s.manager->get (s.id)->state == StreamState::created);
}
GST_END_TEST;

static Suite *
rtmpserver_suite ()
{
  Suite *s = suite_create ("rtmpserver");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_an_unknown_key_is_bad_name_and_closed);
  tcase_add_test (tc, test_an_unknown_application_is_refused_at_connect);
  tcase_add_test (tc, test_the_key_takes_its_stream_live);
  tcase_add_test (tc, test_hevc_is_refused_naming_the_codec);
  return s;
}

GST_CHECK_MAIN (rtmpserver);
