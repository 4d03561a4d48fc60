/* castline-launcher: the HTTP server under the routes, on libsoup 3.2.
 *
 * The only place where libsoup's server types meet the routes: every
 * request is turned into an http::Request, the Router's route for its
 * path is called, and the http::Response it filled is sent; a route that
 * defers its answer (WHIP) or streams it (Server-Sent Events) gets a
 * Transport that pauses the message or writes its chunks. WebSocket
 * routes get libsoup's upgrade: their check runs as an early handler
 * (before the body), their open with the connection.
 *
 * Connections are accepted by SoupListener (around libsoup 3.2.3's
 * leaks, with keep-alive and idle time-outs; see souplistener.h).
 * Ranges are the routes' own business: a Range header is dropped from the
 * request before the answer goes out, so libsoup never applies it itself.
 * Main context. */
#pragma once

#include "http/router.h"

#include <libsoup/soup.h>

#include <memory>
#include <string>

namespace castline::launcher::http {

class SoupListener;

/* Installs router's routes on server: one "/" handler that dispatches
 * through it, and an early handler and a WebSocket handler per WebSocket
 * route. The router must outlive the server's use of it. */
void attach_router (SoupServer * server, const Router & router);

class SoupHttpServer {
 public:
  /* request_timeout_s: how long a connection may wait for a request */
  SoupHttpServer (const Router & router, guint request_timeout_s);
  ~SoupHttpServer ();
  SoupHttpServer (const SoupHttpServer &) = delete;
  SoupHttpServer & operator= (const SoupHttpServer &) = delete;

  /* Listens on host (an IP address, or "localhost") and port (0: any). */
  bool listen (const std::string & host, int port, std::string & error);
  /* the port listened on (the one picked for 0) */
  int port () const;

 private:
  SoupServer *server_ = nullptr;
  std::unique_ptr<SoupListener> listener_;
};

}  // namespace castline::launcher::http
