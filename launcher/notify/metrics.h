/* castline-launcher: GET /metrics, in Prometheus' text exposition format
 * (version 0.0.4). render_metrics () is a pure function of plain numbers,
 * so the format is tested without a daemon; MetricsCollector gathers those
 * numbers from the streams, their pipelines, the viewer counter and the
 * webhooks when a scrape comes. The README lists every family. */
#pragma once

#include "streams/streammanager.h"
#include "notify/viewercounter.h"
#include "notify/webhooks.h"
#include "s3/uploadlatency.h"

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace castline::launcher {

constexpr const char *kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

/* One viewerstats branch of a live stream. */
struct BranchMetrics {
  std::string kind;                /* "video" or "audio" */
  double bitrate = 0;              /* bits/s */
  double fps = 0;                  /* rendered for video only */
  double health = 0;               /* 0-100 */
};

/* A live stream's S3 uploads now (s3hlssink's stats: pending-uploads,
 * upload-lag, s3-unavailable). */
struct S3UploadState {
  guint64 pending = 0;             /* objects not yet in the bucket */
  double lag_seconds = 0;          /* age of the oldest segment not yet stored */
  bool unavailable = false;        /* in an outage */
};

struct LiveStreamMetrics {
  std::string id;
  unsigned viewers = 0;            /* HLS (ViewerCounter) and WebRTC */
  std::vector<BranchMetrics> branches;
  unsigned webrtc_viewers = 0;     /* WHEP sessions */
  bool s3 = false;                 /* S3 output: s3_state holds */
  S3UploadState s3_state {};
};

/* s3hlssink's counters (its stats: uploads-completed, uploads-failed,
 * bytes-uploaded, requests-retried, outages, upload-latency-*). */
struct S3Counters {
  guint64 uploads = 0;
  guint64 failures = 0;
  guint64 bytes = 0;
  guint64 retries = 0;
  guint64 outages = 0;
  s3::UploadLatencyHistogram latency {};   /* segments, closed to stored */

  S3Counters & operator+= (const S3Counters & o);
  static S3Counters from_stats (const GstStructure * s);   /* s may be null */
};

/* What the HTTP server refused, by reason, and its open connections. */
struct HttpMetrics {
  std::vector<std::pair<std::string, guint64>> refused;
  unsigned connections = 0;
};

/* The RTMP server's connections (its listeners' counts and the
 * publishers the launcher refused). */
struct RtmpMetrics {
  guint64 accepted = 0;            /* connections accepted */
  guint64 refused = 0;             /* publishers refused: key, state, limits, codecs, too many pending */
  guint64 protocol_errors = 0;     /* closed for breaking the protocol or a limit */
  guint64 timed_out = 0;           /* closed for not getting to publish in time */
};

/* The SRT port's callers (SrtListener's counts and the callers the
 * launcher refused). */
struct SrtMetrics {
  guint64 accepted = 0;            /* callers past the handshake */
  guint64 refused = 0;             /* key, state, limits, codecs, malformed ids, too many pending */
  guint64 not_ts = 0;              /* closed: they sent no MPEG-TS */
  guint64 timed_out = 0;           /* closed: no PMT in time */
};

/* An SRT publisher's link (srtingestsrc's stats), by stream. */
struct SrtLinkMetrics {
  std::string id;
  double rtt_seconds = 0;
  double receive_rate_bits = 0;    /* bits/s */
  guint64 packets_received = 0;
  guint64 packets_lost = 0;
  guint64 packets_retransmitted = 0;
  guint64 packets_dropped = 0;
  guint64 bytes_received = 0;
};

/* WebRTC viewers (WHEP) let in and turned away, over every stream since
 * the daemon started. */
struct WebRtcCounters {
  guint64 admitted = 0;            /* answered 201 */
  guint64 refused = 0;             /* 503: every seat taken */

  WebRtcCounters & operator+= (const WebRtcCounters & o);
};

struct MetricsSnapshot {
  /* streams by state, indexed by StreamState */
  std::array<guint64, 6> streams = {};
  std::vector<LiveStreamMetrics> live;
  S3Counters s3;                   /* since the daemon started */
  WebhookStats webhooks;
  HttpMetrics http;
  RtmpMetrics rtmp;
  SrtMetrics srt;
  std::vector<SrtLinkMetrics> srt_links;   /* live SRT streams */
  WebRtcCounters webrtc;
  ClusterMetrics cluster;
};

/* The exposition text: HELP and TYPE for every family (samples or not),
 * castline_streams for every state, label values escaped. */
std::string render_metrics (const MetricsSnapshot & m);

/* A label value as the format wants it: \ " and newline escaped. */
std::string escape_label_value (const std::string & value);

class MetricsCollector {
 public:
  /* Listens to the manager's events to keep what ended pipelines
   * uploaded: the S3 counters never go back. */
  MetricsCollector (StreamManager & manager, const ViewerCounter & viewers);

  /* where the webhook counters come from (unset: zeros) */
  void set_webhook_stats (std::function<WebhookStats ()> source) { webhooks_ = std::move (source); }
  /* where the HTTP server's come from (unset: none) */
  void set_http_stats (std::function<HttpMetrics ()> source) { http_ = std::move (source); }
  /* where the RTMP server's come from (unset: zeros) */
  void set_rtmp_stats (std::function<RtmpMetrics ()> source) { rtmp_ = std::move (source); }
  /* where the SRT server's come from (unset: zeros) */
  void set_srt_stats (std::function<SrtMetrics ()> source) { srt_ = std::move (source); }

  MetricsSnapshot snapshot (gint64 now_us) const;

 private:
  StreamManager & manager_;
  const ViewerCounter & viewers_;
  std::function<WebhookStats ()> webhooks_;
  std::function<HttpMetrics ()> http_;
  std::function<RtmpMetrics ()> rtmp_;
  std::function<SrtMetrics ()> srt_;
  S3Counters finished_s3_;                 /* of the pipelines that ended */
  WebRtcCounters finished_webrtc_;         /* of the rooms that closed */
  std::shared_ptr<MetricsCollector *> self_;   /* the event listener's way back */
};

}  // namespace castline::launcher
