/* castline-launcher: the listening socket of the HTTP server, around
 * libsoup 3.2's connection leaks, with HTTP keep-alive.
 *
 * libsoup 3.2 (Debian 12 has 3.2.3) leaks on every connection it accepts
 * itself: a GSocket per connection (fixed upstream in 3.4, "soup-listener:
 * Plug a leak"). So this class accepts the connections itself and hands
 * each to the server (soup_server_accept_iostream) wrapped in a
 * CastlineHttpConnStream, which takes care of libsoup's other leak, the
 * keep-alive connection a client closes between two requests (see
 * soupconnstream.h). libsoup keeps a connection alive only while the
 * server has a listener of its own: it gets one on an abstract Unix socket
 * with a random name, which nothing connects to.
 *
 * A connection is ended (as if the client had closed it) when it waits
 * for a request longer than idle_timeout_s: a client that connected and
 * sent nothing, an idle keep-alive connection, or one that sends its
 * headers a byte at a time. Once a request's headers are in, the
 * connection is libsoup's until the response is done (a WebSocket or an
 * event stream may last for hours). Main context. */
#pragma once

#include "http/soup/soupconnstream.h"

#include <libsoup/soup.h>

#include <map>
#include <string>

namespace castline::launcher::http {

class SoupListener {
 public:
  SoupListener (SoupServer * server, guint idle_timeout_s, guint scan_interval_ms = 2000);
  ~SoupListener ();
  SoupListener (const SoupListener &) = delete;
  SoupListener & operator= (const SoupListener &) = delete;

  /* Listens on host (an IP address, or "localhost") and port (0: any). */
  bool listen (const std::string & host, int port, std::string & error);
  /* the port listened on */
  int port () const { return port_; }


 private:
  struct Connection {
    CastlineHttpConnStream *stream;  /* weak: libsoup owns it */
    gint64 waiting_since_us;         /* monotonic; when its last request ended */
    bool in_request = false;         /* headers in, response not done */
    bool ended = false;              /* ended by scan () */
  };

  static gboolean on_incoming (GSocketService *, GSocketConnection * connection, GObject *,
      gpointer self);
  static void on_request_started (SoupServer *, SoupServerMessage * msg, gpointer self);
  static void on_got_headers (SoupServerMessage * msg, gpointer self);
  static void on_request_done (SoupServer *, SoupServerMessage * msg, gpointer self);
  Connection *find (SoupServerMessage * msg);
  static void on_stream_gone (gpointer self, GObject * stream);
  /* ends the connections that waited for a request too long (the timer's) */
  void scan ();
  void forget (std::map<std::string, Connection>::iterator it);

  SoupServer *server_;
  GSocketService *service_ = nullptr;
  gint64 idle_timeout_us_;
  int port_ = 0;
  guint timer_ = 0;
  gulong handlers_[3] = { 0, 0, 0 };
  /* by remote "address:port", unique among open TCP connections */
  std::map<std::string, Connection> connections_;
};

}  // namespace castline::launcher::http
