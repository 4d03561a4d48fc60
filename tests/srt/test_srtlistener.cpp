/* SrtListener against real libsrt callers over loopback: refusals the
 * caller sees (decide's, the stream id's, libsrt's own for a passphrase
 * mismatch), the prelude (codecs, the replay, then the rest on the handed
 * socket), callers that send garbage or nothing, several at once, and
 * stop () with callers mid-prelude or a decide that blocks. */
#include "srt/srtlistener.h"

/* before gstcheck.h: its fail () macro breaks the C++ streams srt.h pulls in */
#include <srt/access_control.h>
#include <srt/srt.h>

#include "srttestcaller.h"

#include "tsdata.h"

#include "../assertions.h"

#include <gst/check/gstcheck.h>
#include <netinet/in.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

using namespace castline::srt;

namespace {

constexpr size_t kMessage = 7 * 188;

/* waits (bounded) until done () holds */
template <typename F>
bool
wait_until (F done, int timeout_ms = 8000)
{
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (done ())
      return true;
    g_usleep (10 * 1000);
  }
  return done ();
}

/* A listener on a free loopback port, whose decide and ready the test
 * sets; ready's callers are kept. */
struct Fixture {
  SrtLibrary library;
  ListenerSettings settings;
  std::function<Verdict (const CallerRequest &)> decide = [] (const CallerRequest &) {
    return Verdict::accept ();
  };
  std::mutex lock;
  std::vector<Caller> ready;
  std::atomic<int> decided { 0 };
  std::unique_ptr<SrtListener> listener;

  Fixture ()
  {
    settings.host = "127.0.0.1";
    settings.port = 0;
  }

  void start ()
  {
    listener = std::make_unique<SrtListener> (settings,
        [this] (const CallerRequest & r) {
          decided++;
          return decide (r);
        },
        [this] (Caller && c) {
          std::lock_guard<std::mutex> guard (lock);
          ready.push_back (std::move (c));
        });
    std::string error;
    fail_unless (listener->start (error), "start: %s", error.c_str ());
    fail_unless (listener->port () > 0);
  }

  size_t ready_count ()
  {
    std::lock_guard<std::mutex> guard (lock);
    return ready.size ();
  }
};

std::vector<uint8_t>
bytes_of (GBytes *b)
{
  gsize size = 0;
  const auto *p = (const uint8_t *) g_bytes_get_data (b, &size);
  return std::vector<uint8_t> (p, p + size);
}

}  // namespace

GST_START_TEST (test_ready_with_codecs_and_replay)
{
  Fixture f;
  std::string seen_key;
  f.decide = [&] (const CallerRequest & r) {
    seen_key = r.stream.key;
    fail_unless (g_str_has_prefix (r.remote_address.c_str (), "127.0.0.1:"));
    return Verdict::accept ();
  };
  f.start ();
  auto ts = read_test_ts ("h264-aac.ts");
  TestCaller c;
  fail_unless (c.connect (f.listener->port (), "k3y-1"));
  c.send (ts);
  fail_unless (wait_until ([&] { return f.ready_count () == 1; }));
  assert_str_eq (seen_key, "k3y-1");
  fail_unless_equals_uint64 (f.listener->accepted (), 1);

  Caller & caller = f.ready[0];
  assert_str_eq (caller.request.stream.key, "k3y-1");
  assert_str_eq (caller.video, "h264");
  assert_str_eq (caller.audio, "aac");
  fail_unless (caller.socket);

  /* the replay, then what the handed socket still has, is what was sent */
  auto got = bytes_of (caller.replay);
  fail_unless (got.size () > 0 && got.size () < ts.size ());
  fail_unless (wait_until ([&] {
    char buf[1500];
    int n;
    while ((n = srt_recvmsg (caller.socket.get (), buf, sizeof (buf))) > 0)
      got.insert (got.end (), buf, buf + n);
    return got.size () >= ts.size ();
  }));
  fail_unless (got == ts);
}
GST_END_TEST;

GST_START_TEST (test_decide_refusals_reach_the_caller)
{
  Fixture f;
  f.decide = [] (const CallerRequest & r) {
    if (r.stream.key == "live")
      return Verdict { SRT_REJX_CONFLICT, "live already" };
    return Verdict { SRT_REJX_UNAUTHORIZED, "unknown key" };
  };
  f.start ();
  TestCaller unknown, live;
  fail_if (unknown.connect (f.listener->port (), "nope"));
  fail_unless_equals_int (unknown.reject, SRT_REJX_UNAUTHORIZED);
  fail_if (live.connect (f.listener->port (), "#!::r=live,m=publish"));
  fail_unless_equals_int (live.reject, SRT_REJX_CONFLICT);
  fail_unless_equals_uint64 (f.listener->refused (), 2);
  fail_unless_equals_uint64 (f.listener->accepted (), 0);
  fail_unless_equals_int (f.ready_count (), 0);
}
GST_END_TEST;

GST_START_TEST (test_bad_ids_refused_before_decide)
{
  Fixture f;
  f.start ();
  TestCaller playback, none, unknown_key;
  fail_if (playback.connect (f.listener->port (), "#!::r=k3y,m=request"));
  fail_unless_equals_int (playback.reject, SRT_REJX_BAD_MODE);
  fail_if (none.connect (f.listener->port (), ""));
  fail_unless_equals_int (none.reject, SRT_REJX_BAD_REQUEST);
  fail_if (unknown_key.connect (f.listener->port (), "#!::r=k3y,z=1"));
  fail_unless_equals_int (unknown_key.reject, SRT_REJX_KEY_NOTSUP);
  fail_unless_equals_int (f.decided, 0);
  fail_unless_equals_uint64 (f.listener->refused (), 3);

  /* the Access Control form reaches decide with its key */
  std::string key;
  f.decide = [&] (const CallerRequest & r) {
    key = r.stream.key;
    fail_unless (r.stream.access_control);
    return Verdict::accept ();
  };
  TestCaller publisher;
  fail_unless (publisher.connect (f.listener->port (), "#!::r=k3y,m=publish"));
  assert_str_eq (key, "k3y");
}
GST_END_TEST;

GST_START_TEST (test_garbage_caller_is_closed)
{
  Fixture f;
  f.start ();
  std::string text;
  while (text.size () < 80 * 1024)
    text += "this is not an MPEG transport stream, it is text. ";
  TestCaller c;
  fail_unless (c.connect (f.listener->port (), "k3y"));
  c.send (std::vector<uint8_t> (text.begin (), text.end ()));
  fail_unless (wait_until ([&] { return f.listener->not_ts () == 1; }));
  fail_unless_equals_int (f.ready_count (), 0);
  /* the caller's link is closed */
  fail_unless (wait_until ([&] { return srt_getsockstate (c.socket.get ()) > SRTS_CONNECTED; }));
}
GST_END_TEST;

GST_START_TEST (test_silent_caller_times_out)
{
  Fixture f;
  f.settings.prelude_timeout_s = 1;
  f.start ();
  TestCaller c;
  fail_unless (c.connect (f.listener->port (), "k3y"));
  fail_unless (wait_until ([&] { return f.listener->timed_out () == 1; }));
  fail_unless_equals_uint64 (f.listener->not_ts (), 0);
  fail_unless_equals_int (f.ready_count (), 0);
}
GST_END_TEST;

GST_START_TEST (test_no_pmt_within_the_prelude_bound)
{
  /* TS without its PAT: whole packets, but no codecs ever; past
   * max_prelude_bytes it is closed as not_ts, before its time-out */
  Fixture f;
  f.settings.max_prelude_bytes = 8 * 1024;
  f.settings.prelude_timeout_s = 30;
  f.start ();
  auto ts = read_test_ts ("h264-aac.ts");
  std::vector<uint8_t> no_pat;
  for (size_t off = 0; off < ts.size (); off += 188) {
    if (((ts[off + 1] & 0x1f) << 8 | ts[off + 2]) != 0)
      no_pat.insert (no_pat.end (), ts.begin () + off, ts.begin () + off + 188);
  }
  TestCaller c;
  fail_unless (c.connect (f.listener->port (), "k3y"));
  c.send (no_pat);
  fail_unless (wait_until ([&] { return f.listener->not_ts () == 1; }));
  fail_unless_equals_uint64 (f.listener->timed_out (), 0);
  fail_unless_equals_int (f.ready_count (), 0);
}
GST_END_TEST;

GST_START_TEST (test_hosts)
{
  /* "::" takes IPv4 callers too; "localhost" is 127.0.0.1; a name that
   * does not resolve is an error */
  for (const char *host : { "::", "localhost", "0.0.0.0" }) {
    Fixture f;
    f.settings.host = host;
    f.start ();
    TestCaller c;
    fail_unless (c.connect (f.listener->port (), "k3y"), "%s", host);
  }
  /* a port another listener has */
  Fixture first;
  first.start ();
  ListenerSettings same;
  same.host = "127.0.0.1";
  same.port = first.listener->port ();
  SrtListener second (same, [] (const CallerRequest &) { return Verdict::accept (); },
      [] (Caller &&) {});
  std::string in_use;
  fail_if (second.start (in_use));
  GST_INFO ("a port in use: %s", in_use.c_str ());
  assert_has (in_use, "cannot listen on 127.0.0.1:" + std::to_string (same.port));

  ListenerSettings bad;
  bad.host = "no-such-host.invalid";
  SrtListener l (bad, [] (const CallerRequest &) { return Verdict::accept (); },
      [] (Caller &&) {});
  std::string error;
  fail_if (l.start (error));
  assert_has (error, "no-such-host.invalid");
}
GST_END_TEST;

GST_START_TEST (test_passphrase)
{
  Fixture f;
  f.settings.receiver.passphrase = "correct horse battery";
  f.start ();
  TestCaller without, wrong, right;
  fail_if (without.connect (f.listener->port (), "k3y"));
  fail_if (wrong.connect (f.listener->port (), "k3y", "wrong horse battery"));
  /* libsrt 1.5.1: a caller without a passphrase is refused SRT_REJ_UNSECURE,
   * one with another passphrase SRT_REJ_BADSECRET */
  GST_INFO ("without a passphrase: %d (%s); a wrong one: %d (%s)", without.reject,
      reject_reason_name (without.reject), wrong.reject, reject_reason_name (wrong.reject));
  fail_unless_equals_int (without.reject, SRT_REJ_UNSECURE);
  fail_unless_equals_int (wrong.reject, SRT_REJ_BADSECRET);

  fail_unless (right.connect (f.listener->port (), "k3y", "correct horse battery"));
  right.send (read_test_ts ("h264-opus.ts"));
  fail_unless (wait_until ([&] { return f.ready_count () == 1; }));
  assert_str_eq (f.ready[0].audio, "opus");

  /* a passphrase libsrt refuses: start () says why */
  ListenerSettings bad;
  bad.host = "127.0.0.1";
  bad.port = 0;
  bad.receiver.passphrase = "short";
  SrtListener l (bad, [] (const CallerRequest &) { return Verdict::accept (); },
      [] (Caller &&) {});
  std::string error;
  fail_if (l.start (error));
  assert_has (error, "passphrase");
  assert_lacks (error, "short");
}
GST_END_TEST;

GST_START_TEST (test_three_callers_at_once)
{
  Fixture f;
  f.start ();
  const char *files[] = { "h264-aac.ts", "hevc-aac.ts", "aac-only.ts" };
  std::vector<std::thread> threads;
  std::atomic<int> connected { 0 };
  for (int i = 0; i < 3; i++) {
    threads.emplace_back ([&, i] {
      TestCaller c;
      if (!c.connect (f.listener->port (), "key-" + std::to_string (i)))
        return;
      connected++;
      c.send (read_test_ts (files[i]));
      /* stay until the listener has read it */
      wait_until ([&] { return f.ready_count () == 3; });
    });
  }
  for (auto & t : threads)
    t.join ();
  fail_unless_equals_int (connected, 3);
  fail_unless_equals_int (f.ready_count (), 3);
  for (const Caller & c : f.ready) {
    const std::string & key = c.request.stream.key;
    if (key == "key-0") {
      assert_str_eq (c.video, "h264");
    } else if (key == "key-1") {
      assert_str_eq (c.video, "h265");
    } else {
      assert_str_eq (key, "key-2");
      assert_str_eq (c.video, "");
    }
    assert_str_eq (c.audio, "aac");
  }
}
GST_END_TEST;

GST_START_TEST (test_over_max_pending_refused)
{
  Fixture f;
  f.settings.max_pending = 1;
  f.start ();
  TestCaller first, second;
  fail_unless (first.connect (f.listener->port (), "k1"));
  fail_unless (wait_until ([&] { return f.listener->accepted () == 1; }));
  fail_if (second.connect (f.listener->port (), "k2"));
  fail_unless_equals_int (second.reject, SRT_REJX_OVERLOAD);
  fail_unless_equals_int (f.decided, 1);
}
GST_END_TEST;

GST_START_TEST (test_stop_with_callers_mid_prelude)
{
  Fixture f;
  f.start ();
  TestCaller a, b;
  fail_unless (a.connect (f.listener->port (), "k1"));
  fail_unless (b.connect (f.listener->port (), "k2"));
  /* half a PMT's worth: a few packets of video only */
  auto ts = read_test_ts ("h264-aac.ts");
  a.send (std::vector<uint8_t> (ts.begin () + 10 * 188, ts.begin () + 10 * 188 + kMessage));
  fail_unless (wait_until ([&] { return f.listener->accepted () == 2; }));
  int port = f.listener->port ();
  f.listener->stop ();
  fail_unless_equals_int (f.ready_count (), 0);
  /* their links are closed */
  fail_unless (wait_until ([&] {
    return srt_getsockstate (a.socket.get ()) > SRTS_CONNECTED
        && srt_getsockstate (b.socket.get ()) > SRTS_CONNECTED;
  }));
  /* nothing listens any more */
  TestCaller late;
  fail_if (late.connect (port, "k3"));
  f.listener->stop ();                 /* twice is fine */
}
GST_END_TEST;

GST_START_TEST (test_stop_while_decide_blocks)
{
  Fixture f;
  std::mutex m;
  std::condition_variable cv;
  bool entered = false, release = false, returned = false;
  f.decide = [&] (const CallerRequest &) {
    std::unique_lock<std::mutex> l (m);
    entered = true;
    cv.notify_all ();
    /* bounded, as the launcher's wait on its main context is */
    cv.wait_for (l, std::chrono::seconds (5), [&] { return release; });
    returned = true;
    return Verdict::accept ();
  };
  f.start ();
  std::thread caller ([&] {
    TestCaller c;
    if (c.connect (f.listener->port (), "k3y"))
      c.send (read_test_ts ("aac-only.ts"));
  });
  {
    std::unique_lock<std::mutex> l (m);
    fail_unless (cv.wait_for (l, std::chrono::seconds (5), [&] { return entered; }));
  }
  std::thread releaser ([&] {
    g_usleep (300 * 1000);
    std::lock_guard<std::mutex> l (m);
    release = true;
    cv.notify_all ();
  });
  f.listener->stop ();
  {
    std::lock_guard<std::mutex> l (m);
    fail_unless (returned, "stop () returned before decide did");
  }
  releaser.join ();
  caller.join ();
  g_usleep (200 * 1000);
  fail_unless_equals_int (f.ready_count (), 0);
}
GST_END_TEST;

static Suite *
srtlistener_suite (void)
{
  Suite *s = suite_create ("srtlistener");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_ready_with_codecs_and_replay);
  tcase_add_test (tc, test_decide_refusals_reach_the_caller);
  tcase_add_test (tc, test_bad_ids_refused_before_decide);
  tcase_add_test (tc, test_garbage_caller_is_closed);
  tcase_add_test (tc, test_silent_caller_times_out);
  tcase_add_test (tc, test_no_pmt_within_the_prelude_bound);
  tcase_add_test (tc, test_hosts);
  tcase_add_test (tc, test_passphrase);
  tcase_add_test (tc, test_three_callers_at_once);
  tcase_add_test (tc, test_over_max_pending_refused);
  tcase_add_test (tc, test_stop_with_callers_mid_prelude);
  tcase_add_test (tc, test_stop_while_decide_blocks);
  return s;
}

GST_CHECK_MAIN (srtlistener);
