#include "common/http/router.h"

#include <algorithm>

namespace castline::http {

namespace {

void
insert_by_length (std::vector<Route> & routes, Route route)
{
  auto at = std::find_if (routes.begin (), routes.end (), [&route] (const Route & r) {
        return r.prefix.size () < route.prefix.size ();
      });
  routes.insert (at, std::move (route));
}

}  // namespace

void
Router::add (std::string prefix, Handler handler, RouteOptions options)
{
  insert_by_length (routes_, Route { std::move (prefix), std::move (handler), options, {} });
}

void
Router::add_websocket (std::string prefix, WebSocketRoute route)
{
  insert_by_length (routes_, Route { std::move (prefix), {}, {}, std::move (route) });
}

const Route *
Router::find (std::string_view path) const
{
  for (const Route & r : routes_)
    if (path.compare (0, r.prefix.size (), r.prefix) == 0)
      return &r;
  return nullptr;
}

}  // namespace castline::http
