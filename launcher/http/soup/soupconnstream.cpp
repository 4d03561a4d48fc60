#include "http/soup/soupconnstream.h"

#include <sys/socket.h>

#include <cstring>

namespace {

/* not a request line (no spaces): libsoup answers 400 and disconnects */
constexpr char kEndLine[] = "CASTLINE-CONNECTION-END\r\n\r\n";
constexpr gsize kEndLineSize = sizeof (kEndLine) - 1;

}  // namespace

/* ---- the output side: the socket's output, or nowhere once the input
 * is ending ---- */

#define CASTLINE_TYPE_HTTP_CONN_OUTPUT (castline_http_conn_output_get_type ())
G_DECLARE_FINAL_TYPE (CastlineHttpConnOutput, castline_http_conn_output, CASTLINE,
    HTTP_CONN_OUTPUT, GOutputStream)

struct _CastlineHttpConnOutput {
  GOutputStream parent;
  GOutputStream *base;             /* the socket connection's output (ref) */
  gboolean discard;
};

static void castline_http_conn_output_pollable_init (GPollableOutputStreamInterface * iface);

G_DEFINE_TYPE_WITH_CODE (CastlineHttpConnOutput, castline_http_conn_output,
    G_TYPE_OUTPUT_STREAM, G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_OUTPUT_STREAM,
        castline_http_conn_output_pollable_init))

static gssize
conn_output_write (GOutputStream * stream, const void *buffer, gsize count,
    GCancellable * cancellable, GError ** error)
{
  auto *self = CASTLINE_HTTP_CONN_OUTPUT (stream);
  if (self->discard)
    return (gssize) count;
  return g_output_stream_write (self->base, buffer, count, cancellable, error);
}

static gboolean
conn_output_flush (GOutputStream * stream, GCancellable * cancellable, GError ** error)
{
  auto *self = CASTLINE_HTTP_CONN_OUTPUT (stream);
  return self->discard || g_output_stream_flush (self->base, cancellable, error);
}

static gboolean
conn_output_close (GOutputStream *, GCancellable *, GError **)
{
  return TRUE;                     /* the connection is closed by the GIOStream */
}

static gboolean
conn_output_can_poll (GPollableOutputStream *)
{
  return TRUE;
}

static gboolean
conn_output_is_writable (GPollableOutputStream * stream)
{
  auto *self = CASTLINE_HTTP_CONN_OUTPUT (stream);
  return self->discard
      || g_pollable_output_stream_is_writable (G_POLLABLE_OUTPUT_STREAM (self->base));
}

static GSource *
conn_output_create_source (GPollableOutputStream * stream, GCancellable * cancellable)
{
  auto *self = CASTLINE_HTTP_CONN_OUTPUT (stream);
  if (self->discard) {
    GSource *ready = g_pollable_source_new_full (stream, nullptr, cancellable);
    g_source_set_ready_time (ready, 0);
    return ready;
  }
  g_autoptr (GSource) base = g_pollable_output_stream_create_source (
      G_POLLABLE_OUTPUT_STREAM (self->base), nullptr);
  return g_pollable_source_new_full (stream, base, cancellable);
}

static gssize
conn_output_write_nonblocking (GPollableOutputStream * stream, const void *buffer, gsize count,
    GError ** error)
{
  auto *self = CASTLINE_HTTP_CONN_OUTPUT (stream);
  if (self->discard)
    return (gssize) count;
  return g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (self->base),
      buffer, count, nullptr, error);
}

static void
castline_http_conn_output_pollable_init (GPollableOutputStreamInterface * iface)
{
  iface->can_poll = conn_output_can_poll;
  iface->is_writable = conn_output_is_writable;
  iface->create_source = conn_output_create_source;
  iface->write_nonblocking = conn_output_write_nonblocking;
}

static void
castline_http_conn_output_finalize (GObject * object)
{
  g_object_unref (CASTLINE_HTTP_CONN_OUTPUT (object)->base);
  G_OBJECT_CLASS (castline_http_conn_output_parent_class)->finalize (object);
}

static void
castline_http_conn_output_class_init (CastlineHttpConnOutputClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = castline_http_conn_output_finalize;
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = conn_output_write;
  G_OUTPUT_STREAM_CLASS (klass)->flush = conn_output_flush;
  G_OUTPUT_STREAM_CLASS (klass)->close_fn = conn_output_close;
}

static void
castline_http_conn_output_init (CastlineHttpConnOutput *)
{
}

/* ---- the input side: the socket's input, with EOF between requests read
 * as kEndLine ---- */

#define CASTLINE_TYPE_HTTP_CONN_INPUT (castline_http_conn_input_get_type ())
G_DECLARE_FINAL_TYPE (CastlineHttpConnInput, castline_http_conn_input, CASTLINE,
    HTTP_CONN_INPUT, GInputStream)

struct _CastlineHttpConnInput {
  GInputStream parent;
  GInputStream *base;              /* the socket connection's input (ref) */
  CastlineHttpConnOutput *output;  /* the stream's output (ref): discards once ending */
  gboolean between_requests;
  gsize end_sent;                  /* bytes of kEndLine read so far */
  gboolean ending;                 /* EOF seen between requests */
};

static void castline_http_conn_input_pollable_init (GPollableInputStreamInterface * iface);

G_DEFINE_TYPE_WITH_CODE (CastlineHttpConnInput, castline_http_conn_input, G_TYPE_INPUT_STREAM,
    G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM, castline_http_conn_input_pollable_init))

/* what a read of the base that returned @n becomes */
static gssize
conn_input_filter (CastlineHttpConnInput * self, gssize n, void *buffer, gsize count)
{
  if (n > 0) {
    self->between_requests = FALSE;
    return n;
  }
  if (n == 0 && self->between_requests && !self->ending) {
    self->ending = TRUE;
    /* libsoup's answer to the line goes nowhere: the client sees a close */
    self->output->discard = TRUE;
  }
  if (!self->ending)
    return n;
  gsize left = kEndLineSize - self->end_sent;
  gsize take = MIN (left, count);
  memcpy (buffer, kEndLine + self->end_sent, take);
  self->end_sent += take;
  return (gssize) take;
}

/* the rest of kEndLine, if it is being read (else -1: read the base) */
static gssize
conn_input_pending (CastlineHttpConnInput * self, void *buffer, gsize count)
{
  if (!self->ending)
    return -1;
  return conn_input_filter (self, 0, buffer, count);
}

static gssize
conn_input_read (GInputStream * stream, void *buffer, gsize count, GCancellable * cancellable,
    GError ** error)
{
  auto *self = CASTLINE_HTTP_CONN_INPUT (stream);
  gssize pending = conn_input_pending (self, buffer, count);
  if (pending >= 0)
    return pending;
  return conn_input_filter (self, g_input_stream_read (self->base, buffer, count, cancellable,
          error), buffer, count);
}

static gboolean
conn_input_close (GInputStream *, GCancellable *, GError **)
{
  return TRUE;                     /* the connection is closed by the GIOStream */
}

static gboolean
conn_input_can_poll (GPollableInputStream *)
{
  return TRUE;
}

static gboolean
conn_input_is_readable (GPollableInputStream * stream)
{
  auto *self = CASTLINE_HTTP_CONN_INPUT (stream);
  return (self->ending && self->end_sent < kEndLineSize)
      || g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (self->base));
}

static GSource *
conn_input_create_source (GPollableInputStream * stream, GCancellable * cancellable)
{
  auto *self = CASTLINE_HTTP_CONN_INPUT (stream);
  /* kEndLine is only pending after an EOF, which keeps the socket readable */
  g_autoptr (GSource) base = g_pollable_input_stream_create_source (
      G_POLLABLE_INPUT_STREAM (self->base), nullptr);
  return g_pollable_source_new_full (stream, base, cancellable);
}

static gssize
conn_input_read_nonblocking (GPollableInputStream * stream, void *buffer, gsize count,
    GError ** error)
{
  auto *self = CASTLINE_HTTP_CONN_INPUT (stream);
  gssize pending = conn_input_pending (self, buffer, count);
  if (pending >= 0)
    return pending;
  return conn_input_filter (self, g_pollable_input_stream_read_nonblocking (
          G_POLLABLE_INPUT_STREAM (self->base), buffer, count, nullptr, error), buffer, count);
}

static void
castline_http_conn_input_pollable_init (GPollableInputStreamInterface * iface)
{
  iface->can_poll = conn_input_can_poll;
  iface->is_readable = conn_input_is_readable;
  iface->create_source = conn_input_create_source;
  iface->read_nonblocking = conn_input_read_nonblocking;
}

static void
castline_http_conn_input_finalize (GObject * object)
{
  g_object_unref (CASTLINE_HTTP_CONN_INPUT (object)->base);
  g_clear_object (&CASTLINE_HTTP_CONN_INPUT (object)->output);
  G_OBJECT_CLASS (castline_http_conn_input_parent_class)->finalize (object);
}

static void
castline_http_conn_input_class_init (CastlineHttpConnInputClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = castline_http_conn_input_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = conn_input_read;
  G_INPUT_STREAM_CLASS (klass)->close_fn = conn_input_close;
}

static void
castline_http_conn_input_init (CastlineHttpConnInput * self)
{
  self->between_requests = TRUE;   /* nothing read yet */
}

/* ---- the stream ---- */

struct _CastlineHttpConnStream {
  GIOStream parent;
  GSocketConnection *connection;   /* ref */
  CastlineHttpConnInput *input;    /* ref */
  CastlineHttpConnOutput *output;  /* ref */
};

enum { PROP_0, PROP_BASE_IOSTREAM };

G_DEFINE_TYPE (CastlineHttpConnStream, castline_http_conn_stream, G_TYPE_IO_STREAM)

static GInputStream *
conn_stream_get_input (GIOStream * stream)
{
  return G_INPUT_STREAM (CASTLINE_HTTP_CONN_STREAM (stream)->input);
}

static GOutputStream *
conn_stream_get_output (GIOStream * stream)
{
  return G_OUTPUT_STREAM (CASTLINE_HTTP_CONN_STREAM (stream)->output);
}

static gboolean
conn_stream_close (GIOStream * stream, GCancellable * cancellable, GError ** error)
{
  return g_io_stream_close (G_IO_STREAM (CASTLINE_HTTP_CONN_STREAM (stream)->connection),
      cancellable, error);
}

static void
conn_stream_get_property (GObject * object, guint id, GValue * value, GParamSpec * pspec)
{
  if (id == PROP_BASE_IOSTREAM)
    g_value_set_object (value, CASTLINE_HTTP_CONN_STREAM (object)->connection);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
castline_http_conn_stream_finalize (GObject * object)
{
  auto *self = CASTLINE_HTTP_CONN_STREAM (object);
  g_object_unref (self->input);
  g_object_unref (self->output);
  g_object_unref (self->connection);
  G_OBJECT_CLASS (castline_http_conn_stream_parent_class)->finalize (object);
}

static void
castline_http_conn_stream_class_init (CastlineHttpConnStreamClass * klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->finalize = castline_http_conn_stream_finalize;
  object_class->get_property = conn_stream_get_property;
  /* what code walking down to the socket looks for (as in GTlsConnection) */
  g_object_class_install_property (object_class, PROP_BASE_IOSTREAM,
      g_param_spec_object ("base-io-stream", "Base IO stream",
          "The socket connection this stream reads and writes", G_TYPE_IO_STREAM,
          (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
  GIOStreamClass *io_class = G_IO_STREAM_CLASS (klass);
  io_class->get_input_stream = conn_stream_get_input;
  io_class->get_output_stream = conn_stream_get_output;
  io_class->close_fn = conn_stream_close;
}

static void
castline_http_conn_stream_init (CastlineHttpConnStream *)
{
}

CastlineHttpConnStream *
castline_http_conn_stream_new (GSocketConnection * connection)
{
  auto *self = CASTLINE_HTTP_CONN_STREAM (g_object_new (CASTLINE_TYPE_HTTP_CONN_STREAM,
          nullptr));
  self->connection = G_SOCKET_CONNECTION (g_object_ref (connection));
  self->input = CASTLINE_HTTP_CONN_INPUT (g_object_new (CASTLINE_TYPE_HTTP_CONN_INPUT, nullptr));
  self->input->base = G_INPUT_STREAM (g_object_ref (
          g_io_stream_get_input_stream (G_IO_STREAM (connection))));
  self->output = CASTLINE_HTTP_CONN_OUTPUT (g_object_new (CASTLINE_TYPE_HTTP_CONN_OUTPUT,
          nullptr));
  self->output->base = G_OUTPUT_STREAM (g_object_ref (
          g_io_stream_get_output_stream (G_IO_STREAM (connection))));
  self->input->output = CASTLINE_HTTP_CONN_OUTPUT (g_object_ref (self->output));
  return self;
}

void
castline_http_conn_stream_set_between_requests (CastlineHttpConnStream * self)
{
  self->input->between_requests = TRUE;
}

gboolean
castline_http_conn_stream_is_between_requests (CastlineHttpConnStream * self)
{
  return self->input->between_requests;
}

void
castline_http_conn_stream_end (CastlineHttpConnStream * self)
{
  GSocket *socket = g_socket_connection_get_socket (self->connection);
  if (!g_socket_is_closed (socket))
    shutdown (g_socket_get_fd (socket), SHUT_RD);
}

GSocketConnection *
castline_http_conn_stream_get_connection (CastlineHttpConnStream * self)
{
  return self->connection;
}
