#include "webmws/publisherhub.h"

#include <algorithm>

namespace castline::webmws {

struct PublisherHub::Publisher {
  uint64_t id = 0;
  SoupWebsocketConnection *conn = nullptr;     /* owned reference */
  GMainContext *context = nullptr;             /* owned reference: conn lives there */
  std::weak_ptr<PublisherHub> hub;
  std::unique_ptr<WebmWsSession> session;      /* null for a refused connection */
  PublisherReport report;
  int64_t connected_us = 0;
  gulong handlers[3] = { 0, 0, 0 };

  /* under the hub's lock */
  bool current = false;
  bool close_sent = false;                     /* we called soup close */
  uint16_t close_code = 0;
  std::string close_reason;
  uint16_t error_code = 0;                     /* libsoup closed for a protocol error */
  std::string error_reason;
  bool closed = false;

  ~Publisher ()
  {
    if (conn)
      g_object_unref (conn);
    if (context)
      g_main_context_unref (context);
  }
};

/* The C callbacks; user data is a heap std::shared_ptr<Publisher>. */
struct HubCallbacks {
  using PubRef = std::shared_ptr<PublisherHub::Publisher>;

  static void free_ref (gpointer data, GClosure *)
  {
    delete static_cast<PubRef *> (data);
  }

  static void message (SoupWebsocketConnection *, gint type, GBytes * message, gpointer data)
  {
    PubRef pub = *static_cast<PubRef *> (data);
    if (auto hub = pub->hub.lock ())
      hub->on_message (pub, (SoupWebsocketDataType) type, message);
  }

  static void error (SoupWebsocketConnection *, GError * error, gpointer data)
  {
    PubRef pub = *static_cast<PubRef *> (data);
    if (auto hub = pub->hub.lock ())
      hub->on_error (pub, error);
  }

  static void closed (SoupWebsocketConnection *, gpointer data)
  {
    /* keep the publisher alive: disconnecting frees the user data */
    PubRef pub = *static_cast<PubRef *> (data);
    if (auto hub = pub->hub.lock ())
      hub->on_closed (pub);
    disconnect (*pub);
  }

  static void disconnect (PublisherHub::Publisher & pub)
  {
    for (gulong & id : pub.handlers) {
      if (id)
        g_signal_handler_disconnect (pub.conn, id);
      id = 0;
    }
  }

  struct CloseCall {
    std::shared_ptr<PublisherHub> hub;
    PubRef pub;
    uint16_t code;
    std::string reason;
  };

  static gboolean close_call (gpointer data)
  {
    auto *c = static_cast<CloseCall *> (data);
    c->hub->close_now (c->pub, c->code, c->reason);
    return G_SOURCE_REMOVE;
  }

  static void free_close_call (gpointer data)
  {
    delete static_cast<CloseCall *> (data);
  }
};

namespace {

std::string
address_of_stream (GIOStream * stream)
{
  /* TLS and libsoup wrap the socket connection: walk down to it */
  for (int depth = 0; stream && depth < 4; depth++) {
    if (G_IS_SOCKET_CONNECTION (stream)) {
      g_autoptr (GSocketAddress) addr =
          g_socket_connection_get_remote_address (G_SOCKET_CONNECTION (stream), nullptr);
      if (!addr || !G_IS_INET_SOCKET_ADDRESS (addr))
        return "";
      GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS (addr);
      g_autofree gchar *ip = g_inet_address_to_string (g_inet_socket_address_get_address (inet));
      return std::string (ip) + ":" + std::to_string (g_inet_socket_address_get_port (inet));
    }
    GObjectClass *klass = G_OBJECT_GET_CLASS (stream);
    const char *prop = g_object_class_find_property (klass, "base-iostream") ? "base-iostream"
        : g_object_class_find_property (klass, "base-io-stream") ? "base-io-stream" : nullptr;
    if (!prop)
      return "";
    GIOStream *base = nullptr;
    g_object_get (stream, prop, &base, nullptr);
    if (!base)
      return "";
    std::string s = address_of_stream (base);
    g_object_unref (base);
    return s;
  }
  return "";
}

std::string
query_param (GUri * uri, const char *name)
{
  const char *query = uri ? g_uri_get_query (uri) : nullptr;
  if (!query)
    return "";
  g_autoptr (GHashTable) params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, nullptr);
  const char *v = params ? (const char *) g_hash_table_lookup (params, name) : nullptr;
  return v ? v : "";
}

/* The recording's tracks are known and none is video. */
bool
audio_only (const HeaderInfo & header)
{
  if (!header.tracks_known || header.tracks.empty ())
    return false;
  for (const TrackInfo & t : header.tracks)
    if (t.type != 2)
      return false;
  return true;
}

/* Close codes libsoup 3.2 agrees to send: it takes any other code under
 * 3000 (1012-1014, registered after RFC 6455) for a protocol error and
 * sends 1002 instead. */
bool
libsoup_sends (uint16_t code)
{
  return code <= 1003 || (code >= 1007 && code <= 1011) || code >= 3000;
}

constexpr unsigned kRawCloseTimeoutMs = 3000;

/* Writes a server close frame (unmasked: FIN + opcode 8, length, code,
 * reason) on the connection's stream, for a code libsoup will not send;
 * false unless the few bytes went out whole at once. Called on the
 * connection's context, the one libsoup writes from, so no libsoup write
 * runs meanwhile; libsoup would only have a frame half written if a reply
 * of ours (a pong or an error, a few bytes each) met a full socket buffer. */
bool
send_raw_close (SoupWebsocketConnection * conn, uint16_t code, const std::string & reason)
{
  GOutputStream *out = g_io_stream_get_output_stream (soup_websocket_connection_get_io_stream (conn));
  if (!G_IS_POLLABLE_OUTPUT_STREAM (out) || g_output_stream_has_pending (out)
      || !g_pollable_output_stream_is_writable (G_POLLABLE_OUTPUT_STREAM (out)))
    return false;
  std::string frame;
  frame += (char) 0x88;
  frame += (char) (2 + reason.size ());    /* reason fits 123 bytes */
  frame += (char) (code >> 8);
  frame += (char) (code & 0xff);
  frame += reason;
  gssize n = g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (out),
      frame.data (), frame.size (), nullptr, nullptr);
  return n == (gssize) frame.size ();
}

}  // namespace

std::string
remote_address_of (SoupWebsocketConnection * conn)
{
  return address_of_stream (soup_websocket_connection_get_io_stream (conn));
}

PublisherHub::PublisherHub (HubSettings settings, std::shared_ptr<ChunkQueue> queue,
    HubListener listener)
    : settings_ (std::move (settings)), queue_ (std::move (queue)), listener_ (std::move (listener))
{
}

PublisherHub::~PublisherHub () = default;

void
PublisherHub::connect_signals (const std::shared_ptr<Publisher> & pub)
{
  auto ref = [&] () { return new HubCallbacks::PubRef (pub); };
  pub->handlers[0] = g_signal_connect_data (pub->conn, "message",
      G_CALLBACK (HubCallbacks::message), ref (), HubCallbacks::free_ref, (GConnectFlags) 0);
  pub->handlers[1] = g_signal_connect_data (pub->conn, "error",
      G_CALLBACK (HubCallbacks::error), ref (), HubCallbacks::free_ref, (GConnectFlags) 0);
  pub->handlers[2] = g_signal_connect_data (pub->conn, "closed",
      G_CALLBACK (HubCallbacks::closed), ref (), HubCallbacks::free_ref, (GConnectFlags) 0);
}

bool
PublisherHub::add_connection (SoupWebsocketConnection * conn, const std::string & remote_address,
    const std::string & mime_type, GBytes * first_bytes)
{
  auto pub = std::make_shared<Publisher> ();
  pub->conn = (SoupWebsocketConnection *) g_object_ref (conn);
  pub->context = g_main_context_ref_thread_default ();
  pub->hub = weak_from_this ();
  pub->connected_us = g_get_monotonic_time ();
  pub->report.remote_address = remote_address;
  GUri *uri = soup_websocket_connection_get_uri (conn);
  pub->report.path = uri ? g_uri_get_path (uri) : "";
  std::string declared_mime = mime_type.empty () ? query_param (uri, "mimeType") : mime_type;
  pub->report.mime_type = declared_mime;

  std::string refusal;
  std::shared_ptr<Publisher> displaced;
  {
    std::lock_guard<std::mutex> lk (lock_);
    pub->id = next_id_++;
    if (shutdown_)
      refusal = "the source is stopping";
    else if (queue_->ended ())
      refusal = "the stream has ended";
    else if (current_ && !settings_.replace_publisher)
      refusal = "another publisher is live";
    if (refusal.empty ()) {
      displaced = current_;
      bool replacing = displaced && stream_started_;
      SessionLimits limits;
      limits.max_message_size = settings_.max_message_size;
      pub->session = std::make_unique<WebmWsSession> (limits,
          replacing ? &stream_header_ : nullptr);
      pub->report.replacing = replacing;
      pub->current = true;
      current_ = pub;
      if (displaced)
        displaced->current = false;
      stats_.publishers_accepted++;
    } else {
      stats_.publishers_refused++;
    }
    connections_.push_back (pub);
  }
  connect_signals (pub);
  /* libsoup drops the TCP connection without a close frame for a frame over
   * its limit: keep it above ours (2x, still bounded) so that the session
   * sees an oversized message and closes with 1009 and a reason */
  soup_websocket_connection_set_max_incoming_payload_size (conn, settings_.max_message_size * 2);

  if (!refusal.empty ()) {
    close_now (pub, close_code::policy_violation, refusal);
    if (listener_.refused) {
      PublisherReport r = pub->report;
      r.close_code = close_code::policy_violation;
      r.reason = refusal;
      listener_.refused (r);
    }
    return false;
  }

  queue_->touch ();
  if (displaced)
    close_on_context (displaced, close_code::policy_violation, "replaced by a newer publisher");
  if (listener_.connected)
    listener_.connected (pub->report);
  if (!declared_mime.empty ()) {
    /* the URL may say what a start message would */
    SessionOutcome out;
    {
      std::lock_guard<std::mutex> lk (lock_);
      if (pub->current)
        out = pub->session->declare_mime_type (declared_mime);
    }
    if (out.close) {
      {
        std::lock_guard<std::mutex> lk (lock_);
        leave_locked (*pub, false);
      }
      close_now (pub, out.close->code, out.close->reason);
      if (listener_.warning)
        listener_.warning (out.warning_kind, out.warning, out.close->code);
      return true;
    }
  }
  if (first_bytes)
    on_message (pub, SOUP_WEBSOCKET_DATA_BINARY, first_bytes);
  return true;
}

void
PublisherHub::leave_locked (Publisher & pub, bool end_requested)
{
  if (!pub.current)
    return;
  pub.current = false;
  if (current_.get () == &pub)
    current_.reset ();
  if (end_requested || stream_started_)
    queue_->push_end ();
}

void
PublisherHub::on_message (const std::shared_ptr<Publisher> & pub, SoupWebsocketDataType type,
    GBytes * message)
{
  SessionOutcome out;
  bool queue_high = false, queue_full = false;
  uint64_t queued = 0;
  {
    std::lock_guard<std::mutex> lk (lock_);
    if (!pub->current || !pub->session)
      return;                    /* displaced or refused: its messages no longer count */
    if (type == SOUP_WEBSOCKET_DATA_BINARY) {
      out = pub->session->on_binary (message);
    } else {
      gsize len = 0;
      const char *text = (const char *) g_bytes_get_data (message, &len);
      out = pub->session->on_text (text ? text : "", len);
    }
    stats_.messages_received++;

    if (out.chunk) {
      Chunk chunk;
      chunk.bytes = out.chunk;
      chunk.first_of_publisher = out.first_chunk;
      if (out.first_chunk) {
        const WebmWsSession & s = *pub->session;
        std::string declared = s.mime_type ().media_type;
        if (declared.empty ())
          declared = audio_only (s.header ()) ? "audio/webm" : settings_.default_media_type;
        chunk.media_type = media_type_for (declared, s.header ().doc_type);
        chunk.continues_stream = s.replacing ();
        stream_started_ = true;
        stream_header_ = s.header ();
      }
      gsize size = g_bytes_get_size (out.chunk.get ());
      switch (queue_->push (std::move (chunk))) {
        case ChunkQueue::PushResult::queued:
          stats_.bytes_received += size;
          break;
        case ChunkQueue::PushResult::queued_high:
          stats_.bytes_received += size;
          queue_high = true;
          break;
        case ChunkQueue::PushResult::full:
          queue_full = true;
          out.close = CloseRequest { close_code::try_again_later, "downstream too slow" };
          break;
        case ChunkQueue::PushResult::ended:
          out.close = CloseRequest { close_code::policy_violation, "the stream has ended" };
          break;
      }
      queued = queue_->bytes ();
    }
  }

  /* the warnings first, then the end of the stream: an application sees
   * why the publisher went before the EOS it causes */
  if (queue_high && listener_.queue_high)
    listener_.queue_high (queued, queue_->max_bytes ());
  if (queue_full && listener_.queue_full)
    listener_.queue_full (queued, queue_->max_bytes ());
  if (out.warning_kind != WarningKind::none && listener_.warning)
    listener_.warning (out.warning_kind, out.warning, out.close ? out.close->code : 0);
  if (out.close) {
    std::lock_guard<std::mutex> lk (lock_);
    leave_locked (*pub, out.end_of_stream);
  }

  /* on the connection's own thread: call libsoup directly */
  if (!out.reply.empty ()
      && soup_websocket_connection_get_state (pub->conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (pub->conn, out.reply.c_str ());
  if (out.close)
    close_now (pub, out.close->code, out.close->reason);
}

void
PublisherHub::on_error (const std::shared_ptr<Publisher> & pub, const GError * error)
{
  std::lock_guard<std::mutex> lk (lock_);
  if (error->domain == SOUP_WEBSOCKET_ERROR && !pub->close_sent) {
    pub->error_code = (uint16_t) error->code;
    pub->error_reason = error->message;
  } else if (pub->error_reason.empty ()) {
    pub->error_reason = error->message;
  }
}

void
PublisherHub::on_closed (const std::shared_ptr<Publisher> & pub)
{
  PublisherReport report = pub->report;
  bool was_current, lost = false;
  uint16_t libsoup_code = 0;
  {
    std::lock_guard<std::mutex> lk (lock_);
    pub->closed = true;
    if (pub->close_sent) {
      report.close_code = pub->close_code;
      report.reason = pub->close_reason;
    } else if (pub->error_code) {
      /* libsoup closed it for the publisher's protocol error (1002, 1007, 1009) */
      report.close_code = libsoup_code = pub->error_code;
      report.reason = pub->error_reason;
    } else {
      report.close_code = soup_websocket_connection_get_close_code (pub->conn);
      const char *data = soup_websocket_connection_get_close_data (pub->conn);
      report.reason = data ? data : "";
      report.closed_by_publisher = true;
      if (report.close_code == 0) {
        report.close_code = close_code::abnormal;
        if (report.reason.empty ())
          report.reason = pub->error_reason.empty () ? "connection lost" : pub->error_reason;
      }
    }
    was_current = pub->current;
    if (pub->session) {
      report.bytes = pub->session->bytes ();
      report.messages = pub->session->messages ();
      if (!pub->session->mime_type ().media_type.empty ())
        report.mime_type = pub->session->mime_type ().to_string ();
      lost = was_current && report.close_code == close_code::abnormal
          && pub->session->started ();
    }
    report.duration_ns = (uint64_t) (g_get_monotonic_time () - pub->connected_us) * 1000;
    connections_.erase (std::remove (connections_.begin (), connections_.end (), pub),
        connections_.end ());
  }
  /* the messages first, then the end of the stream (as in on_message) */
  if (pub->session) {            /* else refused: already reported */
    if (was_current && libsoup_code == close_code::too_big && listener_.warning)
      listener_.warning (WarningKind::too_big, "publisher sent a frame over max-message-size ("
          + std::to_string (settings_.max_message_size) + " bytes)", libsoup_code);
    else if (was_current && libsoup_code && listener_.warning)
      listener_.warning (WarningKind::bad_stream, "publisher broke the WebSocket protocol: "
          + report.reason, libsoup_code);
    if (lost && listener_.connection_lost)
      listener_.connection_lost (report);
    if (listener_.disconnected)
      listener_.disconnected (report);
  }
  if (was_current) {
    std::lock_guard<std::mutex> lk (lock_);
    leave_locked (*pub, false);
  }
}

void
PublisherHub::close_now (const std::shared_ptr<Publisher> & pub, uint16_t code,
    const std::string & reason)
{
  std::string r = utf8_prefix (reason, 123);
  {
    std::lock_guard<std::mutex> lk (lock_);
    if (pub->close_sent || pub->closed
        || soup_websocket_connection_get_state (pub->conn) != SOUP_WEBSOCKET_STATE_OPEN)
      return;
    pub->close_sent = true;
    pub->close_code = code;
    pub->close_reason = r;
  }
  if (libsoup_sends (code) || !send_raw_close (pub->conn, code, r)) {
    if (!libsoup_sends (code))
      code = SOUP_WEBSOCKET_CLOSE_SERVER_ERROR;   /* the nearest code libsoup sends */
    soup_websocket_connection_close (pub->conn, code, r.c_str ());
    return;
  }
  /* libsoup does not know a close was sent: when the publisher does not
   * answer it in time, drop the connection (libsoup then emits "closed") */
  g_object_ref (pub->conn);
  GSource *timer = g_timeout_source_new (kRawCloseTimeoutMs);
  g_source_set_callback (timer, [] (gpointer data) -> gboolean {
        auto *conn = static_cast<SoupWebsocketConnection *> (data);
        if (soup_websocket_connection_get_state (conn) != SOUP_WEBSOCKET_STATE_CLOSED)
          g_io_stream_close (soup_websocket_connection_get_io_stream (conn), nullptr, nullptr);
        return G_SOURCE_REMOVE;
      }, pub->conn, g_object_unref);
  g_source_attach (timer, pub->context);
  g_source_unref (timer);
}

void
PublisherHub::close_on_context (const std::shared_ptr<Publisher> & pub, uint16_t code,
    const std::string & reason)
{
  auto *call = new HubCallbacks::CloseCall { shared_from_this (), pub, code, reason };
  g_main_context_invoke_full (pub->context, G_PRIORITY_DEFAULT, HubCallbacks::close_call,
      call, HubCallbacks::free_close_call);
}

void
PublisherHub::end_idle (const std::string & reason)
{
  end_stream (close_code::going_away, reason);
}

void
PublisherHub::end_stream (uint16_t code, const std::string & reason)
{
  std::shared_ptr<Publisher> pub;
  {
    std::lock_guard<std::mutex> lk (lock_);
    pub = current_;
    if (pub)
      leave_locked (*pub, true);
    queue_->push_end ();
  }
  if (pub)
    close_on_context (pub, code, reason);
}

void
PublisherHub::shutdown ()
{
  std::vector<std::shared_ptr<Publisher>> open;
  {
    std::lock_guard<std::mutex> lk (lock_);
    shutdown_ = true;
    if (current_)
      current_->current = false;
    current_.reset ();
    open = connections_;
  }
  for (auto & pub : open)
    close_on_context (pub, close_code::going_away, "stream stopped");
}

size_t
PublisherHub::open_connections (GMainContext * context) const
{
  std::lock_guard<std::mutex> lk (lock_);
  return std::count_if (connections_.begin (), connections_.end (),
      [context] (const std::shared_ptr<Publisher> & p) { return p->context == context; });
}

void
PublisherHub::abandon (GMainContext * context)
{
  std::vector<std::shared_ptr<Publisher>> gone;
  {
    std::lock_guard<std::mutex> lk (lock_);
    for (auto it = connections_.begin (); it != connections_.end ();) {
      if ((*it)->context == context) {
        (*it)->current = false;
        if (current_ == *it)
          current_.reset ();
        gone.push_back (*it);
        it = connections_.erase (it);
      } else {
        ++it;
      }
    }
  }
  for (auto & pub : gone)
    HubCallbacks::disconnect (*pub);
}

HubStats
PublisherHub::stats () const
{
  std::lock_guard<std::mutex> lk (lock_);
  HubStats s = stats_;
  s.publisher_live = current_ != nullptr;
  if (current_)
    s.publisher_address = current_->report.remote_address;
  return s;
}

}  // namespace castline::webmws
