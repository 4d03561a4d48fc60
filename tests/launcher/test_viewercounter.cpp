/* Viewer counting and the /metrics text, without a daemon: ViewerCounter
 * takes the time as an argument, render_metrics () plain numbers. */
#include "notify/metrics.h"
#include "../assertions.h"
#include "notify/viewercounter.h"

#include <gst/check/gstcheck.h>

#include <cmath>
#include <string>

using namespace castline::launcher;

static constexpr gint64 S = G_USEC_PER_SEC;

static const std::string kStream = "abc123";

/* ---- ViewerCounter ---- */

GST_START_TEST (test_playlist_viewer_counts_for_the_window)
{
  fail_unless_equals_int64 (ViewerCounter::settings_for (2).playlist_window_us, 10 * S);
  fail_unless_equals_int64 (ViewerCounter::settings_for (4).playlist_window_us, 12 * S);
  fail_unless_equals_int64 (ViewerCounter::settings_for (2).heartbeat_window_us, 30 * S);

  ViewerCounter v (ViewerCounter::settings_for (2));
  gint64 t0 = 1000 * S;
  fail_unless_equals_int (v.count (kStream, t0), 0);
  v.playlist_request (kStream, "10.0.0.1", "hls.js", t0);
  fail_unless_equals_int (v.count (kStream, t0), 1);
  fail_unless_equals_int (v.count (kStream, t0 + 10 * S - 1), 1);
  fail_unless_equals_int (v.count (kStream, t0 + 10 * S), 0);
  /* a poll within the window keeps it */
  v.playlist_request (kStream, "10.0.0.1", "hls.js", t0 + 8 * S);
  fail_unless_equals_int (v.count (kStream, t0 + 17 * S), 1);
  fail_unless_equals_int (v.count (kStream, t0 + 18 * S), 0);
  fail_unless_equals_int (v.count ("other", t0), 0);
}
GST_END_TEST;

GST_START_TEST (test_playlist_viewer_is_address_and_user_agent)
{
  ViewerCounter v (ViewerCounter::settings_for (2));
  gint64 t = 5 * S;
  v.playlist_request (kStream, "10.0.0.1", "Safari", t);
  v.playlist_request (kStream, "10.0.0.1", "Safari", t + S);      /* the same player polling */
  fail_unless_equals_int (v.count (kStream, t + S), 1);
  v.playlist_request (kStream, "10.0.0.1", "Firefox", t);         /* same address, other player */
  v.playlist_request (kStream, "10.0.0.2", "Safari", t);          /* same player, other address */
  fail_unless_equals_int (v.count (kStream, t + S), 3);
  /* the split between address and User-Agent is part of the identity */
  v.playlist_request (kStream, "10.0.0.3", "5x", t);
  v.playlist_request (kStream, "10.0.0.35", "x", t);
  fail_unless_equals_int (v.count (kStream, t + S), 5);
  /* no User-Agent is a User-Agent too */
  v.playlist_request (kStream, "10.0.0.1", "", t);
  fail_unless_equals_int (v.count (kStream, t + S), 6);
  /* one stream's viewers are not another's */
  fail_unless_equals_int (v.count ("other", t), 0);
  v.playlist_request ("other", "10.0.0.1", "Safari", t);
  fail_unless_equals_int (v.count ("other", t), 1);
  fail_unless_equals_int (v.count (kStream, t + S), 6);
}
GST_END_TEST;

GST_START_TEST (test_heartbeat_viewers_by_id)
{
  fail_unless (ViewerCounter::valid_viewer_id ("a"));
  fail_unless (ViewerCounter::valid_viewer_id ("Player_1-x"));
  fail_unless (ViewerCounter::valid_viewer_id (std::string (64, 'z')));
  fail_if (ViewerCounter::valid_viewer_id (""));
  fail_if (ViewerCounter::valid_viewer_id (std::string (65, 'z')));
  for (const char *bad : { "a b", "a/b", "a.b", "é", "a\nb", "<x>" })
    fail_if (ViewerCounter::valid_viewer_id (bad), "%s taken", bad);
  fail_if (ViewerCounter::valid_viewer_id (std::string ("a\0b", 3)));

  ViewerCounter v (ViewerCounter::settings_for (2));
  gint64 t = 100 * S;
  v.heartbeat (kStream, "p1", t);
  v.heartbeat (kStream, "p1", t + 10 * S);
  v.heartbeat (kStream, "p2", t + 10 * S);
  fail_unless_equals_int (v.count (kStream, t + 10 * S), 2);
  /* heartbeats and playlist requests add up */
  v.playlist_request (kStream, "10.0.0.1", "hls.js", t + 10 * S);
  fail_unless_equals_int (v.count (kStream, t + 10 * S), 3);
  /* 30 s after its last heartbeat a viewer is gone; the playlist one
   * went after 10 s */
  fail_unless_equals_int (v.count (kStream, t + 20 * S), 2);
  fail_unless_equals_int (v.count (kStream, t + 40 * S - 1), 2);
  fail_unless_equals_int (v.count (kStream, t + 40 * S), 0);
}
GST_END_TEST;

GST_START_TEST (test_at_most_max_viewers_the_oldest_go)
{
  fail_unless_equals_int (ViewerCounter::Settings ().max_viewers, 100000);
  ViewerCounter::Settings s;
  s.max_viewers = 1000;
  ViewerCounter v (s);
  /* viewer i seen at i ms: 1500 of them, both kinds */
  for (int i = 0; i < 1500; i++) {
    std::string id = "v" + std::to_string (i);
    if (i % 2)
      v.heartbeat (kStream, id, i * 1000);
    else
      v.playlist_request (kStream, id, "ua", i * 1000);
  }
  fail_unless_equals_int (v.tracked (kStream), 1000);
  fail_unless_equals_int (v.count (kStream, 1500 * 1000), 1000);
  /* the kept ones are the 1000 seen last (500..1499): once the playlist
   * window has passed for the first 1000 ms, 1000..1499 are left of the
   * playlist viewers, all the heartbeat ones still count */
  gint64 t = 10 * S + 999 * 1000;
  fail_unless_equals_int (v.count (kStream, t), 250 + 500);
  /* seen again: it is the newest now, another one goes */
  v.heartbeat (kStream, "v501", 1500 * 1000);
  fail_unless_equals_int (v.tracked (kStream), 1000);
  v.heartbeat (kStream, "new", 1500 * 1000);
  fail_unless_equals_int (v.tracked (kStream), 1000);
  /* other streams have a bound of their own */
  v.heartbeat ("other", "v0", 0);
  fail_unless_equals_int (v.tracked ("other"), 1);
}
GST_END_TEST;

GST_START_TEST (test_prune_drops_expired_entries_and_empty_streams)
{
  ViewerCounter v (ViewerCounter::settings_for (2));
  v.playlist_request ("a", "10.0.0.1", "x", 0);
  v.playlist_request ("a", "10.0.0.2", "x", 5 * S);
  v.heartbeat ("b", "p1", 0);
  fail_unless_equals_int (v.streams ().size (), 2);
  /* count () alone keeps the memory as it is */
  fail_unless_equals_int (v.count ("a", 12 * S), 1);
  fail_unless_equals_int (v.tracked ("a"), 2);
  v.prune (12 * S);
  fail_unless_equals_int (v.tracked ("a"), 1);
  fail_unless_equals_int (v.tracked ("b"), 1);
  fail_unless_equals_int (v.count ("a", 12 * S), 1);
  /* a stream nobody watched for a window holds nothing (an ended one too) */
  v.prune (15 * S);
  fail_unless_equals_int (v.tracked ("a"), 0);
  std::vector<std::string> left = v.streams ();
  fail_unless (left.size () == 1 && left[0] == "b");
  v.prune (30 * S);
  fail_unless (v.streams ().empty ());
  /* and counts again from scratch */
  v.playlist_request ("a", "10.0.0.1", "x", 31 * S);
  fail_unless_equals_int (v.count ("a", 31 * S), 1);
}
GST_END_TEST;

/* ---- render_metrics ---- */

static bool
has_line (const std::string & text, const std::string & line)
{
  return ("\n" + text).find ("\n" + line + "\n") != std::string::npos;
}

static const char *kFamilies[][2] = {
  { "castline_streams", "gauge" },
  { "castline_stream_viewers", "gauge" },
  { "castline_stream_bitrate_bits_per_second", "gauge" },
  { "castline_stream_frames_per_second", "gauge" },
  { "castline_stream_health", "gauge" },
  { "castline_s3_uploads_total", "counter" },
  { "castline_s3_upload_failures_total", "counter" },
  { "castline_s3_bytes_uploaded_total", "counter" },
  { "castline_s3_request_retries_total", "counter" },
  { "castline_s3_outages_total", "counter" },
  { "castline_s3_upload_duration_seconds", "histogram" },
  { "castline_stream_s3_pending_uploads", "gauge" },
  { "castline_stream_s3_upload_lag_seconds", "gauge" },
  { "castline_stream_s3_unavailable", "gauge" },
  { "castline_webhook_deliveries_total", "counter" },
  { "castline_webhook_failures_total", "counter" },
  { "castline_webhook_retries_total", "counter" },
  { "castline_webhook_dropped_total", "counter" },
  { "castline_rtmp_connections_accepted_total", "counter" },
  { "castline_rtmp_connections_refused_total", "counter" },
  { "castline_rtmp_protocol_errors_total", "counter" },
  { "castline_rtmp_timeouts_total", "counter" },
  { "castline_srt_connections_accepted_total", "counter" },
  { "castline_srt_connections_refused_total", "counter" },
  { "castline_srt_not_ts_total", "counter" },
  { "castline_srt_timeouts_total", "counter" },
  { "castline_srt_rtt_seconds", "gauge" },
  { "castline_srt_receive_bits_per_second", "gauge" },
  { "castline_srt_packets_received_total", "counter" },
  { "castline_srt_packets_lost_total", "counter" },
  { "castline_srt_packets_retransmitted_total", "counter" },
  { "castline_srt_packets_dropped_total", "counter" },
  { "castline_srt_received_bytes_total", "counter" },
  { "castline_stream_webrtc_viewers", "gauge" },
  { "castline_webrtc_viewers", "gauge" },
  { "castline_webrtc_viewers_admitted_total", "counter" },
  { "castline_webrtc_viewers_refused_total", "counter" },
};

GST_START_TEST (test_metrics_every_family_and_state)
{
  MetricsSnapshot m;
  m.streams[(size_t) StreamState::ended] = 3;
  std::string text = render_metrics (m);
  for (auto & f : kFamilies) {
    fail_unless (text.find (std::string ("# HELP ") + f[0] + " ") != std::string::npos,
        "no HELP for %s", f[0]);
    fail_unless (has_line (text, std::string ("# TYPE ") + f[0] + " " + f[1]), "no TYPE for %s",
        f[0]);
  }
  for (const char *state : { "created", "scheduled", "live", "failed" })
    fail_unless (has_line (text, std::string ("castline_streams{state=\"") + state + "\"} 0"),
        "%s", text.c_str ());
  fail_unless (has_line (text, "castline_streams{state=\"ended\"} 3"));
  fail_unless (has_line (text, "castline_s3_uploads_total 0"));
  fail_unless (has_line (text, "castline_webhook_deliveries_total 0"));
  fail_unless (has_line (text, "castline_webrtc_viewers 0"));
  fail_unless (has_line (text, "castline_webrtc_viewers_refused_total 0"));
  fail_unless (has_line (text, "castline_srt_connections_refused_total 0"));
  /* no live stream: no per-stream sample */
  fail_if (text.find ("stream=") != std::string::npos);
  fail_unless (g_str_has_suffix (text.c_str (), "\n"));
  fail_unless (g_utf8_validate (text.c_str (), -1, nullptr));
}
GST_END_TEST;

GST_START_TEST (test_metrics_live_streams_and_counters)
{
  MetricsSnapshot m;
  m.streams[(size_t) StreamState::live] = 1;
  m.live.push_back ({ "s1", 5, { { "video", 2500000.5, 29.97, 100 }, { "audio", 128000, 46.875, 85 } },
      2 });
  m.live.push_back ({ "s2", 3, {}, 3 });
  m.s3 = { 12, 1, 123456789012ULL, 40, 2 };
  m.s3.latency.observe (300000);     /* 0.3 s */
  m.s3.latency.observe (40000000);   /* 40 s */
  m.s3.latency.observe (90000000);   /* past the last bound */
  m.live[1].s3 = true;
  m.live[1].s3_state = { 17, 31.5, true };
  m.webhooks.delivered = 7;
  m.webhooks.failed = 2;
  m.webhooks.retried = 4;
  m.webhooks.dropped = 1;
  m.rtmp = { 9, 3, 2, 1 };
  m.webrtc = { 11, 4 };
  m.srt = { 8, 5, 2, 1 };
  m.srt_links.push_back ({ "s2", 0.0125, 4200000, 1000, 30, 25, 3, 1316000 });
  std::string text = render_metrics (m);
  for (const char *line : {
        "castline_streams{state=\"live\"} 1",
        "castline_stream_viewers{stream=\"s1\"} 5",
        "castline_stream_bitrate_bits_per_second{stream=\"s1\",kind=\"video\"} 2500000.5",
        "castline_stream_bitrate_bits_per_second{stream=\"s1\",kind=\"audio\"} 128000",
        "castline_stream_frames_per_second{stream=\"s1\",kind=\"video\"} 29.97",
        "castline_stream_health{stream=\"s1\",kind=\"video\"} 100",
        "castline_stream_health{stream=\"s1\",kind=\"audio\"} 85",
        "castline_s3_uploads_total 12",
        "castline_s3_upload_failures_total 1",
        "castline_s3_bytes_uploaded_total 123456789012",
        "castline_s3_request_retries_total 40",
        "castline_s3_outages_total 2",
        "castline_s3_upload_duration_seconds_bucket{le=\"0.01\"} 0",
        "castline_s3_upload_duration_seconds_bucket{le=\"0.25\"} 0",
        "castline_s3_upload_duration_seconds_bucket{le=\"0.5\"} 1",
        "castline_s3_upload_duration_seconds_bucket{le=\"30\"} 1",
        "castline_s3_upload_duration_seconds_bucket{le=\"60\"} 2",
        "castline_s3_upload_duration_seconds_bucket{le=\"+Inf\"} 3",
        "castline_s3_upload_duration_seconds_sum 130.3",
        "castline_s3_upload_duration_seconds_count 3",
        "castline_stream_s3_pending_uploads{stream=\"s2\"} 17",
        "castline_stream_s3_upload_lag_seconds{stream=\"s2\"} 31.5",
        "castline_stream_s3_unavailable{stream=\"s2\"} 1",
        "castline_webhook_deliveries_total 7",
        "castline_webhook_failures_total 2",
        "castline_webhook_retries_total 4",
        "castline_webhook_dropped_total 1",
        "castline_rtmp_connections_accepted_total 9",
        "castline_rtmp_connections_refused_total 3",
        "castline_rtmp_protocol_errors_total 2",
        "castline_rtmp_timeouts_total 1",
        "castline_stream_webrtc_viewers{stream=\"s1\"} 2",
        "castline_stream_webrtc_viewers{stream=\"s2\"} 3",
        "castline_webrtc_viewers 5",
        "castline_webrtc_viewers_admitted_total 11",
        "castline_webrtc_viewers_refused_total 4",
        "castline_srt_connections_accepted_total 8",
        "castline_srt_connections_refused_total 5",
        "castline_srt_not_ts_total 2",
        "castline_srt_timeouts_total 1",
        "castline_srt_rtt_seconds{stream=\"s2\"} 0.0125",
        "castline_srt_receive_bits_per_second{stream=\"s2\"} 4200000",
        "castline_srt_packets_received_total{stream=\"s2\"} 1000",
        "castline_srt_packets_lost_total{stream=\"s2\"} 30",
        "castline_srt_packets_retransmitted_total{stream=\"s2\"} 25",
        "castline_srt_packets_dropped_total{stream=\"s2\"} 3",
        "castline_srt_received_bytes_total{stream=\"s2\"} 1316000" })
    fail_unless (has_line (text, line), "no '%s' in:\n%s", line, text.c_str ());
  /* s1 has no S3 output: no upload gauges of it */
  fail_if (text.find ("castline_stream_s3_pending_uploads{stream=\"s1\"}") != std::string::npos);
  /* s1 is no SRT stream: no link of it */
  fail_if (text.find ("castline_srt_rtt_seconds{stream=\"s1\"}") != std::string::npos);
  /* an audio branch has no frame rate */
  fail_if (text.find ("castline_stream_frames_per_second{stream=\"s1\",kind=\"audio\"}")
      != std::string::npos);

  /* numbers as the format spells them */
  m.live[0].branches[0].bitrate = NAN;
  m.live[0].branches[1].bitrate = INFINITY;
  text = render_metrics (m);
  fail_unless (has_line (text,
          "castline_stream_bitrate_bits_per_second{stream=\"s1\",kind=\"video\"} NaN"));
  fail_unless (has_line (text,
          "castline_stream_bitrate_bits_per_second{stream=\"s1\",kind=\"audio\"} +Inf"));
}
GST_END_TEST;

/* s3hlssink's upload-latency-* stats as the launcher reads them */
static GstStructure *
latency_stats (guint n_buckets)
{
  GstStructure *s = gst_structure_new ("s3hlssink-stats",
      "upload-latency-count", G_TYPE_UINT64, (guint64) 4,
      "upload-latency-sum", G_TYPE_UINT64, (guint64) 3 * GST_SECOND, NULL);
  GValue buckets = G_VALUE_INIT;
  gst_value_array_init (&buckets, n_buckets);
  for (guint i = 0; i < n_buckets; i++) {
    GValue v = G_VALUE_INIT;
    g_value_init (&v, G_TYPE_UINT64);
    g_value_set_uint64 (&v, i < 5 ? 0 : 4);
    gst_value_array_append_and_take_value (&buckets, &v);
  }
  gst_structure_take_value (s, "upload-latency-buckets", &buckets);
  return s;
}

GST_START_TEST (test_metrics_upload_latency_from_stats)
{
  g_autoptr (GstStructure) s = latency_stats (castline::s3::kUploadLatencyBounds.size ());
  S3Counters c = S3Counters::from_stats (s);
  fail_unless_equals_uint64 (c.latency.count, 4);
  fail_unless_equals_uint64 (c.latency.sum_us, 3000000);
  fail_unless_equals_uint64 (c.latency.buckets[4], 0);
  fail_unless_equals_uint64 (c.latency.buckets[5], 4);
  c += c;
  fail_unless_equals_uint64 (c.latency.buckets[5], 8);
  fail_unless_equals_uint64 (c.latency.count, 8);

  /* buckets of other bounds: ignored, count and sum kept */
  g_autoptr (GstStructure) other = latency_stats (3);
  c = S3Counters::from_stats (other);
  fail_unless_equals_uint64 (c.latency.count, 4);
  for (guint64 n : c.latency.buckets)
    fail_unless_equals_uint64 (n, 0);
  /* no stats: zeros */
  fail_unless_equals_uint64 (S3Counters::from_stats (nullptr).latency.count, 0);
}
GST_END_TEST;

GST_START_TEST (test_metrics_label_values_are_escaped)
{
  assert_str_eq (escape_label_value ("plain-id"), "plain-id");
  assert_str_eq (escape_label_value ("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  assert_str_eq (escape_label_value ("été"), "été");

  MetricsSnapshot m;
  m.live.push_back ({ "x\"}\nevil 1", 1, {}, 0 });
  std::string text = render_metrics (m);
  fail_unless (has_line (text, "castline_stream_viewers{stream=\"x\\\"}\\nevil 1\"} 1"), "%s",
      text.c_str ());
  fail_if (has_line (text, "evil 1\"} 1"), "a label value broke out of its line");
}
GST_END_TEST;

static Suite *
viewercounter_suite (void)
{
  Suite *s = suite_create ("viewercounter");
  TCase *tc = tcase_create ("viewers");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_playlist_viewer_counts_for_the_window);
  tcase_add_test (tc, test_playlist_viewer_is_address_and_user_agent);
  tcase_add_test (tc, test_heartbeat_viewers_by_id);
  tcase_add_test (tc, test_at_most_max_viewers_the_oldest_go);
  tcase_add_test (tc, test_prune_drops_expired_entries_and_empty_streams);
  TCase *tm = tcase_create ("metrics");
  suite_add_tcase (s, tm);
  tcase_add_test (tm, test_metrics_every_family_and_state);
  tcase_add_test (tm, test_metrics_live_streams_and_counters);
  tcase_add_test (tm, test_metrics_label_values_are_escaped);
  tcase_add_test (tm, test_metrics_upload_latency_from_stats);
  return s;
}

GST_CHECK_MAIN (viewercounter);
