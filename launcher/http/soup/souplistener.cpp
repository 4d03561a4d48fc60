#include "http/soup/souplistener.h"

#include <gio/gunixsocketaddress.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

namespace castline::launcher::http {

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

/* libsoup keeps connections alive only for a server that listens itself
 * (soup-server.c, request_finished) */
bool
give_server_a_listener (SoupServer * server, std::string & error)
{
  g_autofree gchar *name = g_strdup_printf ("castline-launcher-%d-%08x%08x", (int) getpid (),
      g_random_int (), g_random_int ());
  g_autoptr (GSocketAddress) address = g_unix_socket_address_new_with_type (name, -1,
      G_UNIX_SOCKET_ADDRESS_ABSTRACT);
  g_autoptr (GError) err = nullptr;
  if (!soup_server_listen (server, address, (SoupServerListenOptions) 0, &err)) {
    error = std::string ("cannot set up HTTP keep-alive: ") + err->message;
    return false;
  }
  return true;
}

}  // namespace

SoupListener::SoupListener (SoupServer * server, guint idle_timeout_s, guint scan_interval_ms)
    : server_ (server), service_ (g_socket_service_new ()),
      idle_timeout_us_ ((gint64) idle_timeout_s * G_USEC_PER_SEC)
{
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (service_), kBacklog);
  g_signal_connect (service_, "incoming", G_CALLBACK (on_incoming), this);
  handlers_[0] = g_signal_connect (server, "request-started", G_CALLBACK (on_request_started),
      this);
  handlers_[1] = g_signal_connect (server, "request-finished", G_CALLBACK (on_request_done),
      this);
  handlers_[2] = g_signal_connect (server, "request-aborted", G_CALLBACK (on_request_done),
      this);
  timer_ = g_timeout_add (scan_interval_ms, [] (gpointer self) -> gboolean {
        static_cast<SoupListener *> (self)->scan ();
        return G_SOURCE_CONTINUE;
      }, this);
}

SoupListener::~SoupListener ()
{
  g_source_remove (timer_);
  for (gulong id : handlers_)
    g_signal_handler_disconnect (server_, id);
  g_socket_service_stop (service_);
  g_socket_listener_close (G_SOCKET_LISTENER (service_));
  g_signal_handlers_disconnect_by_data (service_, this);
  g_object_unref (service_);
  while (!connections_.empty ())
    forget (connections_.begin ());
}

void
SoupListener::on_stream_gone (gpointer data, GObject * stream)
{
  auto *self = static_cast<SoupListener *> (data);
  for (auto it = self->connections_.begin (); it != self->connections_.end (); ++it) {
    if (G_OBJECT (it->second.stream) == stream) {
      self->connections_.erase (it);
      return;
    }
  }
}

void
SoupListener::forget (std::map<std::string, Connection>::iterator it)
{
  g_object_weak_unref (G_OBJECT (it->second.stream), on_stream_gone, this);
  connections_.erase (it);
}

bool
SoupListener::listen (const std::string & host, int port, std::string & error)
{
  g_autoptr (GInetAddress) addr = host == "localhost"
      ? g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4)
      : g_inet_address_new_from_string (host.c_str ());
  if (!addr) {
    error = "host '" + host + "' is not an IP address";
    return false;
  }
  if (!give_server_a_listener (server_, error))
    return false;
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
SoupListener::on_incoming (GSocketService *, GSocketConnection * connection, GObject *,
    gpointer data)
{
  auto *self = static_cast<SoupListener *> (data);
  g_autoptr (GSocketAddress) local = g_socket_connection_get_local_address (connection, nullptr);
  g_autoptr (GSocketAddress) remote = g_socket_connection_get_remote_address (connection,
      nullptr);
  std::string key = address_key (remote);
  if (!local || key.empty ())
    return TRUE;                   /* gone already: the service drops it */
  g_socket_set_option (g_socket_connection_get_socket (connection), IPPROTO_TCP, TCP_NODELAY,
      TRUE, nullptr);

  auto it = self->connections_.find (key);
  if (it != self->connections_.end ())
    self->forget (it);             /* that connection is closed by now */
  g_autoptr (CastlineHttpConnStream) stream = castline_http_conn_stream_new (connection);
  /* before libsoup takes it: it may read and answer a request at once */
  g_object_weak_ref (G_OBJECT (stream), on_stream_gone, self);
  self->connections_.emplace (key, Connection { stream, g_get_monotonic_time () });
  g_autoptr (GError) err = nullptr;
  if (!soup_server_accept_iostream (self->server_, G_IO_STREAM (stream), local, remote, &err)) {
    g_warning ("cannot take an HTTP connection: %s", err ? err->message : "?");
    auto taken = self->connections_.find (key);
    if (taken != self->connections_.end ())
      self->forget (taken);
  }
  return TRUE;
}

SoupListener::Connection *
SoupListener::find (SoupServerMessage * msg)
{
  auto it = connections_.find (address_key (soup_server_message_get_remote_address (msg)));
  return it == connections_.end () ? nullptr : &it->second;
}

void
SoupListener::on_request_started (SoupServer *, SoupServerMessage * msg, gpointer data)
{
  /* emitted for the first message as soon as the connection is taken,
   * before the client sent anything, and for the next ones at their first
   * byte: what counts is the headers */
  g_signal_connect (msg, "got-headers", G_CALLBACK (on_got_headers), data);
}

void
SoupListener::on_got_headers (SoupServerMessage * msg, gpointer data)
{
  if (Connection *c = static_cast<SoupListener *> (data)->find (msg))
    c->in_request = true;
}

void
SoupListener::on_request_done (SoupServer *, SoupServerMessage * msg, gpointer data)
{
  /* libsoup either closes the connection now or waits for its next
   * request: from here an EOF is a client that left between requests */
  if (Connection *c = static_cast<SoupListener *> (data)->find (msg)) {
    c->in_request = false;
    c->waiting_since_us = g_get_monotonic_time ();
    castline_http_conn_stream_set_between_requests (c->stream);
  }
}

void
SoupListener::scan ()
{
  gint64 now = g_get_monotonic_time ();
  for (auto & [key, c] : connections_) {
    if (c.in_request || c.ended || now - c.waiting_since_us <= idle_timeout_us_
        || g_io_stream_is_closed (G_IO_STREAM (c.stream)))
      continue;
    /* libsoup reads an EOF and closes it (see soupconnstream.h) */
    castline_http_conn_stream_end (c.stream);
    c.ended = true;
  }
}

}  // namespace castline::launcher::http
