/* castline: which route answers a path, and how. A route is taken
 * by the longest prefix of the request's path it was added with (a plain
 * string prefix, as libsoup's SoupPathMap matches: "/api/streams" takes
 * "/api/streams/x" and "/api/streamsx"); "/" takes what no other does.
 * Each route says on which thread it runs and how big a body it reads.
 * Built once at start, read-only after. */
#pragma once

#include "common/http/message.h"
#include "common/http/websocket.h"

#include <string>
#include <string_view>
#include <vector>

namespace castline::http {

/* How a route is called. */
struct RouteOptions {
  /* false: on the main context, which owns the streams (the server's
   * thread hands the request over and goes on serving others); true: on
   * the server's thread, for routes that touch only thread-safe state
   * (files, the viewer counter) */
  bool on_server_thread = false;
  /* the largest request body the route reads; a bigger one is refused
   * with 413 before it is read */
  size_t max_body = 64 * 1024;
};

/* A route that upgrades to a WebSocket. Both run on the main context. */
struct WebSocketRoute {
  /* before the upgrade: answer to refuse it (400, 401...), leave the
   * response unanswered to let it happen */
  Handler check;
  /* after it: the connection, open; the route owns closing it */
  std::function<void (const Request &, WebSocket *)> open;
};

struct Route {
  std::string prefix;
  Handler handler;                 /* empty for a WebSocket route */
  RouteOptions options;
  WebSocketRoute websocket;        /* set for a WebSocket route */

  bool is_websocket () const { return static_cast<bool> (websocket.open); }
};

class Router {
 public:
  void add (std::string prefix, Handler handler, RouteOptions options = {});
  void add_websocket (std::string prefix, WebSocketRoute route);

  /* the route for path, or nullptr when no prefix matches */
  const Route *find (std::string_view path) const;
  const std::vector<Route> & routes () const { return routes_; }

 private:
  std::vector<Route> routes_;      /* longest prefix first */
};

}  // namespace castline::http
