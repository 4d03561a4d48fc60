#include "http/router.h"

#include <algorithm>

namespace castline::launcher::http {

void
Router::add (std::string prefix, Handler handler)
{
  auto at = std::find_if (routes_.begin (), routes_.end (), [&prefix] (const auto & r) {
        return r.first.size () < prefix.size ();
      });
  routes_.emplace (at, std::move (prefix), std::move (handler));
}

void
Router::add_websocket (std::string prefix, WebSocketRoute route)
{
  websocket_.emplace_back (std::move (prefix), std::move (route));
}

const Handler *
Router::find (std::string_view path) const
{
  for (const auto & [prefix, handler] : routes_)
    if (path.compare (0, prefix.size (), prefix) == 0)
      return &handler;
  return nullptr;
}

}  // namespace castline::launcher::http
