#include "rtmp/connectionio.h"

namespace castline::rtmp {

std::string
remote_address_of (GIOStream * connection)
{
  GSocket *socket = socket_of (connection);
  if (!socket)
    return "";
  g_autoptr (GSocketAddress) address = g_socket_get_remote_address (socket, nullptr);
  if (!address || !G_IS_INET_SOCKET_ADDRESS (address))
    return "";
  auto *inet = G_INET_SOCKET_ADDRESS (address);
  GInetAddress *ip = g_inet_socket_address_get_address (inet);
  g_autofree gchar *text = g_inet_address_to_string (ip);
  std::string port = std::to_string (g_inet_socket_address_get_port (inet));
  if (g_inet_address_get_family (ip) == G_SOCKET_FAMILY_IPV6)
    return std::string ("[") + text + "]:" + port;
  return std::string (text) + ":" + port;
}

GSocket *
socket_of (GIOStream * connection)
{
  if (G_IS_SOCKET_CONNECTION (connection))
    return g_socket_connection_get_socket (G_SOCKET_CONNECTION (connection));
  if (G_IS_TLS_CONNECTION (connection)) {
    GIOStream *base = nullptr;
    g_object_get (connection, "base-io-stream", &base, nullptr);
    GSocket *socket = base ? socket_of (base) : nullptr;
    /* the TLS connection holds its base stream, which holds the socket */
    g_clear_object (&base);
    return socket;
  }
  return nullptr;
}

void
close_now (GIOStream * connection)
{
  if (GSocket *socket = socket_of (connection))
    g_socket_close (socket, nullptr);
  else
    g_io_stream_close (connection, nullptr, nullptr);
}

bool
write_nonblocking (GIOStream * connection, std::string & pending, GError ** error)
{
  auto *out = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (connection));
  while (!pending.empty ()) {
    GError *err = nullptr;
    gssize n = g_pollable_output_stream_write_nonblocking (out, pending.data (), pending.size (),
        nullptr, &err);
    if (n < 0) {
      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        g_error_free (err);
        return true;
      }
      g_propagate_error (error, err);
      return false;
    }
    pending.erase (0, (size_t) n);
  }
  return true;
}

namespace {

/* One connection being sent its last answer and closed: lives as long as
 * one of its sources (the I/O one, the time limit) is attached, so that a
 * context that is dropped with it pending still closes the socket. */
struct Closer {
  GMainContext *context;         /* not a ref: the sources keep it in use */
  GIOStream *connection;
  std::string output;
  GSource *io = nullptr;
  GSource *timer = nullptr;
  int sources = 0;

  ~Closer ()
  {
    close_now (connection);
    g_object_unref (connection);
    if (io)
      g_source_unref (io);
    if (timer)
      g_source_unref (timer);
  }
};

void
release (gpointer data)
{
  auto *c = static_cast<Closer *> (data);
  if (--c->sources == 0)
    delete c;
}

void
attach (Closer * c, GSource *& slot, GSource * source, GSourceFunc func)
{
  if (slot) {
    g_source_destroy (slot);
    g_source_unref (slot);
  }
  slot = source;
  c->sources++;
  g_source_set_callback (source, func, c, release);
  g_source_attach (source, c->context);
}

/* From a callback of one of c's sources: c goes once it returns. */
void
finish (Closer * c)
{
  if (c->io)
    g_source_destroy (c->io);
  if (c->timer)
    g_source_destroy (c->timer);
}

gboolean
on_timeout (gpointer data)
{
  finish (static_cast<Closer *> (data));
  return G_SOURCE_REMOVE;
}

gboolean
on_readable (GObject *, gpointer data)
{
  auto *c = static_cast<Closer *> (data);
  char drop[4096];
  GError *err = nullptr;
  gssize n = g_pollable_input_stream_read_nonblocking (
      G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (c->connection)), drop, sizeof drop,
      nullptr, &err);
  bool would_block = n < 0 && g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  g_clear_error (&err);
  if (n > 0 || would_block)
    return G_SOURCE_CONTINUE;
  finish (c);                          /* the peer closed, or the socket failed */
  return G_SOURCE_REMOVE;
}

gboolean
on_writable (GObject *, gpointer data)
{
  auto *c = static_cast<Closer *> (data);
  if (!write_nonblocking (c->connection, c->output, nullptr)) {
    finish (c);
    return G_SOURCE_REMOVE;
  }
  if (!c->output.empty ())
    return G_SOURCE_CONTINUE;
  if (GSocket *socket = socket_of (c->connection))
    g_socket_shutdown (socket, FALSE, TRUE, nullptr);
  GSource *source = g_pollable_input_stream_create_source (
      G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (c->connection)), nullptr);
  attach (c, c->io, source, (GSourceFunc) (void (*) (void)) on_readable);
  return G_SOURCE_REMOVE;
}

}  // namespace

void
send_and_close (GMainContext * context, GIOStream * connection, std::string output,
    unsigned timeout_s)
{
  auto *c = new Closer ();
  c->context = context ? context : g_main_context_default ();
  c->connection = connection;
  c->output = std::move (output);
  attach (c, c->timer, g_timeout_source_new_seconds (timeout_s), on_timeout);
  /* the work starts on the context: nothing here may finish c */
  GSource *source = g_pollable_output_stream_create_source (
      G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (connection)), nullptr);
  attach (c, c->io, source, (GSourceFunc) (void (*) (void)) on_writable);
}

}  // namespace castline::rtmp
