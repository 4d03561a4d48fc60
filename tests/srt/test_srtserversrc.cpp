/* srtingestsrc (gstsrtserversrc.cpp) in a GstHarness, fed by libsrt callers over loopback: its
 * own listener (stream ids, refusals with SRT's reject reasons, a
 * passphrase), and callers handed over by add-caller (launcher mode). What
 * goes downstream (whole TS packets, the caps), the messages, how every
 * end of a caller ends the stream, the stats, and that the secrets stay
 * secret. */
/* libsrt's headers bring <iostream>: before gstcheck.h, whose fail ()
 * macro would break it */
#include "srttestcaller.h"
#include "tsdata.h"

#include <srt/access_control.h>

#include "../assertions.h"
#include "../harnessread.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

using castline::srt::SrtLibrary;
using castline::srt::SrtSocket;

namespace {

constexpr size_t kTs = 188;

/* h264-aac.ts (tests/srt/data) */
std::string
test_ts ()
{
  std::vector<uint8_t> ts = read_test_ts ("h264-aac.ts");
  fail_unless (!ts.empty () && ts.size () % kTs == 0);
  return std::string (ts.begin (), ts.end ());
}

/* A UDP relay on a loopback port of its own to `to`, both ways, on a
 * thread; cut () drops everything from then on: the caller vanishes
 * without a word (no shutdown, no keep-alive). */
struct Relay {
  int fd = -1;
  int port = 0;
  std::atomic<bool> cut_ {false}, stop_ {false};
  std::thread thread;

  explicit Relay (int to)
  {
    fd = socket (AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    fail_unless (bind (fd, (struct sockaddr *) &addr, sizeof (addr)) == 0);
    socklen_t len = sizeof (addr);
    getsockname (fd, (struct sockaddr *) &addr, &len);
    port = ntohs (addr.sin_port);
    thread = std::thread ([this, to] { run (to); });
  }
  ~Relay ()
  {
    stop_ = true;
    thread.join ();
    close (fd);
  }
  void cut () { cut_ = true; }

  void run (int to)
  {
    struct sockaddr_in server = {}, caller = {};
    server.sin_family = AF_INET;
    server.sin_port = htons (to);
    server.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    char datagram[2048];
    while (!stop_) {
      struct pollfd p = { fd, POLLIN, 0 };
      if (poll (&p, 1, 50) <= 0)
        continue;
      struct sockaddr_in from = {};
      socklen_t len = sizeof (from);
      ssize_t n = recvfrom (fd, datagram, sizeof (datagram), 0, (struct sockaddr *) &from, &len);
      if (n <= 0 || cut_)
        continue;
      bool from_server = from.sin_port == server.sin_port;
      if (!from_server)
        caller = from;
      const struct sockaddr_in & dest = from_server ? caller : server;
      sendto (fd, datagram, n, 0, (const struct sockaddr *) &dest, sizeof (dest));
    }
  }
};

/* a connected pair over loopback, made with a bare libsrt listener:
 * server is the accepted end; with_relay, the caller comes through a
 * Relay (cut () it to make the caller vanish) */
struct CallerPair {
  TestCaller caller;
  SRTSOCKET server = SRT_INVALID_SOCK;
  std::unique_ptr<Relay> relay;

  explicit CallerPair (bool with_relay = false)
  {
    SrtSocket listener (srt_create_socket ());
    struct sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    fail_unless (srt_bind (listener.get (), (struct sockaddr *) &addr, sizeof (addr)) == 0);
    int len = sizeof (addr);
    srt_getsockname (listener.get (), (struct sockaddr *) &addr, &len);
    fail_unless (srt_listen (listener.get (), 1) == 0);
    int port = ntohs (addr.sin_port);
    if (with_relay) {
      relay = std::make_unique<Relay> (port);
      port = relay->port;
    }
    fail_unless (caller.connect (port, "the-key"));
    server = srt_accept (listener.get (), nullptr, nullptr);
    fail_unless (server != SRT_INVALID_SOCK);
  }
  ~CallerPair ()
  {
    if (server != SRT_INVALID_SOCK)
      srt_close (server);
  }
};

struct SrcFixture : HarnessSource {
  explicit SrcFixture (const char *props = "port=-1")
      : HarnessSource (std::string ("srtingestsrc ") + props)
  {
  }

  int port ()
  {
    int port = 0;
    g_object_get (src, "bound-port", &port, nullptr);
    return port;
  }

  /* hands pair's accepted end over (TRUE: the element owns it now) */
  bool add (CallerPair & pair, GBytes * replay = nullptr)
  {
    gboolean taken = FALSE;
    g_signal_emit_by_name (src, "add-caller", (gint) pair.server, replay, "test-peer", &taken);
    if (taken)
      pair.server = SRT_INVALID_SOCK;
    return taken;
  }

  /* c calls the listener with stream_id (and passphrase) and sends ts,
   * which comes out whole */
  void live_caller (TestCaller & c, const std::string & ts, const std::string & stream_id,
      const std::string & passphrase = "")
  {
    fail_unless (c.connect (port (), stream_id, passphrase), "refused: %d", c.reject);
    c.send (ts);
    pull_bytes (ts.size ());
  }

  /* pair's accepted end handed over, its caller sends ts, which comes
   * out whole */
  void live_pair (CallerPair & pair, const std::string & ts)
  {
    fail_unless (add (pair));
    pair.caller.send (ts);
    pull_bytes (ts.size ());
  }

  /* pulls buffers until n bytes came (each buffer whole TS packets) */
  void pull_bytes (size_t n)
  {
    while (bytes.size () < n) {
      GstBuffer *b = gst_harness_pull (h);
      fail_unless (b);
      fail_unless (gst_buffer_get_size (b) % kTs == 0, "a buffer of %" G_GSIZE_FORMAT " bytes",
          gst_buffer_get_size (b));
      fail_unless (gst_buffer_get_size (b) <= 64 * 1024);
      append_buffer (bytes, b);
    }
  }

  bool read_to_eos (GstClockTime timeout = 10 * GST_SECOND)
  {
    return harness_read_to_eos (h, bytes, timeout);
  }

  /* the next element message of that name (a copy), or nullptr after the
   * time-out; warnings and errors seen on the way are counted */
  GstStructure *wait_message (const char *name, GstClockTime timeout = 5 * GST_SECOND)
  {
    return wait_bus (timeout, [&] (GstMessage * m) -> GstStructure * {
      if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_WARNING)
        warnings++;
      else if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
        errors++;
        GError *err = nullptr;
        gst_message_parse_error (m, &err, nullptr);
        error_text = err->message;
        g_error_free (err);
      } else if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT
          && gst_structure_has_name (gst_message_get_structure (m), name))
        return gst_structure_copy (gst_message_get_structure (m));
      return nullptr;
    });
  }

  /* the disconnected message's reason (the warning or error, when there
   * is one, comes right after) */
  std::string disconnect_reason (GstClockTime timeout = 5 * GST_SECOND)
  {
    g_autoptr (GstStructure) s = wait_message ("srtserversrc-caller-disconnected", timeout);
    fail_unless (s, "no srtserversrc-caller-disconnected");
    g_autoptr (GstStructure) none = wait_message ("none", 300 * GST_MSECOND);
    return gst_structure_get_string (s, "reason");
  }

  GstStructure *stats ()
  {
    GstStructure *s = nullptr;
    g_object_get (src, "stats", &s, nullptr);
    fail_unless (s);
    return s;
  }

  std::string bytes;
  int warnings = 0;
  int errors = 0;
  std::string error_text;
};

/* every 188-byte packet of bytes starts with 0x47 */
void
assert_whole_packets (const std::string & bytes)
{
  fail_unless (bytes.size () % kTs == 0);
  for (size_t at = 0; at < bytes.size (); at += kTs)
    fail_unless_equals_int ((uint8_t) bytes[at], 0x47);
}

void
assert_caps (GstHarness * h)
{
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (caps);
  g_autoptr (GstCaps) want = gst_caps_from_string (
      "video/mpegts, systemstream=(boolean)true, packetsize=(int)188");
  fail_unless (gst_caps_is_equal (caps, want), "caps %" GST_PTR_FORMAT, caps);
}

}  // namespace

/* ---- standalone: its own listener ---- */

GST_START_TEST (test_standalone_outputs_whole_packets)
{
  SrtLibrary lib;
  std::string ts = test_ts ();
  SrcFixture f ("port=0 host=127.0.0.1 stream-id=the-key");
  fail_unless (f.port () > 0);
  TestCaller c;
  fail_unless (c.connect (f.port (), "the-key"));
  /* a message split across packets: 1316-byte messages, and a packet
   * split over two sends */
  c.send (ts.substr (0, 1000));
  c.send (ts.substr (1000));
  g_autoptr (GstStructure) connected = f.wait_message ("srtserversrc-caller-connected");
  fail_unless (connected);
  assert_has (gst_structure_get_string (connected, "remote-address"), "127.0.0.1:");
  f.pull_bytes (ts.size ());
  assert_caps (f.h);
  fail_unless (f.bytes == ts, "the TS out is not the TS in");
  assert_whole_packets (f.bytes);

  c.close ();
  fail_unless (f.read_to_eos (), "no EOS");
  fail_unless_equals_int (f.bytes.size (), ts.size ());
  assert_str_eq (f.disconnect_reason (), "closed");
  fail_unless_equals_int (f.warnings, 1);
  fail_unless_equals_int (f.errors, 0);
}
GST_END_TEST;

GST_START_TEST (test_access_control_stream_id)
{
  SrtLibrary lib;
  std::string ts = test_ts ();
  SrcFixture f ("port=0 host=127.0.0.1 stream-id=the-key");
  TestCaller c;
  f.live_caller (c, ts, "#!::r=the-key,m=publish");
  fail_unless (f.bytes == ts);
}
GST_END_TEST;

GST_START_TEST (test_refusals_carry_reject_reasons)
{
  SrtLibrary lib;
  std::string ts = test_ts ();
  SrcFixture f ("port=0 host=127.0.0.1 stream-id=the-key");
  {
    TestCaller wrong;
    fail_if (wrong.connect (f.port (), "not-the-key"));
    fail_unless_equals_int (wrong.reject, SRT_REJX_UNAUTHORIZED);
  }
  {
    TestCaller playback;
    fail_if (playback.connect (f.port (), "#!::r=the-key,m=request"));
    fail_unless_equals_int (playback.reject, SRT_REJX_BAD_MODE);
  }
  TestCaller c;
  f.live_caller (c, ts, "the-key");
  TestCaller second;
  fail_if (second.connect (f.port (), "the-key"));
  fail_unless_equals_int (second.reject, SRT_REJX_CONFLICT);
}
GST_END_TEST;

GST_START_TEST (test_any_key_without_stream_id)
{
  SrtLibrary lib;
  std::string ts = test_ts ();
  SrcFixture f ("port=0 host=127.0.0.1");
  TestCaller none;
  fail_if (none.connect (f.port (), ""));
  fail_unless_equals_int (none.reject, SRT_REJX_BAD_REQUEST);
  TestCaller c;
  f.live_caller (c, ts, "whatever");
  fail_unless (f.bytes == ts);
}
GST_END_TEST;

GST_START_TEST (test_passphrase)
{
  SrtLibrary lib;
  std::string ts = test_ts ();
  SrcFixture f ("port=0 host=127.0.0.1 stream-id=the-key passphrase=0123456789abc");
  {
    TestCaller clear;
    fail_if (clear.connect (f.port (), "the-key"));
    TestCaller other;
    fail_if (other.connect (f.port (), "the-key", "another-passphrase"));
    fail_unless_equals_int (other.reject, SRT_REJ_BADSECRET);
  }
  TestCaller c;
  f.live_caller (c, ts, "the-key", "0123456789abc");
  fail_unless (f.bytes == ts);
}
GST_END_TEST;

GST_START_TEST (test_idle_caller_times_out)
{
  SrtLibrary lib;
  std::string ts = test_ts ();
  SrcFixture f ("port=0 host=127.0.0.1 idle-timeout=1");
  TestCaller c;
  f.live_caller (c, ts, "k");
  /* connected, keep-alives flowing, nothing sent */
  fail_unless (f.read_to_eos (), "no EOS");
  assert_str_eq (f.disconnect_reason (), "timeout");
  fail_unless_equals_int (f.warnings, 1);
}
GST_END_TEST;

GST_START_TEST (test_end_caller)
{
  SrtLibrary lib;
  std::string ts = test_ts ();
  SrcFixture f ("port=0 host=127.0.0.1");
  TestCaller c;
  f.live_caller (c, ts, "k");
  g_signal_emit_by_name (f.src, "end-caller", "over");
  fail_unless (f.read_to_eos (), "no EOS");
  g_autoptr (GstStructure) s = f.wait_message ("srtserversrc-caller-disconnected");
  fail_unless (s);
  assert_str_eq (gst_structure_get_string (s, "reason"), "ended");
  assert_str_eq (gst_structure_get_string (s, "description"), "over");
  fail_unless_equals_int (f.warnings, 0);
  /* the caller sees its link go */
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (srt_getsockstate (c.socket.get ()) == SRTS_CONNECTED && g_get_monotonic_time () < deadline)
    g_usleep (20000);
  fail_unless (srt_getsockstate (c.socket.get ()) != SRTS_CONNECTED);
}
GST_END_TEST;

GST_START_TEST (test_stats)
{
  SrtLibrary lib;
  std::string ts = test_ts ();
  SrcFixture f ("port=0 host=127.0.0.1 latency=200");
  {
    g_autoptr (GstStructure) none = f.stats ();
    fail_unless (gst_structure_has_name (none, "srt-stats"));
    fail_unless_equals_int (gst_structure_n_fields (none), 0);
  }
  TestCaller c;
  f.live_caller (c, ts, "k");
  g_autoptr (GstStructure) s = f.stats ();
  guint64 packets = 0, bytes = 0, resyncs = 99;
  guint latency = 0;
  double rtt = -1;
  fail_unless (gst_structure_get_uint64 (s, "packets-received", &packets));
  fail_unless (packets >= ts.size () / TestCaller::kMessage, "%" G_GUINT64_FORMAT " packets", packets);
  fail_unless (gst_structure_get_uint64 (s, "bytes-received", &bytes));
  fail_unless (bytes >= ts.size ());
  fail_unless (gst_structure_get_uint64 (s, "ts-resyncs", &resyncs));
  fail_unless_equals_int (resyncs, 0);
  fail_unless (gst_structure_get_uint (s, "latency-ms", &latency));
  fail_unless_equals_int (latency, 200);
  fail_unless (gst_structure_get_double (s, "rtt-ms", &rtt) && rtt >= 0);
  for (const char *name : { "receive-rate-mbps", "bandwidth-mbps" })
    fail_unless (gst_structure_has_field_typed (s, name, G_TYPE_DOUBLE), "%s", name);
  for (const char *name : { "packets-lost", "packets-retransmitted", "packets-dropped",
           "packets-undecrypted" })
    fail_unless (gst_structure_has_field_typed (s, name, G_TYPE_UINT64), "%s", name);
  assert_has (gst_structure_get_string (s, "remote-address"), "127.0.0.1:");

  c.close ();
  fail_unless (f.read_to_eos ());
  g_autoptr (GstStructure) after = f.stats ();
  fail_unless_equals_int (gst_structure_n_fields (after), 0);
}
GST_END_TEST;

/* ---- launcher mode: add-caller ---- */

GST_START_TEST (test_add_caller_with_replay)
{
  SrtLibrary lib;
  std::string ts = test_ts ();
  SrcFixture f ("port=-1");
  CallerPair pair;
  /* the listener read 1000 bytes already: a packet split over the
   * hand-over */
  g_autoptr (GBytes) replay = g_bytes_new (ts.data (), 1000);
  fail_unless (f.add (pair, replay));
  g_autoptr (GstStructure) connected = f.wait_message ("srtserversrc-caller-connected");
  fail_unless (connected);
  assert_str_eq (gst_structure_get_string (connected, "remote-address"), "test-peer");
  pair.caller.send (ts.substr (1000));
  f.pull_bytes (ts.size ());
  fail_unless (f.bytes == ts);

  /* one caller a run */
  CallerPair second;
  fail_if (f.add (second));
  fail_unless (second.server != SRT_INVALID_SOCK);

  pair.caller.close ();
  fail_unless (f.read_to_eos ());
  assert_str_eq (f.disconnect_reason (), "closed");
}
GST_END_TEST;

GST_START_TEST (test_add_caller_refused_when_stopped)
{
  SrtLibrary lib;
  GstElement *src = gst_element_factory_make ("srtingestsrc", nullptr);
  g_object_set (src, "port", -1, nullptr);
  CallerPair pair;
  gboolean taken = TRUE;
  g_signal_emit_by_name (src, "add-caller", (gint) pair.server, nullptr, nullptr, &taken);
  fail_if (taken);
  gst_object_unref (src);
}
GST_END_TEST;

GST_START_TEST (test_not_ts_is_an_error)
{
  SrtLibrary lib;
  SrcFixture f ("port=-1");
  CallerPair pair;
  fail_unless (f.add (pair));
  std::string garbage (70 * 1024, 'x');
  pair.caller.send (garbage);
  g_autoptr (GstStructure) s = f.wait_message ("srtserversrc-caller-disconnected");
  fail_unless (s);
  assert_str_eq (gst_structure_get_string (s, "reason"), "not-ts");
  g_autoptr (GstStructure) none = f.wait_message ("none", 300 * GST_MSECOND);
  fail_unless_equals_int (f.errors, 1);
  assert_has (f.error_text, "does not send MPEG-TS");
  fail_unless (f.read_to_eos ());
  fail_unless_equals_int (f.bytes.size (), 0);
}
GST_END_TEST;

GST_START_TEST (test_garbage_before_sync_is_dropped)
{
  SrtLibrary lib;
  std::string ts = test_ts ();
  SrcFixture f ("port=-1");
  CallerPair pair;
  g_autoptr (GBytes) replay = g_bytes_new ("garbage", 7);
  fail_unless (f.add (pair, replay));
  pair.caller.send (ts);
  f.pull_bytes (ts.size ());
  fail_unless (f.bytes == ts);
}
GST_END_TEST;

GST_START_TEST (test_end_before_any_caller)
{
  SrtLibrary lib;
  SrcFixture f ("port=-1");
  g_signal_emit_by_name (f.src, "end-caller", "no one came");
  fail_unless (f.read_to_eos ());
  CallerPair pair;
  fail_if (f.add (pair));
}
GST_END_TEST;

GST_START_TEST (test_vanished_caller_times_out)
{
  SrtLibrary lib;
  std::string ts = test_ts ();
  SrcFixture f ("port=-1 idle-timeout=0");
  /* libsrt breaks a silent link after SRTO_PEERIDLETIMEO (5 s), or 16
   * expiry periods if longer: about 5 s too, whatever is set */
  CallerPair pair (true);
  f.live_pair (pair, ts);
  pair.relay->cut ();
  fail_unless (f.read_to_eos (), "no EOS");
  g_autoptr (GstStructure) s = f.wait_message ("srtserversrc-caller-disconnected");
  fail_unless (s);
  assert_str_eq (gst_structure_get_string (s, "reason"), "timeout");
  assert_has (gst_structure_get_string (s, "description"), "SRTO_PEERIDLETIMEO");
}
GST_END_TEST;

/* gst-launch-1.0 -e: an EOS event on the element (basesrc calls unlock
 * () and unlock_stop () at once) ends a run that waits for a caller, and
 * one that reads a silent caller */
GST_START_TEST (test_eos_event_while_waiting)
{
  SrtLibrary lib;
  SrcFixture f ("port=-1");
  g_usleep (100000);
  fail_unless (gst_element_send_event (f.src, gst_event_new_eos ()));
  fail_unless (f.read_to_eos (3 * GST_SECOND), "no EOS");
}
GST_END_TEST;

GST_START_TEST (test_eos_event_while_reading)
{
  SrtLibrary lib;
  std::string ts = test_ts ();
  SrcFixture f ("port=-1 idle-timeout=0");
  CallerPair pair;
  f.live_pair (pair, ts);
  fail_unless (gst_element_send_event (f.src, gst_event_new_eos ()));
  fail_unless (f.read_to_eos (3 * GST_SECOND), "no EOS");
}
GST_END_TEST;

/* ---- stopping ---- */

GST_START_TEST (test_stop_while_waiting)
{
  SrtLibrary lib;
  auto f = std::make_unique<SrcFixture> ("port=0 host=127.0.0.1");
  g_usleep (100000);
  gint64 start = g_get_monotonic_time ();
  f.reset ();
  fail_unless (g_get_monotonic_time () - start < G_USEC_PER_SEC);
}
GST_END_TEST;

GST_START_TEST (test_stop_while_reading)
{
  SrtLibrary lib;
  std::string ts = test_ts ();
  auto f = std::make_unique<SrcFixture> ("port=-1 idle-timeout=0");
  CallerPair pair;
  f->live_pair (pair, ts);
  gint64 start = g_get_monotonic_time ();
  f.reset ();
  fail_unless (g_get_monotonic_time () - start < G_USEC_PER_SEC);
  /* the caller's link goes */
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (srt_getsockstate (pair.caller.socket.get ()) == SRTS_CONNECTED
      && g_get_monotonic_time () < deadline)
    g_usleep (20000);
  fail_unless (srt_getsockstate (pair.caller.socket.get ()) != SRTS_CONNECTED);
}
GST_END_TEST;

/* ---- secrets ---- */

GST_START_TEST (test_secrets_not_readable)
{
  GstElement *src = gst_element_factory_make ("srtingestsrc", nullptr);
  for (const char *name : { "stream-id", "passphrase" }) {
    GParamSpec *spec = g_object_class_find_property (G_OBJECT_GET_CLASS (src), name);
    fail_unless (spec && !(spec->flags & G_PARAM_READABLE), "%s is readable", name);
  }
  gst_object_unref (src);

  gchar *out = nullptr;
  gint status = -1;
  const gchar *argv[] = { "gst-inspect-1.0", "srtingestsrc", nullptr };
  fail_unless (g_spawn_sync (nullptr, (gchar **) argv, nullptr, G_SPAWN_SEARCH_PATH, nullptr,
          nullptr, &out, nullptr, &status, nullptr));
  std::string text = out;
  g_free (out);
  fail_unless (g_spawn_check_wait_status (status, nullptr), "%s", text.c_str ());
  for (const char *name : { "host", "port", "bound-port", "stream-id", "latency", "passphrase",
           "pbkeylen", "max-payload-size", "receive-buffer-size", "idle-timeout",
           "prelude-timeout", "stats", "add-caller", "end-caller" })
    assert_has (text, name);
  assert_has (text, "gst-launch-1.0");
}
GST_END_TEST;

static std::mutex log_lock;
static std::string log_text;

static void
capture_log (GstDebugCategory * category, GstDebugLevel, const gchar *, const gchar *, gint,
    GObject *, GstDebugMessage * message, gpointer)
{
  const gchar *text = gst_debug_message_get (message);
  std::lock_guard<std::mutex> lk (log_lock);
  log_text += gst_debug_category_get_name (category);
  log_text += ' ';
  log_text += text ? text : "";
  log_text += '\n';
}

GST_START_TEST (test_secrets_not_logged)
{
  SrtLibrary lib;
  std::string ts = test_ts ();
  gst_debug_set_active (TRUE);
  gst_debug_add_log_function (capture_log, nullptr, nullptr);
  gst_debug_set_default_threshold (GST_LEVEL_MEMDUMP);
  {
    GstElement *src = gst_element_factory_make ("srtingestsrc", nullptr);
    g_object_set (src, "port", 0, "host", "127.0.0.1", "stream-id", "sEcReT-kEy",
        "passphrase", "pAsS-pHrAsE-1", nullptr);
    GstHarness *h = gst_harness_new_with_element (src, nullptr, "src");
    gst_harness_play (h);
    int port = 0;
    g_object_get (src, "bound-port", &port, nullptr);
    TestCaller wrong;
    fail_if (wrong.connect (port, "sEcReT-kEy-not", "pAsS-pHrAsE-1"));
    TestCaller c;
    fail_unless (c.connect (port, "#!::r=sEcReT-kEy", "pAsS-pHrAsE-1"));
    c.send (ts);
    std::string bytes;
    while (bytes.size () < ts.size ())
      append_buffer (bytes, gst_harness_pull (h));
    g_signal_emit_by_name (src, "end-caller", "done");
    fail_unless (harness_read_to_eos (h, bytes));
    gst_harness_teardown (h);
  }
  gst_debug_set_default_threshold (GST_LEVEL_NONE);
  gst_debug_remove_log_function (capture_log);
  std::string text;
  {
    std::lock_guard<std::mutex> lk (log_lock);
    text.swap (log_text);
  }
  /* the log is large: say where a secret stands, not all of it */
  fail_unless (text.find ("srtingestsrc") != std::string::npos, "no log of srtingestsrc");
  for (const char *secret : { "sEcReT", "pAsS" }) {
    size_t at = text.find (secret);
    fail_unless (at == std::string::npos, "a secret is in the log: ...%s...",
        text.substr (at > 200 ? at - 200 : 0, 400).c_str ());
  }
}
GST_END_TEST;

static Suite *
srtserversrc_suite (void)
{
  Suite *s = suite_create ("srtingestsrc");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_standalone_outputs_whole_packets);
  tcase_add_test (tc, test_access_control_stream_id);
  tcase_add_test (tc, test_refusals_carry_reject_reasons);
  tcase_add_test (tc, test_any_key_without_stream_id);
  tcase_add_test (tc, test_passphrase);
  tcase_add_test (tc, test_idle_caller_times_out);
  tcase_add_test (tc, test_end_caller);
  tcase_add_test (tc, test_stats);
  tcase_add_test (tc, test_add_caller_with_replay);
  tcase_add_test (tc, test_add_caller_refused_when_stopped);
  tcase_add_test (tc, test_not_ts_is_an_error);
  tcase_add_test (tc, test_garbage_before_sync_is_dropped);
  tcase_add_test (tc, test_end_before_any_caller);
  tcase_add_test (tc, test_vanished_caller_times_out);
  tcase_add_test (tc, test_eos_event_while_waiting);
  tcase_add_test (tc, test_eos_event_while_reading);
  tcase_add_test (tc, test_stop_while_waiting);
  tcase_add_test (tc, test_stop_while_reading);
  tcase_add_test (tc, test_secrets_not_readable);
  tcase_add_test (tc, test_secrets_not_logged);
  return s;
}

GST_CHECK_MAIN (srtserversrc);
