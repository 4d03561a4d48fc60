#include "daemon.h"

#include "ingest/rtmp/rtmpingest.h"
#include "ingest/rtmp/rtmpurls.h"
#include "ingest/srt/srtingest.h"
#include "ingest/srt/srturls.h"
#include "streams/elementfactory.h"
#include "streams/livestats.h"
#include "streams/streamjson.h"

namespace castline::launcher {

namespace {

/* how long the webhooks of a shutdown (its stream.ended events) get to go out */
constexpr guint kWebhookFlushMs = 3000;

}  // namespace

Daemon::Daemon (StreamManager & manager)
    : manager_ (manager), webhooks_ (manager.config ().webhooks),
      viewers_ (ViewerCounter::settings_for (manager.config ().hls_target_duration)),
      metrics_ (manager, viewers_), views_ (manager, viewers_),
      events_ (manager, viewers_, [this] (const StreamRecord & r) {
            return views_.stream_json (r);
          }),
      pages_ (manager.config ()), public_routes_ (manager, viewers_, views_),
      events_route_ (manager.config (), events_),
      streams_api_ (manager, views_, public_routes_, events_route_),
      metrics_route_ (manager.config (), metrics_), nodes_route_ (manager), live_route_ (manager, viewers_),
      whip_routes_ (manager), whep_routes_ (manager), ingest_route_ (manager), rtmp_ (manager),
      srt_ (manager)
{
  manager.add_event_listener ([this] (const StreamEvent & e) {
        webhooks_.post_stream_event (e, manager_.playback_url (e.stream.id));
      });
  manager.add_recording_listener ([this] (const StreamRecord & r,
          const std::vector<RecordingRecord> & recordings) {
        g_autoptr (JsonObject) members = json_object_new ();
        json_object_set_member (members, "stream",
            webhook_stream_json (r, manager_.playback_url (r.id)));
        json_object_set_member (members, "recordings", recordings_json (recordings, manager_.config ()));
        webhooks_.post ("recording.ready", members);
      });
  manager.add_recordings_removed_listener ([this] (const StreamRecord & r,
          const RemovalResult & removed, const std::string & reason) {
        g_autoptr (JsonObject) members = recording_deleted_members (r,
            manager_.playback_url (r.id), removed, reason, manager_.config ());
        webhooks_.post ("recording.deleted", members);
      });
  metrics_.set_webhook_stats ([this] { return webhooks_.stats (); });

  auto route = [] (auto & target) {
    return [&target] (const http::Request & req, http::Response & res) {
      target.handle (req, res);
    };
  };
  /* the API, WHIP, WHEP and the ingest run on the main context, which owns the
   * streams; files and pages on the server's threads */
  const http::RouteOptions files { true, 0 };
  router_.add ("/api/streams", route (streams_api_), { false, kMaxApiBody });
  router_.add ("/api/events", route (events_route_), { false, 0 });
  router_.add ("/api/nodes", route (nodes_route_), { false, 0 });
  router_.add ("/metrics", route (metrics_route_), { false, 0 });
  router_.add ("/live", route (live_route_), files);
  router_.add ("/whip", route (whip_routes_), { false, kMaxOffer });
  router_.add ("/whep", route (whep_routes_), { false, kMaxOffer });
  /* every path the others do not take */
  router_.add ("/", route (pages_), files);
  router_.add_websocket ("/ingest", ingest_route_.route ());
  const Config & c = manager.config ();
  http::ServerLimits limits;
  limits.threads = c.http.threads;
  limits.max_connections = c.http.max_connections;
  limits.max_connections_per_address = c.http.max_connections_per_address;
  limits.timeout_s = c.http_request_timeout;
  limits.header_bytes = c.http.max_header_bytes;
  server_ = std::make_unique<http::MhdHttpServer> (router_, limits);
  metrics_.set_http_stats ([this] {
        return HttpMetrics { server_->refusals (), server_->connections () };
      });
  metrics_.set_rtmp_stats ([this] { return rtmp_.metrics (); });
  metrics_.set_srt_stats ([this] { return srt_.metrics (); });

  tick_ = g_timeout_add_seconds (1, [] (gpointer data) -> gboolean {
        auto *self = static_cast<Daemon *> (data);
        gint64 now = g_get_monotonic_time ();
        self->viewers_.prune (now);
        self->events_.tick (now);
        return G_SOURCE_CONTINUE;
      }, this);
}

Daemon::~Daemon ()
{
  g_source_remove (tick_);
}

bool
Daemon::listen (std::string & error)
{
  const Config & c = manager_.config ();
  if (!server_->listen (c.host, c.port, error))
    return false;
  if (!manager_.start_cluster ([this] { return shares (); }, error)) {
    error = "cannot join the cluster: " + error;
    return false;
  }
  if (!manager_.whep_off_reason ().empty ())
    g_message ("WHEP off: %s", manager_.whep_off_reason ().c_str ());
  if (c.hls_low_latency && c.s3.enabled ())
    g_message ("hls.low_latency ignored: S3 output stays classic HLS for CDNs (blocking "
        "playlist reload needs an origin that holds requests)");
  return listen_rtmp (error) && listen_srt (error);
}

bool
Daemon::listen_rtmp (std::string & error)
{
  const Config & c = manager_.config ();
  if (!c.rtmp.enabled ())
    return true;
  std::vector<std::string> missing = missing_factories (RtmpIngest::required_elements ());
  if (!missing.empty ()) {
    g_message ("RTMP off: %s", missing_elements_reason (missing).c_str ());
    return true;
  }
  if (!rtmp_.start (error))
    return false;
  views_.set_rtmp_servers (rtmp_.port () ? rtmp_server_url (c, false) : "",
      rtmp_.tls_port () ? rtmp_server_url (c, true) : "");
  if (rtmp_.port ())
    g_message ("RTMP on %s:%d", c.rtmp_host ().c_str (), rtmp_.port ());
  if (rtmp_.tls_port ())
    g_message ("RTMPS on %s:%d", c.rtmp_host ().c_str (), rtmp_.tls_port ());
  return true;
}

bool
Daemon::listen_srt (std::string & error)
{
  const Config & c = manager_.config ();
  if (!c.srt.enabled ())
    return true;
  std::vector<std::string> missing = missing_factories (SrtIngest::required_elements ());
  if (!missing.empty ()) {
    g_message ("SRT off: %s", missing_elements_reason (missing).c_str ());
    return true;
  }
  if (!srt_.start (error))
    return false;
  views_.set_srt_server (srt_server_url (c));
  g_message ("SRT on %s:%d", c.srt_host ().c_str (), srt_.port ());
  return true;
}

std::vector<StreamShare>
Daemon::shares () const
{
  std::vector<StreamShare> out;
  gint64 now = g_get_monotonic_time ();
  for (const std::string & id : manager_.live_ids ()) {
    StreamShare s;
    s.stream_id = id;
    s.node = manager_.config ().node.id;
    s.hls_viewers = viewers_.count (id, now);
    s.webrtc_viewers = manager_.webrtc_viewers (id);
    if (const LiveStream *ls = manager_.live (id)) {
      g_autoptr (GstStructure) stats = live_stats (*ls);
      g_autoptr (JsonBuilder) b = json_builder_new ();
      add_structure (b, stats);
      s.stats_json = to_text (b);
    }
    out.push_back (std::move (s));
  }
  return out;
}

void
Daemon::shutdown (std::function<void ()> done)
{
  /* new SRT callers are refused from now on (libsrt's thread must not
   * wait for a main context that is finalizing); the live ones go on
   * until their pipelines are finalized */
  srt_.stop ();
  manager_.shutdown ([this, done] { webhooks_.flush (kWebhookFlushMs, done); });
}

}  // namespace castline::launcher
