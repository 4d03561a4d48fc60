#include "api/nodesroute.h"

#include "api/adminauth.h"
#include "common/http/replies.h"
#include "streams/streamjson.h"

namespace castline::launcher {

void
NodesRoute::handle (const http::Request & req, http::Response & res)
{
  const Config & c = manager_.config ();
  if (!require_admin (c, req, res))
    return;
  if (req.path != "/api/nodes") {
    http::reply_error (res, 404, "no such path");
    return;
  }
  if (!req.is ("GET") && !req.is ("HEAD")) {
    http::reply_error (res, 405, "use GET");
    return;
  }
  std::vector<NodeRecord> nodes;
  if (const ClusterNode *cluster = manager_.cluster ()) {
    nodes = cluster->nodes ();
  } else {
    NodeRecord self;
    self.id = c.node.id;
    self.public_url = c.node_url ();
    self.live_streams = (unsigned) manager_.live_count ();
    self.max_live_streams = c.max_live_streams;
    self.alive = true;
    nodes.push_back (self);
  }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_string (b, "self", c.node.id);
  add_string (b, "store", manager_.store ().kind ());
  json_builder_set_member_name (b, "nodes");
  json_builder_begin_array (b);
  for (const NodeRecord & n : nodes) {
    json_builder_begin_object (b);
    add_string (b, "id", n.id);
    add_string (b, "public_url", n.public_url);
    json_builder_set_member_name (b, "alive");
    json_builder_add_boolean_value (b, n.alive);
    json_builder_set_member_name (b, "live_streams");
    json_builder_add_int_value (b, n.live_streams);
    json_builder_set_member_name (b, "max_live_streams");
    json_builder_add_int_value (b, n.max_live_streams);
    json_builder_set_member_name (b, "lease_left_ms");
    if (manager_.cluster ())
      json_builder_add_int_value (b, n.lease_left_us / 1000);
    else
      json_builder_add_null_value (b);
    add_time (b, "started_at", n.started_at);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  http::reply_json (res, 200, to_text (b));
  res.headers.set ("Cache-Control", "no-store");
}

}  // namespace castline::launcher
