/* castline-launcher: the running daemon's parts, built once and wired
 * together: what listens to the streams (webhooks, viewers, event streams,
 * metrics), the routes, and the HTTP server under them. main.cpp makes
 * the StreamManager (which --check and --print-pipeline need alone), then
 * this. Data flows one way: a request reaches a route, a route asks the
 * manager, the manager's streams report back through its listeners.
 * Main context. */
#pragma once

#include "api/eventsroute.h"
#include "api/liveroute.h"
#include "api/metricsroute.h"
#include "api/nodesroute.h"
#include "api/publicroutes.h"
#include "api/streamsapi.h"
#include "api/streamviews.h"
#include "api/webpages.h"
#include "common/http/router.h"
#include "common/http/mhd/mhdserver.h"
#include "ingest/rtmp/rtmpserver.h"
#include "ingest/srt/srtserver.h"
#include "ingest/websocket/websocketroute.h"
#include "ingest/whip/whiproutes.h"
#include "notify/eventstream.h"
#include "notify/metrics.h"
#include "notify/viewercounter.h"
#include "notify/webhooks.h"
#include "streams/streammanager.h"
#include "whep/wheproutes.h"

#include <functional>
#include <memory>
#include <string>

namespace castline::launcher {

class Daemon {
 public:
  explicit Daemon (StreamManager & manager);
  ~Daemon ();
  Daemon (const Daemon &) = delete;
  Daemon & operator= (const Daemon &) = delete;

  /* Listens on the configured host and port, and the RTMP server and the
   * SRT port on their own (unless off, or their elements are missing:
   * then a line says so and it stays off; a line says so of WHEP too). */
  bool listen (std::string & error);
  /* the port listened on (the configured one, or the one picked for 0) */
  int port () const { return server_->port (); }

  /* SIGINT/SIGTERM: the SRT port closed, every live stream finalized, then the webhooks they
   * caused sent (for a few seconds at most); then done. */
  void shutdown (std::function<void ()> done);

 private:
  bool listen_rtmp (std::string & error);
  bool listen_srt (std::string & error);
  /* what this node has of each live stream, for the other nodes */
  std::vector<StreamShare> shares () const;

  StreamManager & manager_;
  /* first, so they go last: every route and response stream is gone
   * before the server closes its connections */
  http::Router router_;
  std::unique_ptr<http::MhdHttpServer> server_;

  WebhookSender webhooks_;
  ViewerCounter viewers_;
  MetricsCollector metrics_;
  StreamViews views_;
  EventStream events_;
  WebPages pages_;
  PublicStreamRoutes public_routes_;
  EventsRoute events_route_;
  StreamsApi streams_api_;
  MetricsRoute metrics_route_;
  NodesRoute nodes_route_;
  LiveRoute live_route_;
  WhipRoutes whip_routes_;
  WhepRoutes whep_routes_;
  WebSocketIngestRoute ingest_route_;
  RtmpServer rtmp_;
  SrtServer srt_;
  guint tick_ = 0;                 /* every second: viewers pruned, events sent */
};

}  // namespace castline::launcher
