/* castline srt: one UDP port, many SRT callers routed by stream id
 * (srtlistener.h).
 *
 * What libsrt 1.5.1 does around us (srtcore/api.cpp newConnection,
 * core.cpp runAcceptHook, queue.cpp worker_ProcessConnectionRequest):
 *   - the hook runs on the multiplexer's receiver worker thread, holding
 *     its listener lock (CRcvQueue::m_LSLock), once the caller's
 *     conclusion handshake has come and before its encryption is checked:
 *     every packet of this port (the listener's and every accepted
 *     caller's: they share its UDP socket) waits while it runs;
 *   - a caller's repeated conclusion handshake finds the socket made for
 *     it and does not run the hook again; after a refusal the socket is
 *     gone, so a repeat (its answer lost) asks the hook once more;
 *   - a caller accepted by the hook may still be refused by libsrt after
 *     it (a passphrase mismatch: SRT_REJ_BADSECRET; SRT_REJ_UNSECURE when
 *     only one side has one; SRT_REJ_BACKLOG past the listen backlog), and
 *     never comes to accept: decide must not reserve anything;
 *   - srt_close on the listener removes it from the receiver queue under
 *     that same lock: it waits for a hook under way, and no hook starts
 *     after it returns;
 *   - options set on the listener are copied to each caller's socket
 *     (CUDTSocket's copy of the listener's config): passphrase, latency,
 *     payload size, non-blocking mode.
 */
#include "srt/srtlistener.h"

#include "srt/tshandoff.h"
#include "srt/tsprobe.h"

#include <gst/gst.h>
#include <netdb.h>
#include <netinet/in.h>
#include <srt/access_control.h>
#include <sys/socket.h>

#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

GST_DEBUG_CATEGORY_STATIC (srt_listener_debug);
#define GST_CAT_DEFAULT srt_listener_debug

namespace castline::srt {

namespace {

/* how long the thread waits for events: stop ()'s promptness */
constexpr int kPollMs = 100;
constexpr int kMaxEvents = 64;
/* a message of libsrt's live mode is at most 1456 bytes */
constexpr size_t kReadSize = 1500;

void
init_debug ()
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (srt_listener_debug, "srtlistener", 0,
        "castline SRT listener (callers routed by stream id)");
    g_once_init_leave (&once, 1);
  }
}

/* settings.host as a socket address; false with why */
bool
resolve (const std::string & host, int port, sockaddr_storage & out, socklen_t & len,
    std::string & error)
{
  std::string name = host == "localhost" ? "127.0.0.1" : host;
  struct addrinfo hints {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  struct addrinfo *res = nullptr;
  std::string service = std::to_string (port);
  int rc = getaddrinfo (name.empty () ? nullptr : name.c_str (), service.c_str (), &hints, &res);
  if (rc != 0 || !res) {
    error = "cannot resolve host \"" + host + "\": " + gai_strerror (rc);
    return false;
  }
  memcpy (&out, res->ai_addr, res->ai_addrlen);
  len = res->ai_addrlen;
  freeaddrinfo (res);
  return true;
}

int
port_of (const sockaddr_storage & addr)
{
  if (addr.ss_family == AF_INET)
    return ntohs (((const sockaddr_in *) &addr)->sin_port);
  if (addr.ss_family == AF_INET6)
    return ntohs (((const sockaddr_in6 *) &addr)->sin6_port);
  return 0;
}

}  // namespace

Caller::Caller (Caller && o) noexcept
    : socket (std::move (o.socket)), replay (o.replay), request (std::move (o.request)),
      video (std::move (o.video)), audio (std::move (o.audio))
{
  o.replay = nullptr;
}

Caller &
Caller::operator= (Caller && o) noexcept
{
  if (this != &o) {
    socket = std::move (o.socket);
    if (replay)
      g_bytes_unref (replay);
    replay = o.replay;
    o.replay = nullptr;
    request = std::move (o.request);
    video = std::move (o.video);
    audio = std::move (o.audio);
  }
  return *this;
}

Caller::~Caller ()
{
  if (replay)
    g_bytes_unref (replay);
}

/* A caller past accept, before its PMT: the listener thread's alone. */
struct Prelude {
  SrtSocket socket;
  CallerRequest request;
  TsHandoff handoff;
  TsProbe probe;
  std::vector<uint8_t> replay;
  gint64 deadline_us = 0;              /* g_get_monotonic_time () */
};

struct SrtListener::Private {
  Private (ListenerSettings s, DecideFunc d, ReadyFunc r)
      : settings (std::move (s)), decide (std::move (d)), ready (std::move (r)) {}

  const ListenerSettings settings;
  const DecideFunc decide;
  const ReadyFunc ready;
  /* first: libsrt lives while any socket below does */
  SrtLibrary library;

  std::mutex lock;                     /* start () and stop () */
  SrtSocket listener;
  int eid = -1;
  std::thread thread;
  std::atomic<bool> running { false };
  /* the hook refuses everyone from here on, without asking decide */
  std::atomic<bool> closing { false };
  std::atomic<int> port { 0 };

  /* the listener thread's */
  std::map<SRTSOCKET, Prelude> preludes;
  std::atomic<size_t> pending { 0 };   /* preludes.size (), for the hook */

  std::atomic<uint64_t> accepted { 0 }, refused { 0 }, not_ts { 0 }, timed_out { 0 };

  static int on_listen (void *opaque, SRTSOCKET ns, int hs_version, const struct sockaddr *peer,
      const char *stream_id);
  int refuse (SRTSOCKET ns, int code, const std::string & remote, const char *why);

  void run ();
  void accept_caller ();
  void read_caller (SRTSOCKET s);
  /* closes a prelude (counted by the caller of this) */
  void drop (SRTSOCKET s, const char *why);
  void expire ();
};

int
SrtListener::Private::refuse (SRTSOCKET ns, int code, const std::string & remote, const char *why)
{
  refused++;
  GST_INFO ("refused %s: %d (%s): %s", remote.c_str (), code, reject_reason_name (code), why);
  srt_setrejectreason (ns, code);
  return -1;
}

/* libsrt's receiver worker thread (see above): answer at once */
int
SrtListener::Private::on_listen (void *opaque, SRTSOCKET ns, int hs_version,
    const struct sockaddr *peer, const char *stream_id)
{
  auto *self = (Private *) opaque;
  CallerRequest request;
  request.remote_address = address_string (peer);

  StreamIdRefusal refusal;
  size_t size = stream_id ? strnlen (stream_id, kMaxStreamIdLength + 1) : 0;
  if (!parse_stream_id (stream_id, size, request.stream, refusal)) {
    return self->refuse (ns, refusal.code, request.remote_address,
        hs_version < 5 ? "an SRT older than 1.3 sends no stream id" : refusal.reason.c_str ());
  }
  if (self->closing)
    return self->refuse (ns, SRT_REJX_OVERLOAD, request.remote_address, "the listener is stopping");
  if (self->pending >= self->settings.max_pending)
    return self->refuse (ns, SRT_REJX_OVERLOAD, request.remote_address,
        "too many callers before their first PMT");

  Verdict verdict;
  try {
    verdict = self->decide (request);
  } catch (...) {
    verdict = { SRT_REJX_ISE, "decide threw" };
  }
  if (verdict.refused ()) {
    /* libsrt takes only codes from SRT_REJC_PREDEFINED on from the hook */
    int code = verdict.code >= SRT_REJC_PREDEFINED ? verdict.code : SRT_REJX_FALLBACK;
    return self->refuse (ns, code, request.remote_address, verdict.reason.c_str ());
  }
  GST_DEBUG ("%s may call (stream id %s form)", request.remote_address.c_str (),
      request.stream.access_control ? "Access Control" : "bare");
  return 0;
}

void
SrtListener::Private::drop (SRTSOCKET s, const char *why)
{
  auto it = preludes.find (s);
  if (it == preludes.end ())
    return;
  GST_INFO ("closing %s: %s", it->second.request.remote_address.c_str (), why);
  srt_epoll_remove_usock (eid, s);
  preludes.erase (it);                 /* closes the socket */
  pending = preludes.size ();
}

/* one caller per readiness (libsrt's epoll is level-triggered: the next
 * wait reports the next; accepting until EASYNCRCV makes libsrt log an
 * error each time) */
void
SrtListener::Private::accept_caller ()
{
  sockaddr_storage addr {};
  int len = sizeof (addr);
  SRTSOCKET s = srt_accept (listener.get (), (sockaddr *) &addr, &len);
  if (s == SRT_INVALID_SOCK) {
    if (srt_getlasterror (nullptr) != SRT_EASYNCRCV)
      GST_WARNING ("accept: %s", last_error ().c_str ());
    return;
  }
  SrtSocket socket (s);
  accepted++;

  Prelude p;
  p.request.remote_address = address_string ((const sockaddr *) &addr);
  /* the id again, as the accepted socket has it (the hook's copy is gone) */
  char id[kMaxStreamIdLength + 1] = "";
  int id_len = sizeof (id);
  StreamIdRefusal refusal;
  if (srt_getsockflag (s, SRTO_STREAMID, id, &id_len) != 0 || id_len < 0
      || !parse_stream_id (id, (size_t) id_len, p.request.stream, refusal)) {
    GST_WARNING ("closing %s: its stream id cannot be read again",
        p.request.remote_address.c_str ());
    return;
  }
  bool no = false;
  srt_setsockflag (s, SRTO_RCVSYN, &no, sizeof (no));
  int events = SRT_EPOLL_IN | SRT_EPOLL_ERR;
  if (srt_epoll_add_usock (eid, s, &events) != 0) {
    GST_WARNING ("closing %s: %s", p.request.remote_address.c_str (), last_error ().c_str ());
    return;
  }
  p.deadline_us = g_get_monotonic_time () + (gint64) settings.prelude_timeout_s * G_USEC_PER_SEC;
  p.socket = std::move (socket);
  GST_INFO ("accepted %s, reading its prelude", p.request.remote_address.c_str ());
  preludes.emplace (s, std::move (p));
  pending = preludes.size ();
}

void
SrtListener::Private::read_caller (SRTSOCKET s)
{
  auto it = preludes.find (s);
  if (it == preludes.end ())
    return;
  Prelude & p = it->second;
  uint8_t buf[kReadSize];
  std::vector<uint8_t> packets;
  while (true) {
    int n = srt_recvmsg (s, (char *) buf, sizeof (buf));
    if (n < 0) {
      if (srt_getlasterror (nullptr) == SRT_EASYNCRCV)
        return;
      drop (s, "the connection broke");
      return;
    }
    if (n == 0)
      continue;
    p.replay.insert (p.replay.end (), buf, buf + n);
    packets.clear ();
    if (p.handoff.push (buf, (size_t) n, packets) == TsHandoff::Result::not_ts) {
      not_ts++;
      drop (s, "what it sends is not MPEG-TS");
      return;
    }
    p.probe.push (packets.data (), packets.size ());
    if (p.probe.done ())
      break;
    if (p.replay.size () > settings.max_prelude_bytes) {
      not_ts++;
      drop (s, "no PMT in its first bytes");
      return;
    }
  }

  Caller caller;
  caller.request = std::move (p.request);
  caller.video = p.probe.video ();
  caller.audio = p.probe.audio ();
  caller.replay = g_bytes_new (p.replay.data (), p.replay.size ());
  srt_epoll_remove_usock (eid, s);
  caller.socket = std::move (p.socket);
  preludes.erase (it);
  pending = preludes.size ();
  GST_INFO ("%s sends video \"%s\", audio \"%s\"", caller.request.remote_address.c_str (),
      caller.video.c_str (), caller.audio.c_str ());
  ready (std::move (caller));
}

void
SrtListener::Private::expire ()
{
  gint64 now = g_get_monotonic_time ();
  std::vector<SRTSOCKET> late;
  for (const auto & [s, p] : preludes) {
    if (now >= p.deadline_us)
      late.push_back (s);
  }
  for (SRTSOCKET s : late) {
    timed_out++;
    drop (s, "no PMT in time");
  }
}

void
SrtListener::Private::run ()
{
  SRT_EPOLL_EVENT events[kMaxEvents];
  while (running) {
    int n = srt_epoll_uwait (eid, events, kMaxEvents, kPollMs);
    if (n < 0) {
      /* not expected with the listener in the set; do not spin */
      GST_WARNING ("epoll: %s", last_error ().c_str ());
      g_usleep (kPollMs * 1000);
    }
    for (int i = 0; i < n && running; i++) {
      if (events[i].fd == listener.get ()) {
        accept_caller ();
      } else if (events[i].events & SRT_EPOLL_IN) {
        read_caller (events[i].fd);
      } else if (preludes.count (events[i].fd)) {
        drop (events[i].fd, "the connection broke");
      }
    }
    expire ();
  }
  preludes.clear ();
  pending = 0;
}

SrtListener::SrtListener (ListenerSettings settings, DecideFunc decide, ReadyFunc ready)
    : priv_ (std::make_unique<Private> (std::move (settings), std::move (decide), std::move (ready)))
{
  init_debug ();
}

SrtListener::~SrtListener ()
{
  stop ();
}

bool
SrtListener::start (std::string & error)
{
  Private & p = *priv_;
  std::lock_guard<std::mutex> guard (p.lock);
  if (p.running) {
    error = "already listening";
    return false;
  }

  sockaddr_storage addr {};
  socklen_t addr_len = 0;
  if (!resolve (p.settings.host, p.settings.port, addr, addr_len, error))
    return false;

  SrtSocket s (srt_create_socket ());
  if (!s) {
    error = "srt_create_socket: " + last_error ();
    return false;
  }
  if (!apply_receiver_options (s.get (), p.settings.receiver, error))
    return false;
  bool no = false;
  srt_setsockflag (s.get (), SRTO_RCVSYN, &no, sizeof (no));
  if (addr.ss_family == AF_INET6) {
    /* libsrt will not bind "::" without being told: take IPv4 too */
    int v6only = 0;
    srt_setsockflag (s.get (), SRTO_IPV6ONLY, &v6only, sizeof (v6only));
  }
  if (srt_listen_callback (s.get (), &Private::on_listen, &p) != 0) {
    error = "srt_listen_callback: " + last_error ();
    return false;
  }
  /* a port another listener of this process has fails at srt_listen (the
   * socket shares its multiplexer), one of another process at srt_bind */
  int backlog = (int) std::max<size_t> (1, std::min<size_t> (p.settings.max_pending, 1024));
  if (srt_bind (s.get (), (const sockaddr *) &addr, (int) addr_len) != 0
      || srt_listen (s.get (), backlog) != 0) {
    error = "cannot listen on " + p.settings.host + ":" + std::to_string (p.settings.port)
        + ": " + last_error ();
    return false;
  }
  sockaddr_storage bound {};
  int bound_len = sizeof (bound);
  if (srt_getsockname (s.get (), (sockaddr *) &bound, &bound_len) != 0) {
    error = "srt_getsockname: " + last_error ();
    return false;
  }

  int eid = srt_epoll_create ();
  if (eid < 0) {
    error = "srt_epoll_create: " + last_error ();
    return false;
  }
  srt_epoll_set (eid, SRT_EPOLL_ENABLE_EMPTY);
  int events = SRT_EPOLL_IN | SRT_EPOLL_ERR;
  if (srt_epoll_add_usock (eid, s.get (), &events) != 0) {
    error = "srt_epoll_add_usock: " + last_error ();
    srt_epoll_release (eid);
    return false;
  }

  p.listener = std::move (s);
  p.eid = eid;
  p.port = port_of (bound);
  p.closing = false;
  p.running = true;
  p.thread = std::thread ([&p] { p.run (); });
  GST_INFO ("listening on %s:%d", p.settings.host.c_str (), p.port.load ());
  return true;
}

void
SrtListener::stop ()
{
  Private & p = *priv_;
  std::lock_guard<std::mutex> guard (p.lock);
  if (!p.thread.joinable () && !p.listener)
    return;
  p.closing = true;
  p.running = false;
  if (p.thread.joinable ())
    p.thread.join ();
  /* waits for a hook under way (and its decide); none starts after */
  p.listener.reset ();
  if (p.eid >= 0) {
    srt_epoll_release (p.eid);
    p.eid = -1;
  }
  p.port = 0;
  GST_INFO ("stopped");
}

int
SrtListener::port () const
{
  return priv_->port;
}

uint64_t
SrtListener::accepted () const
{
  return priv_->accepted;
}

uint64_t
SrtListener::refused () const
{
  return priv_->refused;
}

uint64_t
SrtListener::not_ts () const
{
  return priv_->not_ts;
}

uint64_t
SrtListener::timed_out () const
{
  return priv_->timed_out;
}

}  // namespace castline::srt
