#include "api/publicroutes.h"

#include "common/http/replies.h"

#include <json-glib/json-glib.h>

namespace castline::launcher {

namespace {

constexpr gsize kMaxHeartbeat = 1024;

/* {"viewer": "<id>"}: the id, or nullptr; owned by parser */
const char *
viewer_of (JsonParser * parser, const http::Bytes & body)
{
  std::string_view text = body.view ();
  JsonNode *root = !text.empty ()
      && json_parser_load_from_data (parser, text.data (), (gssize) text.size (), nullptr)
      ? json_parser_get_root (parser) : nullptr;
  JsonNode *v = root && JSON_NODE_HOLDS_OBJECT (root)
      ? json_object_get_member (json_node_get_object (root), "viewer") : nullptr;
  return v && JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_STRING
      ? json_node_get_string (v) : nullptr;
}

}  // namespace

bool
PublicStreamRoutes::cors (const http::Request & req, http::Response & res,
    const char *methods) const
{
  const std::string & origin = manager_.config ().cors_origin;
  if (!origin.empty ())
    res.headers.set ("Access-Control-Allow-Origin", origin);
  if (!req.is ("OPTIONS"))
    return false;
  res.headers.set ("Access-Control-Allow-Methods", methods);
  res.headers.set ("Access-Control-Allow-Headers", "Content-Type");
  res.headers.set ("Access-Control-Max-Age", "86400");
  res.status = 204;
  return true;
}

void
PublicStreamRoutes::heartbeat (const http::Request & req, http::Response & res,
    const std::string & id)
{
  if (cors (req, res, "POST, OPTIONS"))
    return;
  if (!req.is ("POST")) {
    res.headers.set ("Allow", "POST, OPTIONS");
    http::reply_error (res, 405, "use POST");
    return;
  }
  if (!valid_stream_id (id)) {
    http::reply_error (res, 400, "not a stream id");
    return;
  }
  if (req.body.size () > kMaxHeartbeat) {
    http::reply_error (res, 413, "the body is over 1 KiB");
    return;
  }
  if (!manager_.get (id)) {
    http::reply_error (res, 404, "no stream " + http::excerpt (id));
    return;
  }
  g_autoptr (JsonParser) parser = json_parser_new ();
  const char *viewer = viewer_of (parser, req.body);
  if (!viewer || !ViewerCounter::valid_viewer_id (viewer)) {
    http::reply_error (res, 400, "send {\"viewer\": \"<1 to 64 of A-Z a-z 0-9 _ ->\"}");
    return;
  }
  viewers_.heartbeat (id, viewer, g_get_monotonic_time ());
  res.status = 204;
  res.headers.set ("Cache-Control", "no-store");
}

void
PublicStreamRoutes::status (const http::Request & req, http::Response & res,
    const std::string & id)
{
  if (cors (req, res, "GET, HEAD, OPTIONS"))
    return;
  if (!req.is ("GET") && !req.is ("HEAD")) {
    res.headers.set ("Allow", "GET, HEAD, OPTIONS");
    http::reply_error (res, 405, "use GET");
    return;
  }
  auto r = valid_stream_id (id) ? manager_.get (id) : std::nullopt;
  if (!r) {
    http::reply_error (res, 404, "no stream " + http::excerpt (id));
    return;
  }
  http::reply_json (res, 200, views_.status_json (*r));
}

}  // namespace castline::launcher
