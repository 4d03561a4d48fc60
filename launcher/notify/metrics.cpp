#include "notify/metrics.h"

#include <cmath>
#include <utility>

namespace castline::launcher {

namespace {

constexpr StreamState kStates[] = { StreamState::created, StreamState::scheduled,
  StreamState::live, StreamState::ended, StreamState::failed, StreamState::interrupted };

using Labels = std::vector<std::pair<const char *, std::string>>;

/* HELP text escapes only \ and newline */
std::string
escape_help (const char *help)
{
  std::string out;
  for (const char *p = help; *p; p++) {
    if (*p == '\\')
      out += "\\\\";
    else if (*p == '\n')
      out += "\\n";
    else
      out += *p;
  }
  return out;
}

void
family (std::string & out, const char *name, const char *type, const char *help)
{
  out += std::string ("# HELP ") + name + " " + escape_help (help) + "\n";
  out += std::string ("# TYPE ") + name + " " + type + "\n";
}

void
sample (std::string & out, const char *name, const Labels & labels, const std::string & value)
{
  out += name;
  if (!labels.empty ()) {
    out += "{";
    for (size_t i = 0; i < labels.size (); i++) {
      out += (i ? "," : "") + std::string (labels[i].first) + "=\""
          + escape_label_value (labels[i].second) + "\"";
    }
    out += "}";
  }
  out += " " + value + "\n";
}

std::string
number (guint64 v)
{
  return std::to_string (v);
}

/* Go's ParseFloat reads what %.15g writes; NaN and infinities as the format spells them */
std::string
number (double v)
{
  if (std::isnan (v))
    return "NaN";
  if (std::isinf (v))
    return v > 0 ? "+Inf" : "-Inf";
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_ascii_formatd (buf, sizeof buf, "%.15g", v);
}

/* a counter without labels */
void
counter (std::string & out, const char *name, const char *help, guint64 value)
{
  family (out, name, "counter", help);
  sample (out, name, {}, number (value));
}

/* a per-branch gauge of every live stream */
template <typename Get>
void
branch_family (std::string & out, const MetricsSnapshot & m, const char *name, const char *help,
    bool video_only, Get get)
{
  family (out, name, "gauge", help);
  for (auto & s : m.live)
    for (auto & b : s.branches)
      if (!video_only || b.kind == "video")
        sample (out, name, { { "stream", s.id }, { "kind", b.kind } }, number (get (b)));
}

double
field_double (const GstStructure * s, const char *name)
{
  const GValue *v = gst_structure_get_value (s, name);
  if (!v || !g_value_type_transformable (G_VALUE_TYPE (v), G_TYPE_DOUBLE))
    return 0;
  GValue d = G_VALUE_INIT;
  g_value_init (&d, G_TYPE_DOUBLE);
  g_value_transform (v, &d);
  return g_value_get_double (&d);
}

guint64
field_uint64 (const GstStructure * s, const char *name)
{
  guint64 v = 0;
  return s && gst_structure_get_uint64 (s, name, &v) ? v : 0;
}

/* a per-stream gauge of every live stream with S3 output */
template <typename Get>
void
s3_family (std::string & out, const MetricsSnapshot & m, const char *name, const char *help,
    Get get)
{
  family (out, name, "gauge", help);
  for (auto & s : m.live)
    if (s.s3)
      sample (out, name, { { "stream", s.id } }, number (get (s.s3_state)));
}

/* a per-stream family of every live SRT stream */
template <typename Get>
void
srt_link_family (std::string & out, const MetricsSnapshot & m, const char *name,
    const char *type, const char *help, Get get)
{
  family (out, name, type, help);
  for (auto & l : m.srt_links)
    sample (out, name, { { "stream", l.id } }, number (get (l)));
}

/* an SRT publisher's link, from its ingest's link_stats ("srt") */
SrtLinkMetrics
srt_link_of (const std::string & id, const GstStructure * s)
{
  SrtLinkMetrics l;
  l.id = id;
  l.rtt_seconds = field_double (s, "rtt-ms") / 1000.0;
  l.receive_rate_bits = field_double (s, "receive-rate-mbps") * 1e6;
  l.packets_received = field_uint64 (s, "packets-received");
  l.packets_lost = field_uint64 (s, "packets-lost");
  l.packets_retransmitted = field_uint64 (s, "packets-retransmitted");
  l.packets_dropped = field_uint64 (s, "packets-dropped");
  l.bytes_received = field_uint64 (s, "bytes-received");
  return l;
}

/* s3hlssink's upload-latency-* fields (absent: zeros; buckets of another
 * build's bounds: ignored, the count and the sum kept) */
s3::UploadLatencyHistogram
latency_of (const GstStructure * s)
{
  s3::UploadLatencyHistogram h;
  h.count = field_uint64 (s, "upload-latency-count");
  h.sum_us = field_uint64 (s, "upload-latency-sum") / GST_USECOND;
  const GValue *v = s ? gst_structure_get_value (s, "upload-latency-buckets") : nullptr;
  if (v && GST_VALUE_HOLDS_ARRAY (v) && gst_value_array_get_size (v) == h.buckets.size ()) {
    for (guint i = 0; i < h.buckets.size (); i++) {
      const GValue *b = gst_value_array_get_value (v, i);
      h.buckets[i] = G_VALUE_HOLDS_UINT64 (b) ? g_value_get_uint64 (b) : 0;
    }
  }
  return h;
}

/* a histogram without labels: cumulative buckets, +Inf, sum and count */
void
histogram (std::string & out, const char *name, const char *help,
    const s3::UploadLatencyHistogram & h)
{
  family (out, name, "histogram", help);
  std::string bucket = std::string (name) + "_bucket";
  for (size_t i = 0; i < h.buckets.size (); i++)
    sample (out, bucket.c_str (), { { "le", number (s3::kUploadLatencyBounds[i]) } },
        number (h.buckets[i]));
  sample (out, bucket.c_str (), { { "le", "+Inf" } }, number (h.count));
  sample (out, (std::string (name) + "_sum").c_str (), {}, number (h.sum_us / 1e6));
  sample (out, (std::string (name) + "_count").c_str (), {}, number (h.count));
}

}  // namespace

std::string
escape_label_value (const std::string & value)
{
  std::string out;
  out.reserve (value.size ());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

S3Counters &
S3Counters::operator+= (const S3Counters & o)
{
  uploads += o.uploads;
  failures += o.failures;
  bytes += o.bytes;
  retries += o.retries;
  outages += o.outages;
  latency += o.latency;
  return *this;
}

S3Counters
S3Counters::from_stats (const GstStructure * s)
{
  S3Counters c;
  c.uploads = field_uint64 (s, "uploads-completed");
  c.failures = field_uint64 (s, "uploads-failed");
  c.bytes = field_uint64 (s, "bytes-uploaded");
  c.retries = field_uint64 (s, "requests-retried");
  c.outages = field_uint64 (s, "outages");
  c.latency = latency_of (s);
  return c;
}

WebRtcCounters &
WebRtcCounters::operator+= (const WebRtcCounters & o)
{
  admitted += o.admitted;
  refused += o.refused;
  return *this;
}

namespace {

WebRtcCounters
room_counters (const LiveStream & ls)
{
  return ls.room ? WebRtcCounters { ls.room->admitted (), ls.room->refused () } : WebRtcCounters {};
}

}  // namespace

std::string
render_metrics (const MetricsSnapshot & m)
{
  std::string out;
  family (out, "castline_streams", "gauge", "Streams by state.");
  for (StreamState st : kStates)
    sample (out, "castline_streams", { { "state", state_name (st) } },
        number (m.streams[(size_t) st]));

  family (out, "castline_stream_viewers", "gauge",
      "Concurrent viewers of a live stream: HLS (playlist requests and heartbeats) plus "
      "WebRTC (WHEP viewers whose connection is up).");
  for (auto & s : m.live)
    sample (out, "castline_stream_viewers", { { "stream", s.id } }, number ((guint64) s.viewers));
  family (out, "castline_stream_webrtc_viewers", "gauge",
      "WebRTC (WHEP) viewers of a live stream whose connection is up.");
  guint64 webrtc = 0;
  for (auto & s : m.live) {
    sample (out, "castline_stream_webrtc_viewers", { { "stream", s.id } },
        number ((guint64) s.webrtc_viewers));
    webrtc += s.webrtc_viewers;
  }
  family (out, "castline_webrtc_viewers", "gauge",
      "WebRTC (WHEP) viewers of every stream whose connection is up.");
  sample (out, "castline_webrtc_viewers", {}, number (webrtc));
  counter (out, "castline_webrtc_viewers_admitted_total",
      "WebRTC viewers answered 201 (their session negotiated).", m.webrtc.admitted);
  counter (out, "castline_webrtc_viewers_refused_total",
      "WebRTC viewers refused because every seat of the stream was taken (503).",
      m.webrtc.refused);

  branch_family (out, m, "castline_stream_bitrate_bits_per_second",
      "Bitrate of a live stream's branch into the HLS sink (viewerstats), bits/s.", false,
      [] (const BranchMetrics & b) { return b.bitrate; });
  branch_family (out, m, "castline_stream_frames_per_second",
      "Frame rate of a live stream's video (viewerstats).", true,
      [] (const BranchMetrics & b) { return b.fps; });
  branch_family (out, m, "castline_stream_health",
      "Health of a live stream's branch, 0-100 (viewerstats).", false,
      [] (const BranchMetrics & b) { return b.health; });

  family (out, "castline_s3_uploads_total", "counter", "Objects uploaded to S3 by s3hlssink.");
  sample (out, "castline_s3_uploads_total", {}, number (m.s3.uploads));
  family (out, "castline_s3_upload_failures_total", "counter",
      "S3 uploads given up on by s3hlssink.");
  sample (out, "castline_s3_upload_failures_total", {}, number (m.s3.failures));
  family (out, "castline_s3_bytes_uploaded_total", "counter", "Bytes uploaded to S3 by s3hlssink.");
  sample (out, "castline_s3_bytes_uploaded_total", {}, number (m.s3.bytes));
  counter (out, "castline_s3_request_retries_total",
      "S3 requests of s3hlssink that failed (5xx, SlowDown, time-out, no connection) and "
      "were tried again.", m.s3.retries);
  counter (out, "castline_s3_outages_total",
      "Times s3hlssink found S3 unreachable (the start of an outage).", m.s3.outages);
  histogram (out, "castline_s3_upload_duration_seconds",
      "Time from a segment's close to its object in the bucket (s3hlssink: spool wait and "
      "retries included).", m.s3.latency);
  s3_family (out, m, "castline_stream_s3_pending_uploads",
      "Objects of a live stream not yet in the bucket (segments and its newest playlist).",
      [] (const S3UploadState & st) { return (double) st.pending; });
  s3_family (out, m, "castline_stream_s3_upload_lag_seconds",
      "Age of a live stream's oldest segment not yet in the bucket (0: none waits).",
      [] (const S3UploadState & st) { return st.lag_seconds; });
  s3_family (out, m, "castline_stream_s3_unavailable",
      "1 while S3 does not answer a live stream's uploads (they wait in its spool), else 0.",
      [] (const S3UploadState & st) { return st.unavailable ? 1.0 : 0.0; });

  counter (out, "castline_webhook_deliveries_total", "Webhook events a URL answered 2xx to.",
      m.webhooks.delivered);
  counter (out, "castline_webhook_failures_total",
      "Webhook events given up on (not 2xx, or retries spent).", m.webhooks.failed);
  counter (out, "castline_webhook_retries_total", "Webhook attempts after a first one.",
      m.webhooks.retried);
  counter (out, "castline_webhook_dropped_total", "Webhook events pushed out of a full queue.",
      m.webhooks.dropped);

  family (out, "castline_http_connections", "gauge", "Open HTTP connections.");
  sample (out, "castline_http_connections", {}, number ((guint64) m.http.connections));
  family (out, "castline_http_refused_total", "counter",
      "What the HTTP server refused, by reason: the status it answered (400, 403, 413, 414, "
      "421, 431, 503) or a connection it closed (connection_limit, timeout).");
  for (auto & [reason, n] : m.http.refused)
    sample (out, "castline_http_refused_total", { { "reason", reason } }, number (n));

  counter (out, "castline_rtmp_connections_accepted_total",
      "RTMP connections the RTMP server accepted (RTMP and RTMPS).", m.rtmp.accepted);
  counter (out, "castline_rtmp_connections_refused_total",
      "RTMP publishers refused: unknown key, stream ended or live, limits, shutting down, "
      "codecs no pipeline takes, too many connections waiting to publish.", m.rtmp.refused);
  counter (out, "castline_rtmp_protocol_errors_total",
      "RTMP connections closed before publishing for breaking the protocol or a limit.",
      m.rtmp.protocol_errors);
  counter (out, "castline_rtmp_timeouts_total",
      "RTMP connections closed for not getting to publish in time.", m.rtmp.timed_out);

  counter (out, "castline_srt_connections_accepted_total",
      "SRT callers past the handshake on the SRT port.", m.srt.accepted);
  counter (out, "castline_srt_connections_refused_total",
      "SRT callers refused: unknown key, stream ended or live, limits, shutting down, codecs "
      "no pipeline takes, malformed stream ids, too many callers waiting.", m.srt.refused);
  counter (out, "castline_srt_not_ts_total",
      "SRT callers closed for sending something other than MPEG-TS.", m.srt.not_ts);
  counter (out, "castline_srt_timeouts_total",
      "SRT callers closed for sending no PMT (their codecs) in time.", m.srt.timed_out);

  if (m.cluster.on) {
    family (out, "castline_cluster_nodes", "gauge",
        "Nodes of the cluster whose lease runs, as this node last saw them.");
    sample (out, "castline_cluster_nodes", {}, number ((double) m.cluster.nodes_alive));
    family (out, "castline_cluster_fenced", "gauge",
        "1 while this node has no lease (it runs no stream), else 0.");
    sample (out, "castline_cluster_fenced", {}, number (m.cluster.fenced ? 1.0 : 0.0));
    family (out, "castline_cluster_bus_connected", "gauge",
        "1 while this node hears the others' events (LISTEN on the store), else 0.");
    sample (out, "castline_cluster_bus_connected", {}, number (m.cluster.bus_connected ? 1.0 : 0.0));
    counter (out, "castline_cluster_lease_failures_total",
        "Renewals of this node's lease that failed.", m.cluster.lease_failures);
    counter (out, "castline_cluster_takeovers_total",
        "Live streams of lost nodes this node made interrupted.", m.cluster.takeovers);
    counter (out, "castline_cluster_expired_total",
        "Interrupted streams this node ended when their window passed.", m.cluster.expired);
  }
  srt_link_family (out, m, "castline_srt_rtt_seconds", "gauge",
      "Round-trip time of a live SRT publisher's link.",
      [] (const SrtLinkMetrics & l) { return l.rtt_seconds; });
  srt_link_family (out, m, "castline_srt_receive_bits_per_second", "gauge",
      "Receive rate of a live SRT publisher's link, bits/s.",
      [] (const SrtLinkMetrics & l) { return l.receive_rate_bits; });
  srt_link_family (out, m, "castline_srt_packets_received_total", "counter",
      "SRT packets received from a live publisher.",
      [] (const SrtLinkMetrics & l) { return l.packets_received; });
  srt_link_family (out, m, "castline_srt_packets_lost_total", "counter",
      "SRT packets a live publisher's link lost (most are recovered by retransmission).",
      [] (const SrtLinkMetrics & l) { return l.packets_lost; });
  srt_link_family (out, m, "castline_srt_packets_retransmitted_total", "counter",
      "SRT retransmitted packets received from a live publisher.",
      [] (const SrtLinkMetrics & l) { return l.packets_retransmitted; });
  srt_link_family (out, m, "castline_srt_packets_dropped_total", "counter",
      "SRT packets of a live publisher dropped for arriving too late (never played).",
      [] (const SrtLinkMetrics & l) { return l.packets_dropped; });
  srt_link_family (out, m, "castline_srt_received_bytes_total", "counter",
      "Bytes received from a live SRT publisher.",
      [] (const SrtLinkMetrics & l) { return l.bytes_received; });
  return out;
}

MetricsCollector::MetricsCollector (StreamManager & manager, const ViewerCounter & viewers)
    : manager_ (manager), viewers_ (viewers),
      self_ (std::make_shared<MetricsCollector *> (this))
{
  std::weak_ptr<MetricsCollector *> weak = self_;
  manager_.add_event_listener ([weak] (const StreamEvent & e) {
        auto self = weak.lock ();
        if (!self || (e.type != "stream.ended" && e.type != "stream.failed"
                && e.type != "stream.interrupted"))
          return;
        /* the pipeline is finished but still there: keep what it uploaded */
        MetricsCollector *c = *self;
        if (LiveStream *ls = c->manager_.live (e.stream.id)) {
          g_autoptr (GstStructure) s = ls->pipeline->output_stats ();
          c->finished_s3_ += S3Counters::from_stats (s);
          c->finished_webrtc_ += room_counters (*ls);
        }
      });
}

MetricsSnapshot
MetricsCollector::snapshot (gint64 now_us) const
{
  MetricsSnapshot m;
  for (auto & r : manager_.list ())
    m.streams[(size_t) r.state]++;
  m.s3 = finished_s3_;
  m.webrtc = finished_webrtc_;
  for (auto & id : manager_.live_ids ()) {
    LiveStream *ls = manager_.live (id);
    LiveStreamMetrics lm;
    lm.id = id;
    lm.webrtc_viewers = manager_.webrtc_viewers (id);
    lm.viewers = viewers_.count (id, now_us) + lm.webrtc_viewers;
    m.webrtc += room_counters (*ls);
    g_autoptr (GstStructure) stats = ls->pipeline->stats ();
    for (const char *kind : { "video", "audio" }) {
      const GValue *v = gst_structure_get_value (stats, kind);
      if (!v || !GST_VALUE_HOLDS_STRUCTURE (v))
        continue;
      const GstStructure *b = gst_value_get_structure (v);
      lm.branches.push_back ({ kind, field_double (b, "bitrate"), field_double (b, "fps"),
          field_double (b, "health") });
    }
    g_autoptr (GstStructure) out = ls->pipeline->output_stats ();
    m.s3 += S3Counters::from_stats (out);
    if (out && gst_structure_has_name (out, "s3hlssink-stats")) {
      lm.s3 = true;
      lm.s3_state.pending = field_uint64 (out, "pending-uploads");
      lm.s3_state.lag_seconds = field_uint64 (out, "upload-lag") / 1e9;
      gboolean unavailable = FALSE;
      lm.s3_state.unavailable = gst_structure_get_boolean (out, "s3-unavailable", &unavailable)
          && unavailable;
    }
    g_autoptr (GstStructure) link = ls->ingest ? ls->ingest->link_stats () : nullptr;
    if (link && gst_structure_has_name (link, "srt") && gst_structure_n_fields (link) > 0)
      m.srt_links.push_back (srt_link_of (id, link));
    m.live.push_back (std::move (lm));
  }
  if (webhooks_)
    m.webhooks = webhooks_ ();
  if (http_)
    m.http = http_ ();
  if (rtmp_)
    m.rtmp = rtmp_ ();
  if (srt_)
    m.srt = srt_ ();
  if (const ClusterNode *cluster = manager_.cluster ())
    m.cluster = cluster->metrics ();
  return m;
}

}  // namespace castline::launcher
