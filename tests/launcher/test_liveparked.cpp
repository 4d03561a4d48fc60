/* Parked requests over real sockets, through the launcher's own server
 * (http/mhd/mhdserver.h) on a loopback port: a route on the server's
 * threads that answers later (from another thread, or before it even
 * returns), and LiveHlsStore's blocking playlist requests: 1,000 parked
 * hold no server thread, so other requests (the playlist, a part) are
 * answered while they wait, and all 1,000 are answered when the part
 * comes. Bounded waits only, no speed is asserted. */
#include "hls/livehlsstore.h"
#include "common/http/mhd/mhdserver.h"
#include "common/http/replies.h"

#include <gst/check/gstcheck.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace castline::launcher;
namespace http = castline::http;

namespace {

constexpr int kParked = 1000;

/* a connected socket to the server, or -1 */
int
connect_to (int port)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons ((uint16_t) port);
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (fd, reinterpret_cast<sockaddr *> (&a), sizeof a) != 0) {
    close (fd);
    return -1;
  }
  return fd;
}

void
send_get (int fd, const std::string & path)
{
  std::string text = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  fail_unless (write (fd, text.data (), text.size ()) == (ssize_t) text.size ());
}

/* what fd received within timeout_ms: at least the head and
 * Content-Length bytes of body, or what came before the time ran out */
std::string
read_answer (int fd, int timeout_ms)
{
  std::string got;
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  for (;;) {
    size_t head_end = got.find ("\r\n\r\n");
    if (head_end != std::string::npos) {
      size_t at = got.find ("Content-Length: ");
      size_t length = at != std::string::npos && at < head_end
          ? strtoul (got.c_str () + at + 16, nullptr, 10) : 0;
      if (got.size () >= head_end + 4 + length)
        return got;
    }
    gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
    if (left <= 0)
      return got;
    pollfd p = { fd, POLLIN, 0 };
    if (poll (&p, 1, (int) left) <= 0)
      continue;
    char buf[8192];
    ssize_t n = read (fd, buf, sizeof buf);
    if (n <= 0)
      return got;
    got.append (buf, n);
  }
}

/* a whole request on a connection of its own */
std::string
get (int port, const std::string & path, int timeout_ms = 10000)
{
  int fd = connect_to (port);
  fail_unless (fd >= 0);
  send_get (fd, path);
  std::string answer = read_answer (fd, timeout_ms);
  close (fd);
  return answer;
}

/* what follows the head */
std::string
body_of (const std::string & answer)
{
  size_t end = answer.find ("\r\n\r\n");
  return end == std::string::npos ? "" : answer.substr (end + 4);
}

bool
status_is (const std::string & answer, int status)
{
  return g_str_has_prefix (answer.c_str (), ("HTTP/1.1 " + std::to_string (status)).c_str ());
}

std::string
playlist_after (guint64 msn, guint part)
{
  return "#EXTM3U\n#EXT-X-TARGETDURATION:30\n#EXT-X-PART-INF:PART-TARGET=0.3\n"
      "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PART:DURATION=0.3,URI=\"seg" + std::to_string (msn) + "."
      + std::to_string (part) + ".m4s\"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"seg"
      + std::to_string (msn) + "." + std::to_string (part + 1) + ".m4s\"\n";
}

void
feed_part (LiveHlsStore & store, guint64 msn, guint part)
{
  std::string name = "seg" + std::to_string (msn) + "." + std::to_string (part) + ".m4s";
  g_autoptr (GBytes) data = g_bytes_new (name.data (), name.size ());
  store.put_part (msn, part, name, data);
  store.put_playlist (playlist_after (msn, part), "", msn, part, false);
}

/* the server with its routes on its own threads, as the daemon's /live */
struct Server {
  http::Router router;
  std::unique_ptr<http::MhdHttpServer> server;
  std::shared_ptr<LiveHlsStore> store = std::make_shared<LiveHlsStore> (30.0);
  std::atomic<int> later_threads { 0 };

  Server ()
  {
    router.add ("/live/", [this] (const http::Request & req, http::Response & res) {
          std::string name = req.path.substr (6);
          if (!store->serve (req, res, name, HlsServeOptions ()))
            http::reply_plain_text (res, 404, "no such file");
        }, { true, 0 });
    /* answered later from a thread of its own */
    router.add ("/later", [] (const http::Request &, http::Response & res) {
          auto pending = res.defer ();
          std::thread ([pending] {
                g_usleep (50 * 1000);
                http::Response r;
                http::reply_plain_text (r, 200, "later");
                pending->finish (std::move (r));
              }).detach ();
        }, { true, 0 });
    /* deferred, then answered before the route returns */
    router.add ("/at-once", [] (const http::Request &, http::Response & res) {
          auto pending = res.defer ();
          http::Response r;
          http::reply_plain_text (r, 200, "at once");
          pending->finish (std::move (r));
        }, { true, 0 });
    http::ServerLimits limits;
    limits.threads = 2;
    server = std::make_unique<http::MhdHttpServer> (router, limits);
    std::string error;
    fail_unless (server->listen ("127.0.0.1", 0, error), "%s", error.c_str ());
  }
  int port () const { return server->port (); }
};

}  // namespace

GST_START_TEST (test_route_on_the_server_thread_may_answer_later)
{
  Server s;
  std::string later = get (s.port (), "/later");
  fail_unless (status_is (later, 200), "%s", later.c_str ());
  fail_unless (body_of (later) == "later\n", "%s", later.c_str ());
  std::string at_once = get (s.port (), "/at-once");
  fail_unless (status_is (at_once, 200), "%s", at_once.c_str ());
  fail_unless (body_of (at_once) == "at once\n", "%s", at_once.c_str ());
  /* several at a time, on one connection after another */
  std::vector<int> fds;
  for (int i = 0; i < 20; i++) {
    fds.push_back (connect_to (s.port ()));
    send_get (fds.back (), i % 2 ? "/later" : "/at-once");
  }
  for (int fd : fds) {
    fail_unless (status_is (read_answer (fd, 10000), 200));
    close (fd);
  }
}
GST_END_TEST;

GST_START_TEST (test_parked_requests_are_answered_when_the_server_stops)
{
  auto s = std::make_unique<Server> ();
  feed_part (*s->store, 0, 0);
  int fd = connect_to (s->port ());
  send_get (fd, "/live/index.m3u8?_HLS_msn=0&_HLS_part=1");
  for (int i = 0; i < 1000 && s->store->parked () == 0; i++)
    g_usleep (10 * 1000);
  fail_unless_equals_int (s->store->parked (), 1);
  std::shared_ptr<LiveHlsStore> store = s->store;
  s.reset ();
  fail_unless (status_is (read_answer (fd, 10000), 503));
  close (fd);
  /* the store's own answer later goes nowhere */
  feed_part (*store, 0, 1);
  fail_unless_equals_int (store->parked (), 0);
}
GST_END_TEST;

GST_START_TEST (test_a_thousand_parked_requests_do_not_hold_up_others)
{
  Server s;
  feed_part (s.store.operator* (), 0, 0);
  std::vector<int> fds;
  for (int i = 0; i < kParked; i++) {
    int fd = connect_to (s.port ());
    fail_unless (fd >= 0, "connection %d: %s", i, g_strerror (errno));
    send_get (fd, "/live/index.m3u8?_HLS_msn=0&_HLS_part=1");
    fds.push_back (fd);
  }
  for (int i = 0; i < 3000 && s.store->parked () < (size_t) kParked; i++)
    g_usleep (10 * 1000);
  fail_unless_equals_int (s.store->parked (), kParked);

  /* while they wait: the playlist, a part, a request that is answered
   * later, each on a connection of its own, each answered */
  for (int round = 0; round < 5; round++) {
    std::string playlist = get (s.port (), "/live/index.m3u8", 5000);
    fail_unless (status_is (playlist, 200), "playlist: '%s'", playlist.c_str ());
    fail_unless (body_of (playlist) == playlist_after (0, 0));
    std::string part = get (s.port (), "/live/seg0.0.m4s", 5000);
    fail_unless (status_is (part, 200), "part: '%s'", part.c_str ());
    fail_unless (body_of (part) == "seg0.0.m4s");
    fail_unless (status_is (get (s.port (), "/later", 5000), 200));
    std::string ahead = get (s.port (), "/live/index.m3u8?_HLS_msn=9", 5000);
    fail_unless (status_is (ahead, 400), "%s", ahead.c_str ());
  }
  fail_unless_equals_int (s.store->parked (), kParked);
  /* nothing was answered yet */
  for (int i = 0; i < kParked; i += 97) {
    pollfd p = { fds[i], POLLIN, 0 };
    fail_unless_equals_int (poll (&p, 1, 0), 0);
  }

  /* the part comes: every one of them gets the playlist naming it */
  feed_part (*s.store, 0, 1);
  fail_unless_equals_int (s.store->parked (), 0);
  std::string expected = playlist_after (0, 1);
  for (int i = 0; i < kParked; i++) {
    std::string answer = read_answer (fds[i], 10000);
    fail_unless (status_is (answer, 200), "request %d: '%s'", i, answer.c_str ());
    fail_unless (body_of (answer) == expected, "request %d", i);
    close (fds[i]);
  }
}
GST_END_TEST;

static Suite *
liveparked_suite ()
{
  Suite *s = suite_create ("liveparked");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 90);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_route_on_the_server_thread_may_answer_later);
  tcase_add_test (tc, test_parked_requests_are_answered_when_the_server_stops);
  tcase_add_test (tc, test_a_thousand_parked_requests_do_not_hold_up_others);
  return s;
}

GST_CHECK_MAIN (liveparked);
