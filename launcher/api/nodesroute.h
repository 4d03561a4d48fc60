/* castline-launcher: GET /api/nodes (admin), the nodes of the cluster as
 * this node last saw them: {"self", "store", "nodes": [{"id",
 * "public_url", "alive", "live_streams", "max_live_streams",
 * "lease_left_ms", "started_at"}]}; one node, itself, on the embedded
 * default. */
#pragma once

#include "common/http/message.h"
#include "streams/streammanager.h"

namespace castline::launcher {

class NodesRoute {
 public:
  explicit NodesRoute (const StreamManager & manager) : manager_ (manager) {}

  void handle (const http::Request & req, http::Response & res);

 private:
  const StreamManager & manager_;
};

}  // namespace castline::launcher
