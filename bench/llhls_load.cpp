/* bench/llhls_load: N simulated Low-Latency HLS viewers of one media
 * playlist, in one thread (epoll), for bench/llhls_viewers.py.
 *
 * Each viewer has one HTTP/1.1 keep-alive connection and follows the
 * playlist as an LL-HLS player does, part by part:
 *   1. GET <playlist> (no directive) the first time; then a blocking
 *      reload GET <playlist>?_HLS_msn=M&_HLS_part=P for the part after
 *      the newest it knows (P+1, or part 0 of the next segment when the
 *      newest part ended its segment);
 *   2. GET every part the answer lists that it has not fetched yet (from
 *      its first playlist: the newest part only, as a player joining at
 *      the live edge), whole, in order;
 *   3. back to 1.
 * A part is "announced" when the first viewer's playlist lists it; each
 * part a viewer fetches counts its delay from that moment to its last
 * byte. A viewer is on time when every part it fetched came within
 * --late-ms of its announcement and none of its requests failed (an
 * error, a closed connection, a status other than 200, a short body).
 *
 *   llhls_load --host 127.0.0.1 --port P --path /live/ID/index.m3u8
 *              --viewers N --seconds S [--ramp-ms 2000] [--late-ms 1000]
 *              [--warmup S]
 * Only the --seconds after the ramp and the warm-up count.
 * Prints one JSON object on stdout at the end. Asserts nothing. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double
now_s ()
{
  return std::chrono::duration<double> (Clock::now ().time_since_epoch ()).count ();
}

struct Part {
  unsigned long long msn;
  unsigned part;
  std::string uri;
  bool last_of_segment;            /* the playlist has this segment's EXTINF */
};

/* The parts a playlist lists, in order, with their segment numbers. */
std::vector<Part>
parse_parts (const std::string & text)
{
  std::vector<Part> parts;
  unsigned long long msn = 0;
  unsigned index = 0;
  size_t pos = 0;
  bool after_extinf = false;
  while (pos < text.size ()) {
    size_t end = text.find ('\n', pos);
    if (end == std::string::npos)
      end = text.size ();
    std::string line = text.substr (pos, end - pos);
    if (!line.empty () && line.back () == '\r')
      line.pop_back ();
    pos = end + 1;
    if (line.rfind ("#EXT-X-MEDIA-SEQUENCE:", 0) == 0) {
      msn = strtoull (line.c_str () + 22, nullptr, 10);
    } else if (line.rfind ("#EXT-X-SKIP:SKIPPED-SEGMENTS=", 0) == 0) {
      msn += strtoull (line.c_str () + 29, nullptr, 10);
    } else if (line.rfind ("#EXT-X-PART:", 0) == 0) {
      size_t u = line.find ("URI=\"");
      if (u == std::string::npos)
        continue;
      size_t q = line.find ('"', u + 5);
      parts.push_back ({ msn, index++, line.substr (u + 5, q - u - 5), false });
    } else if (line.rfind ("#EXTINF:", 0) == 0) {
      after_extinf = true;
    } else if (!line.empty () && line[0] != '#' && after_extinf) {
      if (!parts.empty () && parts.back ().msn == msn)
        parts.back ().last_of_segment = true;
      msn++;
      index = 0;
      after_extinf = false;
    }
  }
  return parts;
}

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path;
  int viewers = 100;
  double seconds = 20;
  double ramp_ms = 2000;
  double late_ms = 1000;
  double warmup = 0;               /* s after the ramp before anything counts */
};

enum class Want { kPlaylist, kPart };

struct Viewer {
  int fd = -1;
  bool connected = false;
  bool started = false;
  double start_at = 0;
  std::string out;                 /* request bytes not yet written */
  size_t out_off = 0;
  std::string in;                  /* response bytes read */
  Want want = Want::kPlaylist;
  double sent_at = 0;
  bool have_position = false;
  unsigned long long next_msn = 0; /* the part the next blocking reload asks for */
  unsigned next_part = 0;
  std::vector<Part> queue;         /* parts to fetch */
  Part fetching;
  std::map<std::pair<unsigned long long, unsigned>, bool> fetched;
  bool failed = false;
  bool late = false;
  unsigned long long parts = 0;
  unsigned long long requests = 0;
};

struct Totals {
  unsigned long long requests = 0, parts = 0, bytes = 0, errors = 0, status_503 = 0,
      other_status = 0, closed = 0;
  std::vector<double> part_delays;       /* s, announcement to last byte */
  std::vector<double> playlist_waits;    /* s, a blocking reload's time held */
};

class Load {
 public:
  explicit Load (Options o) : o_ (std::move (o)), viewers_ (o_.viewers) {}

  int run ()
  {
    ep_ = epoll_create1 (0);
    double t0 = now_s ();
    for (int i = 0; i < o_.viewers; i++)
      viewers_[i].start_at = t0 + (o_.ramp_ms / 1000.0) * i / std::max (1, o_.viewers);
    measure_from_ = t0 + o_.ramp_ms / 1000.0 + o_.warmup;
    end_ = measure_from_ + o_.seconds;
    std::vector<epoll_event> events (1024);
    while (now_s () < end_) {
      double t = now_s ();
      for (size_t i = 0; i < viewers_.size (); i++)
        if (!viewers_[i].started && viewers_[i].start_at <= t)
          start (i);
      int n = epoll_wait (ep_, events.data (), events.size (), 10);
      for (int k = 0; k < n; k++)
        handle (events[k].data.u32, events[k].events);
    }
    report ();
    return 0;
  }

 private:
  void start (size_t i)
  {
    Viewer & v = viewers_[i];
    v.started = true;
    connect_viewer (i);
  }

  void connect_viewer (size_t i)
  {
    Viewer & v = viewers_[i];
    v.fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt (v.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a {};
    a.sin_family = AF_INET;
    a.sin_port = htons (o_.port);
    inet_pton (AF_INET, o_.host.c_str (), &a.sin_addr);
    connect (v.fd, reinterpret_cast<sockaddr *> (&a), sizeof a);
    epoll_event e {};
    e.events = EPOLLIN | EPOLLOUT;
    e.data.u32 = i;
    epoll_ctl (ep_, EPOLL_CTL_ADD, v.fd, &e);
    v.in.clear ();
    request_next (i);
  }

  void fail (size_t i, unsigned long long & counter)
  {
    Viewer & v = viewers_[i];
    if (measuring ()) {
      counter++;
      v.failed = true;
    }
    epoll_ctl (ep_, EPOLL_CTL_DEL, v.fd, nullptr);
    close (v.fd);
    v.fd = -1;
    v.queue.clear ();
    v.have_position = false;       /* start over at the live edge */
    if (now_s () < end_)
      connect_viewer (i);
  }

  void send (size_t i, const std::string & target, Want want)
  {
    Viewer & v = viewers_[i];
    v.out = "GET " + target + " HTTP/1.1\r\nHost: " + o_.host + "\r\nUser-Agent: llhls_load/"
        + std::to_string (i) + "\r\n\r\n";
    v.out_off = 0;
    v.want = want;
    v.sent_at = now_s ();
    v.requests++;
    totals_.requests++;
    epoll_event e {};
    e.events = EPOLLIN | EPOLLOUT;
    e.data.u32 = i;
    epoll_ctl (ep_, EPOLL_CTL_MOD, v.fd, &e);
  }

  std::string dir_of_path () const
  {
    size_t slash = o_.path.rfind ('/');
    return o_.path.substr (0, slash + 1);
  }

  void request_next (size_t i)
  {
    Viewer & v = viewers_[i];
    if (!v.queue.empty ()) {
      v.fetching = v.queue.front ();
      v.queue.erase (v.queue.begin ());
      send (i, dir_of_path () + v.fetching.uri, Want::kPart);
      return;
    }
    if (!v.have_position)
      send (i, o_.path, Want::kPlaylist);
    else
      send (i, o_.path + "?_HLS_msn=" + std::to_string (v.next_msn) + "&_HLS_part="
          + std::to_string (v.next_part), Want::kPlaylist);
  }

  void handle (size_t i, uint32_t events)
  {
    Viewer & v = viewers_[i];
    if (v.fd < 0)
      return;
    if ((events & EPOLLOUT) && v.out_off < v.out.size ()) {
      ssize_t w = write (v.fd, v.out.data () + v.out_off, v.out.size () - v.out_off);
      if (w < 0 && errno != EAGAIN) {
        fail (i, totals_.errors);
        return;
      }
      if (w > 0)
        v.out_off += w;
      if (v.out_off == v.out.size ()) {
        epoll_event e {};
        e.events = EPOLLIN;
        e.data.u32 = i;
        epoll_ctl (ep_, EPOLL_CTL_MOD, v.fd, &e);
      }
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
      return;
    char buf[65536];
    for (;;) {
      ssize_t r = read (v.fd, buf, sizeof buf);
      if (r > 0) {
        v.in.append (buf, r);
        continue;
      }
      if (r == 0) {
        fail (i, totals_.closed);
        return;
      }
      if (errno == EAGAIN)
        break;
      fail (i, totals_.errors);
      return;
    }
    size_t head_end = v.in.find ("\r\n\r\n");
    if (head_end == std::string::npos)
      return;
    unsigned status = 0;
    sscanf (v.in.c_str (), "HTTP/1.%*d %u", &status);
    size_t length = 0;
    std::string head = v.in.substr (0, head_end);
    for (char & c : head)
      c = tolower (c);
    size_t cl = head.find ("content-length:");
    if (cl != std::string::npos)
      length = strtoull (head.c_str () + cl + 15, nullptr, 10);
    if (v.in.size () < head_end + 4 + length)
      return;
    std::string body = v.in.substr (head_end + 4, length);
    v.in.erase (0, head_end + 4 + length);
    totals_.bytes += length;
    if (status != 200) {
      fail (i, status == 503 ? totals_.status_503 : totals_.other_status);
      return;
    }
    double t = now_s ();
    if (v.want == Want::kPlaylist)
      took_playlist (i, body, t);
    else
      took_part (i, t);
    request_next (i);
  }

  void took_playlist (size_t i, const std::string & body, double t)
  {
    Viewer & v = viewers_[i];
    if (v.have_position && measuring ())
      totals_.playlist_waits.push_back (t - v.sent_at);
    std::vector<Part> parts = parse_parts (body);
    if (parts.empty ())
      return;
    for (const Part & p : parts)
      announced_.emplace (std::make_pair (p.msn, p.part), t);
    if (!v.have_position) {
      v.queue.push_back (parts.back ());
      v.have_position = true;
    } else {
      for (const Part & p : parts)
        if (!v.fetched.count ({ p.msn, p.part }) && (p.msn > v.fetching.msn
            || (p.msn == v.fetching.msn && p.part > v.fetching.part)))
          v.queue.push_back (p);
    }
    const Part & last = parts.back ();
    v.next_msn = last.last_of_segment ? last.msn + 1 : last.msn;
    v.next_part = last.last_of_segment ? 0 : last.part + 1;
    /* forget fetched parts well behind */
    while (v.fetched.size () > 64)
      v.fetched.erase (v.fetched.begin ());
  }

  void took_part (size_t i, double t)
  {
    Viewer & v = viewers_[i];
    auto key = std::make_pair (v.fetching.msn, v.fetching.part);
    v.fetched[key] = true;
    if (!measuring ())
      return;
    v.parts++;
    totals_.parts++;
    auto a = announced_.find (key);
    if (a != announced_.end ()) {
      double delay = t - a->second;
      totals_.part_delays.push_back (delay);
      if (delay * 1000 > o_.late_ms)
        v.late = true;
    }
  }

  static double pct (std::vector<double> & v, double f)
  {
    if (v.empty ())
      return 0;
    std::sort (v.begin (), v.end ());
    return v[std::min (v.size () - 1, static_cast<size_t> (f * (v.size () - 1) + 0.5))];
  }

  void report ()
  {
    int started = 0, on_time = 0, with_parts = 0;
    for (const Viewer & v : viewers_) {
      started += v.started;
      with_parts += v.parts > 0;
      on_time += v.started && v.parts > 0 && !v.failed && !v.late;
    }
    printf ("{\"viewers\": %d, \"started\": %d, \"with_parts\": %d, \"on_time\": %d, "
        "\"requests\": %llu, \"parts\": %llu, \"bytes\": %llu, \"errors\": %llu, "
        "\"closed\": %llu, \"status_503\": %llu, \"other_status\": %llu, "
        "\"part_delay_p50_ms\": %.1f, \"part_delay_p99_ms\": %.1f, \"part_delay_max_ms\": %.1f, "
        "\"blocking_wait_p50_ms\": %.1f, \"seconds\": %.1f}\n",
        o_.viewers, started, with_parts, on_time, totals_.requests, totals_.parts, totals_.bytes,
        totals_.errors, totals_.closed, totals_.status_503, totals_.other_status,
        1000 * pct (totals_.part_delays, 0.5), 1000 * pct (totals_.part_delays, 0.99),
        1000 * pct (totals_.part_delays, 1.0), 1000 * pct (totals_.playlist_waits, 0.5),
        o_.seconds);
    fflush (stdout);
  }

  Options o_;
  std::vector<Viewer> viewers_;
  Totals totals_;
  std::map<std::pair<unsigned long long, unsigned>, double> announced_;
  bool measuring () const { return now_s () >= measure_from_; }

  int ep_ = -1;
  double measure_from_ = 0;
  double end_ = 0;
};

}  // namespace

int
main (int argc, char **argv)
{
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], val = argv[i + 1];
    if (k == "--host")
      o.host = val;
    else if (k == "--port")
      o.port = atoi (val.c_str ());
    else if (k == "--path")
      o.path = val;
    else if (k == "--viewers")
      o.viewers = atoi (val.c_str ());
    else if (k == "--seconds")
      o.seconds = atof (val.c_str ());
    else if (k == "--ramp-ms")
      o.ramp_ms = atof (val.c_str ());
    else if (k == "--late-ms")
      o.late_ms = atof (val.c_str ());
    else if (k == "--warmup")
      o.warmup = atof (val.c_str ());
    else {
      fprintf (stderr, "unknown option %s\n", k.c_str ());
      return 2;
    }
  }
  if (!o.port || o.path.empty () || o.viewers < 1) {
    fprintf (stderr, "usage: llhls_load --port P --path /live/ID/index.m3u8 --viewers N "
        "--seconds S [--host H] [--ramp-ms MS] [--late-ms MS]\n");
    return 2;
  }
  return Load (o).run ();
}
