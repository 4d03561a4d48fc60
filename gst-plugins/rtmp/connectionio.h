/* castline rtmp: the GIO plumbing the listener and rtmpserversrc share for
 * a publisher's connection (a GSocketConnection, or a GTlsConnection over
 * one): its address, its socket, non-blocking writes, and a bounded
 * goodbye. */
#pragma once

#include <gio/gio.h>

#include <string>

namespace castline::rtmp {

/* "203.0.113.7:51234" or "[2001:db8::1]:51234" of the peer; "" when the
 * connection has no IP peer (a socket pair in tests). */
std::string remote_address_of (GIOStream * connection);

/* The socket under the connection (through a TLS connection), or nullptr.
 * Transfer none. */
GSocket *socket_of (GIOStream * connection);

/* Closes the connection's socket at once, without blocking (no TLS
 * close_notify): for connections given up on. */
void close_now (GIOStream * connection);

/* Writes the start of `pending` that the connection takes without
 * blocking, and erases what was written. False on an error (*error set). */
bool write_nonblocking (GIOStream * connection, std::string & pending, GError ** error);

/* Sends `output` (an answer: an onStatus error) without blocking on
 * `context`, then shuts the sending side and waits for the peer to close,
 * reading and dropping what it still sends, so that the answer is not lost
 * to a reset; at most timeout_s in all, then the socket is closed. Takes
 * the connection's reference. */
void send_and_close (GMainContext * context, GIOStream * connection, std::string output,
    unsigned timeout_s = 3);

}  // namespace castline::rtmp
