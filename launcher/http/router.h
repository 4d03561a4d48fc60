/* castline-launcher: which route answers a path. A route is taken by the
 * longest prefix of the request's path it was added with (a plain string
 * prefix, as libsoup's SoupPathMap matches: "/api/streams" takes
 * "/api/streams/x" and "/api/streamsx"); "/" takes what no other does.
 * WebSocket routes are listed apart: the server does their upgrade.
 * Built once at start, read-only after. */
#pragma once

#include "http/message.h"
#include "http/websocket.h"

#include <string>
#include <string_view>
#include <vector>

namespace castline::launcher::http {

/* A route that upgrades to a WebSocket. */
struct WebSocketRoute {
  /* before the upgrade: answer to refuse it (400, 401...), leave the
   * response unanswered to let it happen */
  Handler check;
  /* after it: the connection, open; the route owns closing it */
  std::function<void (const Request &, WebSocket *)> open;
};

class Router {
 public:
  void add (std::string prefix, Handler handler);
  void add_websocket (std::string prefix, WebSocketRoute route);

  /* the handler for path, or nullptr when no prefix matches */
  const Handler *find (std::string_view path) const;

  const std::vector<std::pair<std::string, WebSocketRoute>> & websocket_routes () const
  {
    return websocket_;
  }

 private:
  std::vector<std::pair<std::string, Handler>> routes_;   /* longest prefix first */
  std::vector<std::pair<std::string, WebSocketRoute>> websocket_;
};

}  // namespace castline::launcher::http
