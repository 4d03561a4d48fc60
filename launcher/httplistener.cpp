#include "httplistener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>

namespace castline::launcher {

namespace {

constexpr int kBacklog = 1024;     /* GSocketListener's default is 10 */

std::string
address_key (GSocketAddress * address)
{
  if (!address || !G_IS_INET_SOCKET_ADDRESS (address))
    return "";
  GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS (address);
  g_autofree gchar *ip = g_inet_address_to_string (g_inet_socket_address_get_address (inet));
  return std::string (ip) + ":" + std::to_string (g_inet_socket_address_get_port (inet));
}

/* the peer has closed its side (or the connection broke) */
bool
peer_closed (GSocket * socket)
{
  struct pollfd p = { g_socket_get_fd (socket), POLLRDHUP, 0 };
  return poll (&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

}  // namespace

HttpListener::HttpListener (SoupServer * server, guint idle_timeout_s, guint scan_interval_ms)
    : server_ (server), service_ (g_socket_service_new ()),
      idle_timeout_us_ ((gint64) idle_timeout_s * G_USEC_PER_SEC)
{
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (service_), kBacklog);
  g_signal_connect (service_, "incoming", G_CALLBACK (on_incoming), this);
  started_handler_ = g_signal_connect (server, "request-started",
      G_CALLBACK (on_request_started), this);
  timer_ = g_timeout_add (scan_interval_ms, [] (gpointer self) -> gboolean {
        static_cast<HttpListener *> (self)->scan ();
        return G_SOURCE_CONTINUE;
      }, this);
}

HttpListener::~HttpListener ()
{
  g_source_remove (timer_);
  g_signal_handler_disconnect (server_, started_handler_);
  g_socket_service_stop (service_);
  g_socket_listener_close (G_SOCKET_LISTENER (service_));
  g_signal_handlers_disconnect_by_data (service_, this);
  g_object_unref (service_);
  for (auto & [key, w] : waiting_)
    g_object_unref (w.connection);
}

bool
HttpListener::listen (const std::string & host, int port, std::string & error)
{
  g_autoptr (GInetAddress) addr = host == "localhost"
      ? g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4)
      : g_inet_address_new_from_string (host.c_str ());
  if (!addr) {
    error = "host '" + host + "' is not an IP address";
    return false;
  }
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (addr, (guint16) port);
  g_autoptr (GSocketAddress) effective = nullptr;
  g_autoptr (GError) err = nullptr;
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service_), address,
          G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr, &effective, &err)) {
    error = "cannot listen on " + host + ":" + std::to_string (port) + ": " + err->message;
    return false;
  }
  port_ = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_socket_service_start (service_);
  return true;
}

gboolean
HttpListener::on_incoming (GSocketService *, GSocketConnection * connection, GObject *,
    gpointer data)
{
  auto *self = static_cast<HttpListener *> (data);
  g_autoptr (GSocketAddress) local = g_socket_connection_get_local_address (connection, nullptr);
  g_autoptr (GSocketAddress) remote = g_socket_connection_get_remote_address (connection,
      nullptr);
  std::string key = address_key (remote);
  if (!local || key.empty ())
    return TRUE;                   /* gone already: the service drops it */
  g_socket_set_option (g_socket_connection_get_socket (connection), IPPROTO_TCP, TCP_NODELAY,
      TRUE, nullptr);

  auto it = self->waiting_.find (key);
  if (it != self->waiting_.end ()) {
    /* the last connection from that address and port is closed by now */
    g_object_unref (it->second.connection);
    self->waiting_.erase (it);
  }
  self->waiting_.emplace (key, Waiting { G_SOCKET_CONNECTION (g_object_ref (connection)),
          g_get_monotonic_time () });
  g_autoptr (GError) err = nullptr;
  if (!soup_server_accept_iostream (self->server_, G_IO_STREAM (connection), local, remote,
          &err)) {
    g_warning ("cannot take an HTTP connection: %s", err ? err->message : "?");
    g_object_unref (self->waiting_[key].connection);
    self->waiting_.erase (key);
  }
  return TRUE;
}

void
HttpListener::on_request_started (SoupServer *, SoupServerMessage * msg, gpointer data)
{
  /* emitted for the first message as soon as the connection is taken,
   * before the client sent anything: what counts is its headers */
  g_signal_connect (msg, "got-headers", G_CALLBACK (on_got_headers), data);
}

void
HttpListener::on_got_headers (SoupServerMessage * msg, gpointer data)
{
  auto *self = static_cast<HttpListener *> (data);
  /* libsoup closes a connection it did not accept itself after its
   * response: say so, so that clients do not send another request on it
   * (not on a WebSocket handshake, whose 101 says "Connection: Upgrade") */
  if (!soup_message_headers_header_contains (soup_server_message_get_request_headers (msg),
          "Upgrade", "websocket"))
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
        "close");
  auto it = self->waiting_.find (address_key (soup_server_message_get_remote_address (msg)));
  if (it == self->waiting_.end ())
    return;
  g_object_unref (it->second.connection);
  self->waiting_.erase (it);
}

void
HttpListener::scan ()
{
  gint64 now = g_get_monotonic_time ();
  for (auto it = waiting_.begin (); it != waiting_.end ();) {
    Waiting & w = it->second;
    GSocket *socket = g_socket_connection_get_socket (w.connection);
    bool reap = false;
    if (!g_socket_is_closed (socket)) {
      if (peer_closed (socket)) {
        /* at the second scan that sees it: a request sent just before the
         * peer closed has been started by then */
        reap = w.peer_gone;
        w.peer_gone = true;
      } else {
        reap = now - w.accepted_us > idle_timeout_us_;
      }
      if (reap) {
        g_socket_close (socket, nullptr);
        reaped_++;
      }
    }
    if (g_socket_is_closed (socket)) {
      g_object_unref (w.connection);
      it = waiting_.erase (it);
    } else {
      ++it;
    }
  }
}

}  // namespace castline::launcher
