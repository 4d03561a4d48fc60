/* castline-launcher: the HTTP surface on one libsoup server.
 *   /api/streams[/{id}]   the admin API (JSON; Bearer admin token, or
 *                         loopback only when none is configured)
 *   /api/streams/{id}/recordings   a recorded stream's VODs (admin)
 *   /api/streams/{id}/events, /api/events   Server-Sent Events (EventStream)
 *   /api/streams/{id}/heartbeat   a player's heartbeat: public, CORS
 *   /metrics              Prometheus text (MetricsCollector), admin like /api
 *   /ingest/{id}?key=...  the WebSocket that feeds the stream's webmwssrc
 *   /api/streams/{id}/status   what the pages show of a stream: public, CORS
 *   /live/{id}/{file}     the HLS the stream writes into the data directory
 *   /, /broadcast, /watch/{id}, /ui/...   the web pages (WebPages)
 * WHIP (/whip/...) is added by WhipRoutes on the same server. Main context. */
#pragma once

#include "notify/eventstream.h"
#include "http/httplistener.h"
#include "notify/metrics.h"
#include "streams/streammanager.h"
#include "notify/viewercounter.h"
#include "api/webpages.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <functional>
#include <memory>
#include <string>

namespace castline::launcher {

/* Answers msg with a JSON body. */
void reply_json (SoupServerMessage * msg, unsigned status, const std::string & json);
/* {"error": reason} */
void reply_error (SoupServerMessage * msg, unsigned status, const std::string & reason);
/* The Bearer token of a request, or "". */
std::string bearer_token (SoupServerMessage * msg);
/* The id in /prefix/{id}[/rest]: rest gets what follows; false when the
 * path has no id. */
bool split_path (const char *path, const char *prefix, std::string & id, std::string & rest);

class ApiServer {
 public:
  explicit ApiServer (StreamManager & manager);
  ~ApiServer ();

  /* Listens on the configured host and port. */
  bool listen (std::string & error);
  SoupServer *server () const { return server_; }
  /* the port listened on (the configured one, or the one picked for 0) */
  int port () const { return listener_->port (); }

  /* where /metrics reads the webhook counters (unset: zeros) */
  void set_webhook_stats (std::function<WebhookStats ()> source);

 private:
  static void on_api (SoupServer *, SoupServerMessage *, const char *path, GHashTable *, gpointer);
  static void on_ingest_early (SoupServer *, SoupServerMessage *, const char *path, GHashTable *,
      gpointer);
  static void on_ingest (SoupServer *, SoupServerMessage *, const char *path,
      SoupWebsocketConnection *, gpointer);
  static void on_live (SoupServer *, SoupServerMessage *, const char *path, GHashTable *, gpointer);
  static void on_metrics (SoupServer *, SoupServerMessage *, const char *path, GHashTable *,
      gpointer);
  static void on_events (SoupServer *, SoupServerMessage *, const char *path, GHashTable *,
      gpointer);

  bool admin_allowed (SoupServerMessage * msg) const;
  void api_create (SoupServerMessage * msg);
  void api_heartbeat (SoupServerMessage * msg, const std::string & id);
  void api_status (SoupServerMessage * msg, const std::string & id);
  /* Access-Control-Allow-Origin of the public paths; true when msg was a
   * preflight, answered (204) */
  bool public_cors (SoupServerMessage * msg, const char *methods) const;
  void api_events (SoupServerMessage * msg, const std::string & id);
  void api_recordings (SoupServerMessage * msg, const std::string & id);
  /* 401 with the challenge unless admin_allowed */
  bool check_admin (SoupServerMessage * msg) const;
  std::string stream_json (const StreamRecord & r, const std::string & key) const;
  /* the public view of a stream (api_status): no key, pipeline, webhook */
  std::string status_json (const StreamRecord & r) const;
  /* "viewers", and "stats" while live: what stream_json and status_json share */
  void add_audience (JsonBuilder * b, const StreamRecord & r) const;

  StreamManager & manager_;
  SoupServer *server_ = nullptr;
  ViewerCounter viewers_;
  MetricsCollector metrics_;
  std::unique_ptr<EventStream> events_;
  std::unique_ptr<HttpListener> listener_;
  WebPages pages_;
  guint tick_ = 0;                 /* every second: viewers pruned, events sent */
};

}  // namespace castline::launcher
