#include "webmws/wsserver.h"

#include <cstring>

namespace castline::webmws {

namespace {

void
sha256 (const std::string & s, guint8 out[32])
{
  g_autoptr (GChecksum) c = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (c, (const guchar *) s.data (), (gssize) s.size ());
  gsize len = 32;
  g_checksum_get_digest (c, out, &len);
}

std::string
address_string (GSocketAddress * addr)
{
  if (!addr || !G_IS_INET_SOCKET_ADDRESS (addr))
    return "";
  GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS (addr);
  g_autofree gchar *ip = g_inet_address_to_string (g_inet_socket_address_get_address (inet));
  return std::string (ip) + ":" + std::to_string (g_inet_socket_address_get_port (inet));
}

/* ?key=... or Authorization: Bearer ... */
std::string
offered_key (SoupServerMessage * msg, GHashTable * query)
{
  const char *k = query ? (const char *) g_hash_table_lookup (query, "key") : nullptr;
  if (k)
    return k;
  const char *auth = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Authorization");
  if (auth && g_ascii_strncasecmp (auth, "Bearer ", 7) == 0) {
    std::string token = auth + 7;
    while (!token.empty () && token.front () == ' ')
      token.erase (0, 1);
    return token;
  }
  return "";
}

}  // namespace

bool
keys_equal (const std::string & expected, const std::string & offered)
{
  guint8 a[32], b[32];
  sha256 (expected, a);
  sha256 (offered, b);
  guint8 diff = 0;
  for (int i = 0; i < 32; i++)
    diff |= a[i] ^ b[i];
  return diff == 0;
}

WsServer::~WsServer ()
{
  stop (0);
}

bool
WsServer::start (const WsServerConfig & config, WsServerCallbacks callbacks, std::string & error)
{
  config_ = config;
  callbacks_ = std::move (callbacks);
  context_ = g_main_context_new ();
  loop_ = g_main_loop_new (context_, FALSE);
  {
    std::lock_guard<std::mutex> lk (lock_);
    ready_ = false;
    error_.clear ();
  }
  thread_ = std::thread (&WsServer::run, this);
  std::unique_lock<std::mutex> lk (lock_);
  cond_.wait (lk, [this] { return ready_; });
  if (!error_.empty ()) {
    error = error_;
    lk.unlock ();
    thread_.join ();
    g_main_loop_unref (loop_);
    g_main_context_unref (context_);
    loop_ = nullptr;
    context_ = nullptr;
    return false;
  }
  return true;
}

int
WsServer::bound_port () const
{
  std::lock_guard<std::mutex> lk (lock_);
  return bound_port_;
}

void
WsServer::on_early_request (SoupServer *, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer data)
{
  auto *self = static_cast<WsServer *> (data);
  if (self->config_.key.empty ())
    return;
  if (keys_equal (self->config_.key, offered_key (msg, query)))
    return;
  static const char body[] = "webmwssrc: missing or wrong key\n";
  soup_server_message_set_status (msg, SOUP_STATUS_UNAUTHORIZED, nullptr);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "WWW-Authenticate", "Bearer realm=\"webmwssrc\"");
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, body,
      strlen (body));
  if (self->callbacks_.unauthorized)
    self->callbacks_.unauthorized (address_string (soup_server_message_get_remote_address (msg)),
        path ? path : "", SOUP_STATUS_UNAUTHORIZED);
}

void
WsServer::on_websocket (SoupServer *, SoupServerMessage * msg, const char *,
    SoupWebsocketConnection * conn, gpointer data)
{
  auto *self = static_cast<WsServer *> (data);
  if (self->callbacks_.connection)
    self->callbacks_.connection (conn,
        address_string (soup_server_message_get_remote_address (msg)));
}

void
WsServer::run ()
{
  g_main_context_push_thread_default (context_);
  SoupServer *server = soup_server_new ("server-header", "castline-webmwssrc ", nullptr);
  const char *path = config_.path.empty () ? "/" : config_.path.c_str ();
  soup_server_add_early_handler (server, path, on_early_request, this, nullptr);
  soup_server_add_websocket_handler (server, path, nullptr, nullptr, on_websocket, this, nullptr);

  std::string error;
  g_autoptr (GInetAddress) addr = nullptr;
  if (config_.host == "localhost")
    addr = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  else
    addr = g_inet_address_new_from_string (config_.host.c_str ());
  if (!addr) {
    error = "host '" + config_.host + "' is not an IP address (nor localhost)";
  } else {
    g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (addr, (guint16) config_.port);
    g_autoptr (GError) err = nullptr;
    if (!soup_server_listen (server, sa, (SoupServerListenOptions) 0, &err))
      error = "cannot listen on " + config_.host + ":" + std::to_string (config_.port) + ": "
          + (err ? err->message : "unknown error");
  }
  int port = 0;
  if (error.empty ()) {
    GSList *listeners = soup_server_get_listeners (server);
    if (listeners) {
      g_autoptr (GSocketAddress) local =
          g_socket_get_local_address (G_SOCKET (listeners->data), nullptr);
      if (local && G_IS_INET_SOCKET_ADDRESS (local))
        port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
    }
    g_slist_free (listeners);
  }
  {
    std::lock_guard<std::mutex> lk (lock_);
    error_ = error;
    bound_port_ = port;
    ready_ = true;
    cond_.notify_all ();
  }

  if (error.empty ())
    g_main_loop_run (loop_);

  /* stopping: nobody will run this context again */
  if (callbacks_.abandon)
    callbacks_.abandon (context_);
  soup_server_disconnect (server);
  g_object_unref (server);
  /* let sources finish what the unrefs started (bounded: a source that
   * stays ready must not keep the thread) */
  for (int i = 0; i < 100 && g_main_context_iteration (context_, FALSE); i++) {
  }
  g_main_context_pop_thread_default (context_);
}

void
WsServer::stop (unsigned grace_ms)
{
  if (!thread_.joinable ())
    return;
  {
    std::lock_guard<std::mutex> lk (lock_);
    bound_port_ = 0;
  }
  /* on the server thread: wait for close handshakes, bounded, then quit */
  struct Waiter {
    WsServer *self;
    gint64 deadline;
  };
  auto *w = new Waiter { this, g_get_monotonic_time () + (gint64) grace_ms * 1000 };
  GSource *tick = g_timeout_source_new (10);
  g_source_set_callback (tick, [] (gpointer data) -> gboolean {
    auto *w = static_cast<Waiter *> (data);
    size_t open = w->self->callbacks_.open_connections
        ? w->self->callbacks_.open_connections (w->self->context_) : 0;
    if (open == 0 || g_get_monotonic_time () >= w->deadline) {
      g_main_loop_quit (w->self->loop_);
      return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
  }, w, [] (gpointer data) { delete static_cast<Waiter *> (data); });
  g_source_attach (tick, context_);
  g_source_unref (tick);
  thread_.join ();
  g_main_loop_unref (loop_);
  g_main_context_unref (context_);
  loop_ = nullptr;
  context_ = nullptr;
}

}  // namespace castline::webmws
