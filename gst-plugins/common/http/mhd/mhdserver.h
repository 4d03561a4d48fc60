/* castline: the HTTP server under the routes, on libmicrohttpd
 * (Debian's 0.9.75).
 *
 * Threads: libmicrohttpd runs a pool of server threads (epoll). They parse
 * requests, enforce the limits (ServerLimits), read bodies and send
 * answers, files by sendfile. A route marked on_server_thread (HLS files,
 * the pages) is answered there, at once or later (a deferred answer, a
 * blocking playlist reload: the connection is suspended, and the answer
 * may come from any thread); any other is handed to the server's
 * context (the launcher's main context, which owns the streams): the
 * connection is suspended, the route runs on that context, and its answer
 * is queued and the connection resumed from there. No server thread ever
 * waits for that context.
 *
 * A request body over its route's max_body is refused with 413 before it
 * is read (from its Content-Length, or as it arrives when chunked);
 * `Expect: 100-continue` then gets no 100. A deferred answer (WHIP) keeps
 * its connection suspended until it is finished; a streamed one (SSE) is
 * written as the main context produces it, the connection suspended while
 * there is nothing to send. A WebSocket route's check runs on the main
 * context; its upgrade hands the socket to a SoupWebsocketConnection made
 * on that context, and the connection's slot is released when that
 * WebSocket closes. */
#pragma once

#include "common/http/router.h"

#include <glib.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace castline::http {

/* What a client may take of the server; every one has a refusal. */
struct ServerLimits {
  unsigned threads = 0;                /* server threads; 0: one per CPU, at least 2 */
  unsigned max_connections = 10000;    /* in all; past it, new ones are closed at once */
  unsigned max_connections_per_address = 5000;   /* likewise, per client address */
  unsigned timeout_s = 30;             /* a connection that sends or takes nothing for so long is closed */
  /* each connection's memory for its request line and headers; a request
   * that does not fit is answered 431 (414 for its line alone) */
  size_t header_bytes = 32 * 1024;
};

/* What the server refused since it started, by reason: an HTTP status it
 * answered ("400", "403", "413", "414", "421", "431", "503") or a
 * connection it closed ("connection_limit", "timeout"). */
using RefusalCounts = std::vector<std::pair<std::string, guint64>>;

class MhdHttpServer {
 public:
  /* context: where the routes that are not on_server_thread run, and the
   * WebSockets live (nullptr: the default main context) */
  MhdHttpServer (const Router & router, ServerLimits limits, GMainContext * context = nullptr);
  /* Stops the threads and closes every connection; requests waiting for
   * the context are answered 503. Any thread but the server's. */
  ~MhdHttpServer ();
  MhdHttpServer (const MhdHttpServer &) = delete;
  MhdHttpServer & operator= (const MhdHttpServer &) = delete;

  /* Listens on host (an IP address, or "localhost") and port (0: any). */
  bool listen (const std::string & host, int port, std::string & error);
  /* the port listened on (the one picked for 0) */
  int port () const { return port_; }

  /* Any thread. */
  RefusalCounts refusals () const;
  /* open connections now. Any thread. */
  unsigned connections () const;

  struct State;

 private:
  std::shared_ptr<State> state_;
  int port_ = 0;
};

}  // namespace castline::http
