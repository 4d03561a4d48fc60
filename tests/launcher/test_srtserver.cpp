/* The launcher's SRT port (ingest/srt/srtserver.h) with a real
 * StreamManager on the main context (iterated here) and real libsrt
 * callers on threads of their own over loopback UDP: the stream found by
 * the stream id's key, bare or as SRT Access Control, each refusal as the
 * caller's srt_getrejectreason, a caller's MPEG-TS made HLS, its link
 * statistics while live, and stop () while a caller waits for the main
 * context.
 *
 * data/srt-h264-aac-6s.ts: 6 s of testsrc2 160x90 at 15 fps, GOP 15, and
 * a 440 Hz sine, made once with Debian's ffmpeg 5.1:
 *   ffmpeg -f lavfi -i testsrc2=size=160x90:rate=15:duration=6 \
 *     -f lavfi -i sine=frequency=440:sample_rate=48000:duration=6 \
 *     -c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 15 -b:v 100k \
 *     -c:a aac -b:a 32k -f mpegts srt-h264-aac-6s.ts */
#include "ingest/srt/srtserver.h"
#include "routetest.h"
#include "srt/srtsocket.h"

#include <gio/gio.h>
#include <gst/check/gstcheck.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <atomic>
#include <functional>
#include <thread>

using namespace castline::launcher;
using namespace routetest;

namespace {

constexpr size_t kPayload = 1316;      /* 7 TS packets: one SRT message */

/* a UDP port free now, for srt.port (0 there turns SRT off) */
int
free_udp_port ()
{
  g_autoptr (GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, nullptr);
  g_autoptr (GInetAddress) any = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) a = g_inet_socket_address_new (any, 0);
  fail_unless (g_socket_bind (s, a, FALSE, nullptr));
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (s, nullptr);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

constexpr char kH264Aac[] = CASTLINE_SOURCE_DIR "/tests/launcher/data/srt-h264-aac-6s.ts";
/* srtcore's: 1 s of H.265 and AAC */
constexpr char kHevcAac[] = CASTLINE_SOURCE_DIR "/tests/srt/data/hevc-aac.ts";

std::string
read_ts (const std::string & path)
{
  g_autofree gchar *data = nullptr;
  gsize size = 0;
  fail_unless (g_file_get_contents (path.c_str (), &data, &size, nullptr), "%s", path.c_str ());
  return std::string (data, size);
}

/* A libsrt caller on a thread of its own: connects with stream_id (and
 * passphrase, unless empty), then (when accepted) sends the TS file at
 * the test TS's bitrate, looped, until told to stop or its link breaks. */
class Caller {
 public:
  Caller (int port, std::string stream_id, std::string passphrase = "",
      std::string file = kH264Aac)
      : port_ (port), stream_id_ (std::move (stream_id)), passphrase_ (std::move (passphrase)),
        file_ (std::move (file))
  {
    thread_ = std::thread ([this] { run (); });
  }
  ~Caller ()
  {
    stop_ = true;
    thread_.join ();
  }

  bool finished_connecting () const { return connected_ || reject_ != 0; }
  bool connected () const { return connected_; }
  /* SRT_REJX_* (or SRT_REJ_*) once refused; 0 before */
  int reject () const { return reject_; }
  size_t sent () const { return sent_; }
  /* the link broke (the server closed it) */
  bool broken () const { return broken_; }

 private:
  void run ()
  {
    castline::srt::SrtSocket s (srt_create_socket ());
    srt_setsockflag (s.get (), SRTO_STREAMID, stream_id_.data (), (int) stream_id_.size ());
    int timeout_ms = 10000;
    srt_setsockflag (s.get (), SRTO_CONNTIMEO, &timeout_ms, sizeof timeout_ms);
    if (!passphrase_.empty ())
      srt_setsockflag (s.get (), SRTO_PASSPHRASE, passphrase_.data (), (int) passphrase_.size ());
    sockaddr_in sa {};
    sa.sin_family = AF_INET;
    sa.sin_port = htons ((uint16_t) port_);
    inet_pton (AF_INET, "127.0.0.1", &sa.sin_addr);
    if (srt_connect (s.get (), (sockaddr *) &sa, sizeof sa) == SRT_ERROR) {
      int r = srt_getrejectreason (s.get ());
      reject_ = r ? r : -1;
      return;
    }
    connected_ = true;
    std::string ts = read_ts (file_);
    /* the test TS's pace: 6 s of media in 152 KB, 116 messages */
    const gulong pause_us = 52000;
    for (size_t at = 0; !stop_; at = (at + kPayload) % (ts.size () - ts.size () % kPayload)) {
      if (srt_sendmsg2 (s.get (), ts.data () + at, (int) kPayload, nullptr) == SRT_ERROR) {
        broken_ = true;
        return;
      }
      sent_ += kPayload;
      g_usleep (pause_us);
    }
  }

  castline::srt::SrtLibrary lib_;
  int port_;
  std::string stream_id_, passphrase_, file_;
  std::atomic<bool> stop_ { false }, connected_ { false }, broken_ { false };
  std::atomic<int> reject_ { 0 };
  std::atomic<size_t> sent_ { 0 };
  std::thread thread_;
};

struct Server {
  std::unique_ptr<StreamManager> manager;
  std::unique_ptr<SrtServer> srt;
  std::string id, key;

  explicit Server (Config c = test_config (), const std::string & passphrase = "")
  {
    c.srt.passphrase = passphrase;
    c.srt.port = free_udp_port ();
    c.srt.host = "127.0.0.1";
    /* files on disk to look at (llhlssink keeps its playlist in memory) */
    c.hls_low_latency = false;
    c.hls_target_duration = 1;
    c.shutdown_timeout = 2;
    manager = make_manager (c);
    srt = std::make_unique<SrtServer> (*manager);
    std::string error;
    fail_unless (srt->start (error), "%s", error.c_str ());
    fail_unless (srt->port () == c.srt.port);
    Created s = create (*manager);
    id = s.id;
    key = s.key;
  }

  ~Server ()
  {
    manager->end (id);
    iterate_until ([this] { return manager->live_count () == 0; });
    srt.reset ();
    /* a late job of the server's finds it gone */
    iterate_until ([] { return !g_main_context_pending (nullptr); }, 500);
  }

  StreamState state () const { return manager->get (id)->state; }
  bool live () const { return state () == StreamState::live; }
};

/* the caller's answer, the main context running meanwhile */
void
wait_connect (Caller & c)
{
  fail_unless (iterate_until ([&c] { return c.finished_connecting (); }, 20000));
}

bool
has_segment (const std::string & dir)
{
  g_autofree gchar *playlist = nullptr;
  if (!g_file_get_contents ((dir + "/index.m3u8").c_str (), &playlist, nullptr, nullptr))
    return false;
  return strstr (playlist, ".ts") != nullptr;
}

}  // namespace

GST_START_TEST (test_the_key_takes_its_stream_live_and_makes_hls)
{
  Server s;
  Caller c (s.srt->port (), s.key);
  wait_connect (c);
  fail_unless (c.connected (), "refused %d", c.reject ());
  fail_unless (iterate_until ([&s] { return s.live (); }, 20000), "never live: %s",
      s.manager->get (s.id)->reason.c_str ());
  fail_unless (s.manager->get (s.id)->ingest == "srt");
  std::string dir = s.manager->hls_dir (s.id);
  fail_unless (iterate_until ([&dir] { return has_segment (dir); }, 30000), "no HLS in %s",
      dir.c_str ());
  /* the link while live */
  g_autoptr (GstStructure) link = s.manager->live (s.id)->ingest->link_stats ();
  fail_unless (link && gst_structure_has_name (link, "srt"));
  guint64 received = 0, bytes = 0;
  fail_unless (gst_structure_get_uint64 (link, "packets-received", &received) && received > 0,
      "%" GST_PTR_FORMAT, link);
  fail_unless (gst_structure_get_uint64 (link, "bytes-received", &bytes) && bytes > 0);
  fail_if (gst_structure_has_field (link, "remote-address"));
  fail_unless (s.srt->metrics ().accepted >= 1);
}
GST_END_TEST;

GST_START_TEST (test_an_unknown_key_is_unauthorized)
{
  Server s;
  Caller c (s.srt->port (), "no-such-key");
  wait_connect (c);
  fail_unless_equals_int (c.reject (), 1401);
  fail_unless (s.state () == StreamState::created);
  fail_unless (s.srt->metrics ().refused >= 1);
}
GST_END_TEST;

GST_START_TEST (test_a_second_caller_is_a_conflict)
{
  Server s;
  Caller first (s.srt->port (), s.key);
  wait_connect (first);
  fail_unless (first.connected ());
  fail_unless (iterate_until ([&s] { return s.live (); }, 20000));
  Caller second (s.srt->port (), s.key);
  wait_connect (second);
  fail_unless_equals_int (second.reject (), 1409);
  fail_unless (s.live ());
}
GST_END_TEST;

GST_START_TEST (test_playback_mode_is_a_bad_mode)
{
  Server s;
  Caller c (s.srt->port (), "#!::r=" + s.key + ",m=request");
  wait_connect (c);
  fail_unless_equals_int (c.reject (), 1405);
  fail_unless (s.state () == StreamState::created);
}
GST_END_TEST;

GST_START_TEST (test_access_control_publish_is_admitted)
{
  Server s;
  Caller c (s.srt->port (), "#!::r=" + s.key + ",m=publish");
  wait_connect (c);
  fail_unless (c.connected (), "refused %d", c.reject ());
  fail_unless (iterate_until ([&s] { return s.live (); }, 20000), "never live: %s",
      s.manager->get (s.id)->reason.c_str ());
}
GST_END_TEST;

/* SRT has no unpublish: a caller that closes its link is lost, the
 * stream interrupted (it may come back within the reconnect window) */
GST_START_TEST (test_a_caller_that_closes_is_lost)
{
  Server s;
  {
    Caller c (s.srt->port (), s.key);
    wait_connect (c);
    fail_unless (c.connected (), "refused %d", c.reject ());
    fail_unless (iterate_until ([&s] { return s.live (); }, 20000));
  }
  fail_unless (iterate_until ([&s] { return s.state () == StreamState::interrupted; }, 20000),
      "state %s", state_name (s.state ()));
  std::string reason = s.manager->get (s.id)->reason;
  fail_unless (reason.find ("the SRT caller was lost (closed)") != std::string::npos, "%s",
      reason.c_str ());
}
GST_END_TEST;

/* the ReceiverOptions come from the configuration: srt.passphrase */
GST_START_TEST (test_the_passphrase_is_required)
{
  Server s (test_config (), "correct horse battery");
  {
    Caller none (s.srt->port (), s.key);
    wait_connect (none);
    fail_unless (none.reject () != 0, "a caller without the passphrase got in");
    Caller wrong (s.srt->port (), s.key, "wrong horse battery");
    wait_connect (wrong);
    fail_unless_equals_int (wrong.reject (), SRT_REJ_BADSECRET);
  }
  fail_unless (s.state () == StreamState::created);
  Caller right (s.srt->port (), s.key, "correct horse battery");
  wait_connect (right);
  fail_unless (right.connected (), "refused %d", right.reject ());
  fail_unless (iterate_until ([&s] { return s.live (); }, 20000));
}
GST_END_TEST;

/* H.265: past the handshake, refused once its PMT is read (no pipeline
 * takes it): its link is closed, the stream untouched, the refusal counted */
GST_START_TEST (test_codecs_no_pipeline_takes_close_the_caller)
{
  Server s;
  Caller c (s.srt->port (), s.key, "", kHevcAac);
  wait_connect (c);
  fail_unless (c.connected (), "refused %d", c.reject ());
  fail_unless (iterate_until ([&c] { return c.broken (); }, 20000), "its link was never closed");
  fail_unless (s.state () == StreamState::created);
  fail_unless_equals_int (s.srt->metrics ().refused, 1);
}
GST_END_TEST;

/* stop () on the main context while libsrt's thread waits for it in
 * decide: it returns without the main context running, the caller is
 * refused (1402), and the job left on the main context finds the server
 * stopped */
GST_START_TEST (test_stop_while_a_caller_waits_returns)
{
  Server s;
  iterate_until ([] { return !g_main_context_pending (nullptr); }, 2000);
  Caller c (s.srt->port (), s.key);
  /* decide has posted its check: the main context has it pending */
  for (int i = 0; i < 2000 && !g_main_context_pending (nullptr); i++)
    g_usleep (5000);
  fail_unless (g_main_context_pending (nullptr), "decide never asked the main context");
  gint64 start = g_get_monotonic_time ();
  s.srt->stop ();
  gint64 took_ms = (g_get_monotonic_time () - start) / 1000;
  /* well before decide's own 2 s would have let it go */
  fail_unless (took_ms < 1900, "stop took %" G_GINT64_FORMAT " ms", took_ms);
  wait_connect (c);
  fail_unless_equals_int (c.reject (), 1402);
  fail_unless_equals_int (s.srt->port (), 0);
  iterate_until ([] { return !g_main_context_pending (nullptr); }, 500);
  fail_unless (s.state () == StreamState::created);
}
GST_END_TEST;

static Suite *
srtserver_suite ()
{
  Suite *s = suite_create ("srtserver");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 90);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_the_key_takes_its_stream_live_and_makes_hls);
  tcase_add_test (tc, test_an_unknown_key_is_unauthorized);
  tcase_add_test (tc, test_a_second_caller_is_a_conflict);
  tcase_add_test (tc, test_playback_mode_is_a_bad_mode);
  tcase_add_test (tc, test_access_control_publish_is_admitted);
  tcase_add_test (tc, test_a_caller_that_closes_is_lost);
  tcase_add_test (tc, test_the_passphrase_is_required);
  tcase_add_test (tc, test_codecs_no_pipeline_takes_close_the_caller);
  tcase_add_test (tc, test_stop_while_a_caller_waits_returns);
  return s;
}

GST_CHECK_MAIN (srtserver);
