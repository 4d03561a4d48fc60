#include "rtmp/rtmplistener.h"

#include "rtmp/connectionio.h"

#include <gst/gst.h>

#include <atomic>
#include <map>
#include <utility>

GST_DEBUG_CATEGORY_STATIC (rtmp_listener_debug);
#define GST_CAT_DEFAULT rtmp_listener_debug

namespace castline::rtmp {

namespace {

/* C0 + C1 + C2: what a publisher sends before its first chunk, whichever
 * handshake it makes (the digest one hides its digest inside C1). */
constexpr size_t kClientHandshakeBytes = 1 + 1536 + 1536;
constexpr size_t kReadSize = 16 * 1024;
/* what a connection may send before its publish is accepted */
constexpr size_t kMaxBeforeAnswer = 64 * 1024;
/* the answer of a refusal, then the close, at most this long */
constexpr unsigned kGoodbyeTimeoutS = 3;

void
init_debug ()
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (rtmp_listener_debug, "rtmplistener", 0,
        "castline RTMP listener");
    g_once_init_leave (&once, 1);
  }
}

/* `context` as the thread-default one while it lives: GIO's asynchronous
 * calls (accept, the TLS handshake) dispatch where they were started. */
class ContextScope {
 public:
  explicit ContextScope (GMainContext * context) : context_ (context)
  {
    g_main_context_push_thread_default (context_);
  }
  ~ContextScope () { g_main_context_pop_thread_default (context_); }
  ContextScope (const ContextScope &) = delete;
  ContextScope & operator= (const ContextScope &) = delete;

 private:
  GMainContext *context_;
};

/* The publisher may go live: the codecs it sends are known (both kinds
 * came, or onMetaData named them and those came). */
bool
codecs_known (const PublishedCodecs & c)
{
  if (c.video_seen && c.audio_seen)
    return true;
  if (!c.metadata_seen || (!c.video_seen && !c.audio_seen))
    return false;
  return (c.video.empty () || c.video_seen) && (c.audio.empty () || c.audio_seen);
}

/* A callback's data: a weak reference, so that a source or an
 * asynchronous call outliving its object does nothing. */
template <typename T>
gpointer
weak_data (const std::shared_ptr<T> & object)
{
  return new std::weak_ptr<T> (object);
}

template <typename T>
void
free_weak_data (gpointer data)
{
  delete static_cast<std::weak_ptr<T> *> (data);
}

template <typename T>
std::shared_ptr<T>
lock_weak_data (gpointer data)
{
  return static_cast<std::weak_ptr<T> *> (data)->lock ();
}

}  // namespace

/* ---- one connection, from accept to ready ---- */

struct Core;

class Pending : public std::enable_shared_from_this<Pending> {
 public:
  enum class Phase { Tls, Negotiating, Deciding, Prelude, Done };

  Pending (std::weak_ptr<Core> core, uint64_t id, GSocketConnection * tcp);
  ~Pending ();

  void begin ();
  /* the decision, acted on from a dispatch of its own: never inside the
   * decide callback (ready is not called from within it) */
  void answer_later (bool accept, const std::string & code, const std::string & description);
  void accepted ();
  void refused (const std::string & code, const std::string & description);

  uint64_t id () const { return id_; }

 private:
  using Method = gboolean (Pending::*) ();
  struct Call {
    std::weak_ptr<Pending> pending;
    Method method;
  };

  /* source on the context, calling method while this lives; pollable: a
   * GPollableInputStream / GPollableOutputStream source */
  GSource *attach (GSource * source, Method method, bool pollable = false);
  static gboolean dispatch (gpointer data);
  static gboolean dispatch_pollable (GObject *, gpointer data);
  static void on_tls_handshake (GObject * source, GAsyncResult * result, gpointer data);

  void start_session ();
  gboolean on_readable ();
  gboolean on_writable ();
  gboolean on_negotiation_timeout ();
  gboolean on_prelude_timeout ();
  bool take (const uint8_t * data, size_t size);
  bool handle_events ();
  void flush ();
  void check_ready ();
  void hand_over ();
  void fail (const char *what, const std::string & why, bool protocol_error);
  void finish ();

  std::weak_ptr<Core> core_;
  uint64_t id_;
  GMainContext *context_;
  GSocketConnection *tcp_;
  GIOStream *stream_ = nullptr;        /* tcp_ or a TLS connection over it; owned */
  GCancellable *cancellable_;
  Phase phase_ = Phase::Tls;
  bool hand_over_when_flushed_ = false;
  std::unique_ptr<PublishSession> session_;
  PublishRequest request_;
  uint64_t received_ = 0;
  std::string replay_;
  std::string output_;
  GSource *read_source_ = nullptr;
  GSource *write_source_ = nullptr;
  GSource *negotiation_timer_ = nullptr;
  GSource *prelude_timer_ = nullptr;
};

/* The listener's state: shared with the callbacks in flight (weakly), so
 * that an accept or a handshake finishing after stop () finds it gone. */
struct Core : public std::enable_shared_from_this<Core> {
  GMainContext *context;
  ListenerSettings settings;
  RtmpListener::DecideFunc decide;
  RtmpListener::ReadyFunc ready;
  GSocketListener *listener = nullptr;
  GCancellable *accept_cancellable = nullptr;
  GTlsCertificate *certificate = nullptr;
  std::atomic<int> port {0};
  std::map<uint64_t, std::shared_ptr<Pending>> pending;
  uint64_t next_id = 0;
  std::atomic<uint64_t> accepted {0}, refused_over_limit {0}, protocol_errors {0},
      timed_out {0};

  ~Core () { stop (); g_clear_object (&certificate); g_main_context_unref (context); }

  bool start (std::string & error);
  void stop ();
  void accept_next ();
  static void on_accepted (GObject * source, GAsyncResult * result, gpointer data);
  static gboolean retry_accept (gpointer data);
  void add (GSocketConnection * connection);
  /* the connection is gone from the listener (handed out or closed) */
  void remove (uint64_t id) { pending.erase (id); }
};

class Decision : public PublishDecision {
 public:
  explicit Decision (std::weak_ptr<Pending> pending) : pending_ (std::move (pending)) {}

  void accept () override
  {
    if (auto p = answer ())
      p->answer_later (true, "", "");
  }

  void refuse (const std::string & code, const std::string & description) override
  {
    if (auto p = answer ())
      p->answer_later (false, code, description);
  }

 private:
  std::shared_ptr<Pending> answer ()
  {
    if (answered_)
      return nullptr;
    answered_ = true;
    return pending_.lock ();
  }

  std::weak_ptr<Pending> pending_;
  bool answered_ = false;
};

Pending::Pending (std::weak_ptr<Core> core, uint64_t id, GSocketConnection * tcp)
    : core_ (std::move (core)), id_ (id), tcp_ (G_SOCKET_CONNECTION (g_object_ref (tcp))),
      cancellable_ (g_cancellable_new ())
{
  auto c = core_.lock ();
  context_ = g_main_context_ref (c->context);
  request_.remote_address = remote_address_of (G_IO_STREAM (tcp));
}

Pending::~Pending ()
{
  g_cancellable_cancel (cancellable_);
  for (GSource *s : {read_source_, write_source_, negotiation_timer_, prelude_timer_}) {
    if (s) {
      g_source_destroy (s);
      g_source_unref (s);
    }
  }
  /* both null once the connection was given away (handed out, or to its
   * goodbye) */
  if (stream_) {
    close_now (stream_);
    g_object_unref (stream_);
  }
  if (tcp_) {
    close_now (G_IO_STREAM (tcp_));
    g_object_unref (tcp_);
  }
  g_object_unref (cancellable_);
  g_main_context_unref (context_);
}

GSource *
Pending::attach (GSource * source, Method method, bool pollable)
{
  GSourceFunc func = pollable ? (GSourceFunc) (void (*) (void)) dispatch_pollable : dispatch;
  g_source_set_callback (source, func, new Call {shared_from_this (), method},
      [] (gpointer data) { delete static_cast<Call *> (data); });
  g_source_attach (source, context_);
  return source;
}

gboolean
Pending::dispatch (gpointer data)
{
  auto *call = static_cast<Call *> (data);
  auto self = call->pending.lock ();
  if (!self)
    return G_SOURCE_REMOVE;
  return ((*self).*(call->method)) ();
}

gboolean
Pending::dispatch_pollable (GObject *, gpointer data)
{
  return dispatch (data);
}

void
Pending::begin ()
{
  auto core = core_.lock ();
  negotiation_timer_ = attach (g_timeout_source_new_seconds (core->settings.negotiation_timeout_s),
      &Pending::on_negotiation_timeout);
  if (!core->certificate) {
    stream_ = G_IO_STREAM (g_object_ref (tcp_));
    start_session ();
    return;
  }
  request_.tls = true;
  GError *err = nullptr;
  GIOStream *tls = g_tls_server_connection_new (G_IO_STREAM (tcp_), core->certificate, &err);
  if (!tls) {
    fail ("TLS", err->message, false);
    g_error_free (err);
    return;
  }
  stream_ = tls;
  ContextScope scope (context_);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT, cancellable_,
      on_tls_handshake, weak_data (shared_from_this ()));
}

void
Pending::on_tls_handshake (GObject * source, GAsyncResult * result, gpointer data)
{
  GError *err = nullptr;
  gboolean ok = g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, &err);
  auto self = lock_weak_data<Pending> (data);
  free_weak_data<Pending> (data);
  if (self && self->phase_ == Phase::Tls) {
    if (ok)
      self->start_session ();
    else
      self->fail ("TLS handshake", err->message, true);
  }
  g_clear_error (&err);
}

void
Pending::start_session ()
{
  auto core = core_.lock ();
  phase_ = Phase::Negotiating;
  session_ = std::make_unique<PublishSession> (PublishSession::Start::Handshake,
      core->settings.limits);
  session_->accept_app (core->settings.application);
  GSource *source = g_pollable_input_stream_create_source (
      G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (stream_)), nullptr);
  read_source_ = attach (source, &Pending::on_readable, true);
}

gboolean
Pending::on_readable ()
{
  uint8_t buffer[kReadSize];
  GError *err = nullptr;
  gssize n = g_pollable_input_stream_read_nonblocking (
      G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (stream_)), buffer, sizeof buffer,
      nullptr, &err);
  if (n < 0 && g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
    g_error_free (err);
    return G_SOURCE_CONTINUE;
  }
  if (n <= 0) {
    fail ("read", n == 0 ? "the publisher closed the connection" : err->message, false);
    g_clear_error (&err);
    return G_SOURCE_REMOVE;
  }
  auto self = shared_from_this ();      /* the callbacks below may drop it */
  take (buffer, (size_t) n);
  return phase_ == Phase::Done ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

/* Bytes read: kept for the replay (those after the handshake), fed to the
 * session, its events handled and its answers sent. False once the
 * connection is done with. */
bool
Pending::take (const uint8_t * data, size_t size)
{
  auto core = core_.lock ();
  uint64_t before = received_;
  received_ += size;
  if (received_ > kClientHandshakeBytes) {
    size_t skip = before >= kClientHandshakeBytes ? 0 : (size_t) (kClientHandshakeBytes - before);
    replay_.append ((const char *) data + skip, size - skip);
    /* a peer nobody accepted yet gets little: a real publish exchange is
     * under a kilobyte */
    size_t limit = phase_ == Phase::Prelude ? core->settings.limits.max_buffered :
        kMaxBeforeAnswer;
    if (replay_.size () > limit) {
      fail ("prelude", "too many bytes before going live (" + std::to_string (limit) + ")",
          true);
      return false;
    }
  }
  if (!session_->feed (data, size)) {
    fail ("protocol", session_->error (), true);
    return false;
  }
  return handle_events ();
}

bool
Pending::handle_events ()
{
  Event event;
  while (phase_ != Phase::Done && session_->next_event (event)) {
    switch (event.type) {
      case EventType::Connect:
        request_.app = event.app;
        GST_DEBUG ("%s connected to an accepted application", request_.remote_address.c_str ());
        break;
      case EventType::Publish: {
        if (phase_ != Phase::Negotiating) {
          fail ("protocol", "a second publish command", true);
          return false;
        }
        phase_ = Phase::Deciding;
        if (negotiation_timer_) {
          g_source_destroy (negotiation_timer_);
          g_clear_pointer (&negotiation_timer_, g_source_unref);
        }
        /* "key?token=..." (some encoders add a query): the key is before it */
        request_.stream_name = event.stream_name.substr (0, event.stream_name.find ('?'));
        GST_DEBUG ("%s asks to publish (%s)", request_.remote_address.c_str (),
            event.publish_type.c_str ());
        flush ();
        auto core = core_.lock ();
        auto decision = std::make_shared<Decision> (shared_from_this ());
        core->decide (request_, decision);
        break;
      }
      case EventType::Metadata:
      case EventType::Media:
        break;                /* the replay carries them to rtmpserversrc */
      case EventType::Unpublish:
        fail ("prelude", "the publisher unpublished before going live", false);
        return false;
    }
  }
  if (phase_ == Phase::Done)
    return false;
  flush ();
  check_ready ();
  return phase_ != Phase::Done;
}

void
Pending::answer_later (bool accept, const std::string & code, const std::string & description)
{
  struct Answer {
    std::weak_ptr<Pending> pending;
    bool accept;
    std::string code, description;
  };
  GSource *source = g_idle_source_new ();
  g_source_set_callback (source, [] (gpointer data) {
    auto *a = static_cast<Answer *> (data);
    if (auto p = a->pending.lock ()) {
      if (a->accept)
        p->accepted ();
      else
        p->refused (a->code, a->description);
    }
    return G_SOURCE_REMOVE;
  }, new Answer {shared_from_this (), accept, code, description},
      [] (gpointer data) { delete static_cast<Answer *> (data); });
  g_source_attach (source, context_);
  g_source_unref (source);
}

void
Pending::accepted ()
{
  if (phase_ != Phase::Deciding)
    return;
  auto self = shared_from_this ();
  auto core = core_.lock ();
  GST_DEBUG ("%s accepted", request_.remote_address.c_str ());
  phase_ = Phase::Prelude;
  session_->accept_publish ();
  prelude_timer_ = attach (g_timeout_source_new_seconds (core->settings.prelude_timeout_s),
      &Pending::on_prelude_timeout);
  handle_events ();
}

void
Pending::refused (const std::string & code, const std::string & description)
{
  if (phase_ != Phase::Deciding)
    return;
  auto self = shared_from_this ();
  GST_DEBUG ("%s refused: %s %s", request_.remote_address.c_str (), code.c_str (),
      description.c_str ());
  session_->refuse_publish (code, description);
  if (session_->has_output ())
    output_ += session_->take_output ();
  finish ();
}

void
Pending::flush ()
{
  if (session_ && session_->has_output ())
    output_ += session_->take_output ();
  GError *err = nullptr;
  if (!write_nonblocking (stream_, output_, &err)) {
    fail ("write", err->message, false);
    g_error_free (err);
    return;
  }
  if (output_.empty ()) {
    if (write_source_) {
      g_source_destroy (write_source_);
      g_clear_pointer (&write_source_, g_source_unref);
    }
    if (hand_over_when_flushed_)
      hand_over ();
    return;
  }
  if (!write_source_) {
    GSource *source = g_pollable_output_stream_create_source (
        G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (stream_)), nullptr);
    write_source_ = attach (source, &Pending::on_writable, true);
  }
}

gboolean
Pending::on_writable ()
{
  auto self = shared_from_this ();
  flush ();
  return G_SOURCE_CONTINUE;             /* flush () destroys it once drained */
}

gboolean
Pending::on_negotiation_timeout ()
{
  auto self = shared_from_this ();
  if (auto core = core_.lock ())
    core->timed_out++;
  g_clear_pointer (&negotiation_timer_, g_source_unref);
  fail ("time-out", "no publish command in time", false);
  return G_SOURCE_REMOVE;
}

gboolean
Pending::on_prelude_timeout ()
{
  auto self = shared_from_this ();
  g_clear_pointer (&prelude_timer_, g_source_unref);
  GST_DEBUG ("%s: codecs not all known after the prelude time-out: going live anyway",
      request_.remote_address.c_str ());
  hand_over_when_flushed_ = true;
  flush ();
  return G_SOURCE_REMOVE;
}

void
Pending::check_ready ()
{
  if (phase_ == Phase::Prelude && codecs_known (session_->codecs ())) {
    hand_over_when_flushed_ = true;
    if (output_.empty ())
      hand_over ();
  }
}

void
Pending::hand_over ()
{
  if (phase_ != Phase::Prelude)
    return;
  auto self = shared_from_this ();
  auto core = core_.lock ();
  phase_ = Phase::Done;
  for (GSource **s : {&read_source_, &write_source_, &negotiation_timer_, &prelude_timer_}) {
    if (*s) {
      g_source_destroy (*s);
      g_clear_pointer (s, g_source_unref);
    }
  }
  Publisher publisher;
  publisher.connection = std::exchange (stream_, nullptr);
  g_clear_object (&tcp_);
  publisher.replay = g_bytes_new (replay_.data (), replay_.size ());
  replay_.clear ();
  publisher.request = request_;
  publisher.codecs = session_->codecs ();
  publisher.session = std::move (session_);
  GST_DEBUG ("%s goes live (video '%s', audio '%s', %" G_GSIZE_FORMAT " bytes to replay)",
      request_.remote_address.c_str (), publisher.codecs.video.c_str (),
      publisher.codecs.audio.c_str (), g_bytes_get_size (publisher.replay));
  core->remove (id_);
  core->ready (std::move (publisher));
}

/* Closes the connection for a reason (never the stream name), sending what
 * the session still has to say (an _error for an unknown application). */
void
Pending::fail (const char *what, const std::string & why, bool protocol_error)
{
  if (phase_ == Phase::Done)
    return;
  GST_DEBUG ("closing %s (%s): %s", request_.remote_address.c_str (), what, why.c_str ());
  if (protocol_error) {
    if (auto core = core_.lock ())
      core->protocol_errors++;
  }
  if (session_ && session_->has_output ())
    output_ += session_->take_output ();
  finish ();
}

/* Done with: the last output is sent and the connection closed on the
 * context, and the listener forgets it. */
void
Pending::finish ()
{
  auto self = shared_from_this ();
  bool in_tls_handshake = phase_ == Phase::Tls;
  phase_ = Phase::Done;
  g_cancellable_cancel (cancellable_);
  for (GSource **s : {&read_source_, &write_source_, &negotiation_timer_, &prelude_timer_}) {
    if (*s) {
      g_source_destroy (*s);
      g_clear_pointer (s, g_source_unref);
    }
  }
  if (stream_ && in_tls_handshake) {
    /* nothing to say, and a TLS connection mid-handshake cannot say it */
    close_now (stream_);
    g_clear_object (&stream_);
  } else if (stream_) {
    send_and_close (context_, std::exchange (stream_, nullptr), std::move (output_),
        kGoodbyeTimeoutS);
    g_clear_object (&tcp_);
  }
  if (auto core = core_.lock ())
    core->remove (id_);
}

/* ---- the listener ---- */

bool
Core::start (std::string & error)
{
  const ListenerSettings & s = settings;
  if (s.tls_certificate_file.empty () != s.tls_key_file.empty ()) {
    error = "RTMPS needs both a certificate and a key file";
    return false;
  }
  if (!s.tls_certificate_file.empty ()) {
    if (!g_tls_backend_supports_tls (g_tls_backend_get_default ())) {
      error = "no TLS support in GIO (is glib-networking installed?)";
      return false;
    }
    GError *err = nullptr;
    certificate = g_tls_certificate_new_from_files (s.tls_certificate_file.c_str (),
        s.tls_key_file.c_str (), &err);
    if (!certificate) {
      error = std::string ("cannot load the TLS certificate and key: ") + err->message;
      g_error_free (err);
      return false;
    }
  }
  std::string host = s.host == "localhost" ? "127.0.0.1" : s.host;
  g_autoptr (GInetAddress) ip = g_inet_address_new_from_string (host.c_str ());
  if (!ip) {
    error = "host '" + s.host + "' is not an IP address";
    return false;
  }
  if (s.port < 0 || s.port > 65535) {
    error = "port " + std::to_string (s.port) + " is out of range";
    return false;
  }
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (ip, (guint16) s.port);
  listener = g_socket_listener_new ();
  g_socket_listener_set_backlog (listener, 256);
  GSocketAddress *effective = nullptr;
  GError *err = nullptr;
  if (!g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM,
          G_SOCKET_PROTOCOL_TCP, nullptr, &effective, &err)) {
    error = "cannot listen on " + host + ":" + std::to_string (s.port) + ": " + err->message;
    g_error_free (err);
    g_clear_object (&listener);
    return false;
  }
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_object_unref (effective);
  accept_cancellable = g_cancellable_new ();
  GST_INFO ("listening for RTMP%s publishers on %s:%d", certificate ? "S" : "", host.c_str (),
      port.load ());
  accept_next ();
  return true;
}

void
Core::stop ()
{
  if (accept_cancellable)
    g_cancellable_cancel (accept_cancellable);
  g_clear_object (&accept_cancellable);
  if (listener)
    g_socket_listener_close (listener);
  g_clear_object (&listener);
  port = 0;
  /* each closes its connection */
  std::map<uint64_t, std::shared_ptr<Pending>> gone;
  gone.swap (pending);
}

void
Core::accept_next ()
{
  ContextScope scope (context);
  g_socket_listener_accept_async (listener, accept_cancellable, on_accepted,
      weak_data (shared_from_this ()));
}

void
Core::on_accepted (GObject * source, GAsyncResult * result, gpointer data)
{
  GError *err = nullptr;
  g_autoptr (GSocketConnection) connection = g_socket_listener_accept_finish (
      G_SOCKET_LISTENER (source), result, nullptr, &err);
  auto core = lock_weak_data<Core> (data);
  free_weak_data<Core> (data);
  if (!core || !core->listener) {
    g_clear_error (&err);
    return;
  }
  if (!connection) {
    /* out of descriptors, most likely: try again in a moment, not in a loop */
    GST_WARNING ("accept failed: %s", err->message);
    g_error_free (err);
    GSource *timer = g_timeout_source_new (100);
    g_source_set_callback (timer, retry_accept, weak_data (core), free_weak_data<Core>);
    g_source_attach (timer, core->context);
    g_source_unref (timer);
    return;
  }
  core->accept_next ();
  core->add (connection);
}

gboolean
Core::retry_accept (gpointer data)
{
  if (auto core = lock_weak_data<Core> (data)) {
    if (core->listener)
      core->accept_next ();
  }
  return G_SOURCE_REMOVE;
}

void
Core::add (GSocketConnection * connection)
{
  if (pending.size () >= settings.max_pending) {
    refused_over_limit++;
    GST_DEBUG ("%zu connections negotiating already: closing a new one", pending.size ());
    close_now (G_IO_STREAM (connection));
    return;
  }
  accepted++;
  uint64_t id = next_id++;
  auto p = std::make_shared<Pending> (shared_from_this (), id, connection);
  pending.emplace (id, p);
  p->begin ();
}

/* ---- Publisher ---- */

Publisher::Publisher (Publisher && o) noexcept
{
  *this = std::move (o);
}

Publisher &
Publisher::operator= (Publisher && o) noexcept
{
  if (this != &o) {
    if (connection) {
      close_now (connection);
      g_object_unref (connection);
    }
    if (replay)
      g_bytes_unref (replay);
    connection = std::exchange (o.connection, nullptr);
    replay = std::exchange (o.replay, nullptr);
    request = std::move (o.request);
    codecs = std::move (o.codecs);
    session = std::move (o.session);
  }
  return *this;
}

Publisher::~Publisher ()
{
  if (connection) {
    close_now (connection);
    g_object_unref (connection);
  }
  if (replay)
    g_bytes_unref (replay);
}

void
reject_publisher (Publisher && publisher, const std::string & code,
    const std::string & description)
{
  Publisher p = std::move (publisher);
  if (!p.connection)
    return;
  std::string output;
  if (p.session) {
    p.session->refuse_publish (code, description);
    if (p.session->has_output ())
      output = p.session->take_output ();
  }
  g_autoptr (GMainContext) context = g_main_context_ref_thread_default ();
  send_and_close (context, std::exchange (p.connection, nullptr), std::move (output),
      kGoodbyeTimeoutS);
}

/* ---- RtmpListener ---- */

struct RtmpListener::Private {
  std::shared_ptr<Core> core;
};

RtmpListener::RtmpListener (GMainContext * context, ListenerSettings settings,
    DecideFunc decide, ReadyFunc ready)
    : priv_ (std::make_unique<Private> ())
{
  init_debug ();
  priv_->core = std::make_shared<Core> ();
  Core & c = *priv_->core;
  c.context = context ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  c.settings = std::move (settings);
  c.decide = std::move (decide);
  c.ready = std::move (ready);
}

RtmpListener::~RtmpListener ()
{
  stop ();
}

bool
RtmpListener::start (std::string & error)
{
  return priv_->core->start (error);
}

void
RtmpListener::stop ()
{
  priv_->core->stop ();
}

int
RtmpListener::port () const
{
  return priv_->core->port;
}

uint64_t
RtmpListener::accepted () const
{
  return priv_->core->accepted;
}

uint64_t
RtmpListener::refused_over_limit () const
{
  return priv_->core->refused_over_limit;
}

uint64_t
RtmpListener::protocol_errors () const
{
  return priv_->core->protocol_errors;
}

uint64_t
RtmpListener::timed_out () const
{
  return priv_->core->timed_out;
}

}  // namespace castline::rtmp
