/* castline-launcher: the GIOStream SoupListener hands libsoup for each
 * accepted TCP connection, so that libsoup 3.2 can keep connections
 * alive without leaking them.
 *
 * libsoup 3.2.3 (Debian 12) reads the next request of a keep-alive
 * connection with a message that has no completion callback until its
 * first byte comes in. When the client closes the connection between two
 * requests (what every browser and HLS player does sooner or later), that
 * read ends in EOF, the message is finished with nobody to disconnect the
 * connection, and the connection, its descriptor and its memory stay for
 * good (fixed upstream in 3.3: "server: do not leak idle connections
 * closed by the client").
 *
 * This stream is the socket connection with one difference: while
 * "between requests" (set by the listener when a request finished, and at
 * accept), an EOF is read as a short line that is not HTTP. libsoup then
 * has a request, rejects it (400), and disconnects the connection through
 * its ordinary path: nothing is left. The same happens when the listener
 * ends an idle connection: it shuts the socket down for reading, and
 * libsoup, waiting for a request, reads that EOF.
 *
 * Caveat: bytes already buffered by libsoup before a request finished
 * (pipelining) do not clear "between requests"; should such a client
 * vanish mid-request, the line is read as part of that request, which
 * then fails or, for a body short of at most that line's length, is
 * answered to nobody. Browsers do not pipeline. Main context. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CASTLINE_TYPE_HTTP_CONN_STREAM (castline_http_conn_stream_get_type ())
G_DECLARE_FINAL_TYPE (CastlineHttpConnStream, castline_http_conn_stream, CASTLINE,
    HTTP_CONN_STREAM, GIOStream)

/* takes a reference on @connection */
CastlineHttpConnStream *castline_http_conn_stream_new (GSocketConnection * connection);

/* The connection is between two requests (or has had none yet): an EOF
 * read now becomes the line libsoup rejects. Reading any byte clears it. */
void castline_http_conn_stream_set_between_requests (CastlineHttpConnStream * self);
gboolean castline_http_conn_stream_is_between_requests (CastlineHttpConnStream * self);

/* Ends the connection as if the client had closed it: shuts the socket
 * down for reading, which wakes libsoup's wait for a request. */
void castline_http_conn_stream_end (CastlineHttpConnStream * self);

/* the wrapped connection (no reference) */
GSocketConnection *castline_http_conn_stream_get_connection (CastlineHttpConnStream * self);

G_END_DECLS
