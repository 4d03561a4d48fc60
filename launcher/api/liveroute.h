/* castline-launcher: GET /live/{id}/{file} and /live/{id}/{rung}/{file}:
 * the HLS a stream writes into the data directory (api/hlsfiles), and the
 * viewers it counts: a player polling a playlist is one (the one its
 * heartbeats name when it says which with ?viewer=, as the watch page
 * does, so a player that does both counts once; else its address and
 * User-Agent). A stream's LL-HLS output is answered from its store
 * (hls/livehlsstore.h), blocking playlist requests parked there. On the
 * HTTP server's threads. */
#pragma once

#include "common/http/message.h"
#include "notify/viewercounter.h"
#include "streams/streammanager.h"

namespace castline::launcher {

class LiveRoute {
 public:
  LiveRoute (const StreamManager & manager, ViewerCounter & viewers)
      : manager_ (manager), viewers_ (viewers) {}

  void handle (const http::Request & req, http::Response & res);

 private:
  /* 302 to the node of the cluster that has the stream's files (true then) */
  bool redirect_to_files_node (const http::Request & req, http::Response & res,
      const std::string & id) const;

  const StreamManager & manager_;
  ViewerCounter & viewers_;
};

}  // namespace castline::launcher
