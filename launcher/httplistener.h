/* castline-launcher: the listening socket of the HTTP server, around
 * libsoup 3.2's connection leaks.
 *
 * libsoup 3.2 (Debian 12 has 3.2.3) leaks on every connection it accepts
 * itself: a GSocket per connection (fixed upstream in 3.4, "soup-listener:
 * Plug a leak"), and a whole connection with its descriptor, in CLOSE-WAIT
 * for good, when a client closes a keep-alive connection between two
 * requests (fixed in 3.3, "server: do not leak idle connections closed by
 * the client"). Every HLS player that went away would cost the daemon
 * memory and a descriptor. So this class accepts the connections itself
 * and hands each to the server (soup_server_accept_iostream), which then
 * closes it after its response: every answer says `Connection: close`.
 * No connection is left idle between requests, so none can leak there.
 *
 * What remains is a client that connects and sends nothing: libsoup waits
 * for its request for good, and leaks the connection if the client goes.
 * Every few seconds the listener closes the socket of each connection
 * whose request headers have not come in idle_timeout_s (a client that
 * sends nothing, or its headers a byte at a time), or whose peer has
 * closed before sending them (POLLRDHUP). libsoup then fails its wait on the closed socket
 * (GSocket refuses to read once closed, so a reused descriptor number is
 * never read through it); the descriptor is freed, a little of libsoup's
 * memory is not. Once the headers are in, the connection is libsoup's (a
 * WebSocket or an event stream may last for hours). Main context. */
#pragma once

#include <libsoup/soup.h>

#include <map>
#include <string>

namespace castline::launcher {

class HttpListener {
 public:
  HttpListener (SoupServer * server, guint idle_timeout_s, guint scan_interval_ms = 2000);
  ~HttpListener ();
  HttpListener (const HttpListener &) = delete;
  HttpListener & operator= (const HttpListener &) = delete;

  /* Listens on host (an IP address, or "localhost") and port (0: any). */
  bool listen (const std::string & host, int port, std::string & error);
  /* the port listened on */
  int port () const { return port_; }

  /* connections accepted that have not sent a request's headers yet */
  size_t waiting () const { return waiting_.size (); }
  /* their sockets closed so far (peer gone, or no request in time) */
  guint64 reaped () const { return reaped_; }
  /* One scan, as the timer does it. */
  void scan ();

 private:
  struct Waiting {
    GSocketConnection *connection;   /* ref */
    gint64 accepted_us;              /* monotonic */
    bool peer_gone = false;          /* seen closed by the peer at a scan */
  };

  static gboolean on_incoming (GSocketService *, GSocketConnection * connection, GObject *,
      gpointer self);
  static void on_request_started (SoupServer *, SoupServerMessage * msg, gpointer self);
  static void on_got_headers (SoupServerMessage * msg, gpointer self);

  SoupServer *server_;
  GSocketService *service_ = nullptr;
  gint64 idle_timeout_us_;
  int port_ = 0;
  guint timer_ = 0;
  gulong started_handler_ = 0;
  /* by remote "address:port", unique among open TCP connections */
  std::map<std::string, Waiting> waiting_;
  guint64 reaped_ = 0;
};

}  // namespace castline::launcher
