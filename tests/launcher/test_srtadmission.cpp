/* What an SRT caller is told (ingest/srt/srtadmission.h): the stream found
 * from its stream id's key, then the one admission path's refusals as
 * SRT_REJX_* codes; the codecs the probe read as what the caller sends;
 * the URLs handed out; the link statistics in the stream's stats and in
 * /metrics. */
#include "api/streamviews.h"
#include "ingest/srt/srtadmission.h"
#include "ingest/srt/srturls.h"
#include "notify/metrics.h"
#include "routetest.h"
#include "streams/livestats.h"

#include <gst/check/gstcheck.h>
#include <srt/access_control.h>

using namespace castline::launcher;
using namespace routetest;
using castline::srt::Verdict;

namespace {

/* a caller that sends nothing, with a link as srtserversrc's stats give
 * it (link: nullptr for a protocol with none) */
class LinkIngest : public Ingest {
 public:
  explicit LinkIngest (GstStructure * link = nullptr) : link_ (link) {}
  ~LinkIngest () override
  {
    if (link_)
      gst_structure_free (link_);
  }
  const char *kind () const override { return "srt"; }
  const PublisherMedia & media () const override { return media_; }
  bool attach (StreamPipeline &, const std::string &, const std::string &, Hooks,
      std::string &) override { return true; }
  void request_keyframe () override {}
  GstStructure *link_stats () const override { return link_ ? gst_structure_copy (link_) : nullptr; }

 private:
  PublisherMedia media_ = media_of_srt_codecs ("h264", "aac");
  GstStructure *link_;
};

GstStructure *
a_link ()
{
  return gst_structure_new ("srt", "rtt-ms", G_TYPE_DOUBLE, 12.5, "receive-rate-mbps",
      G_TYPE_DOUBLE, 4.2, "latency-ms", G_TYPE_UINT, 120u, "packets-received", G_TYPE_UINT64,
      (guint64) 1000, "packets-lost", G_TYPE_UINT64, (guint64) 30, "packets-retransmitted",
      G_TYPE_UINT64, (guint64) 25, "packets-dropped", G_TYPE_UINT64, (guint64) 3,
      "bytes-received", G_TYPE_UINT64, (guint64) 1316000, nullptr);
}

void
end_all (StreamManager & m, const std::string & id)
{
  m.end (id);
  iterate_until ([&m] { return m.live_count () == 0; });
}

}  // namespace

GST_START_TEST (test_a_free_stream_is_accepted)
{
  auto m = make_manager ();
  Created s = create (*m);
  std::string id;
  Verdict v = check_srt_caller (*m, s.key, id);
  fail_if (v.refused (), "%d %s", v.code, v.reason.c_str ());
  fail_unless (id == s.id);
}
GST_END_TEST;

GST_START_TEST (test_an_unknown_key_is_unauthorized)
{
  auto m = make_manager ();
  Created s = create (*m);
  for (std::string key : { std::string ("nope"), std::string (), s.id, s.key + "x" }) {
    std::string id = "x";
    Verdict v = check_srt_caller (*m, key, id);
    fail_unless_equals_int (v.code, SRT_REJX_UNAUTHORIZED);
    fail_unless_equals_int (v.code, 1401);
    fail_unless (id.empty ());
    fail_if (!key.empty () && v.reason.find (key) != std::string::npos);
  }
}
GST_END_TEST;

GST_START_TEST (test_an_ended_stream_is_not_found)
{
  auto m = make_manager ();
  Created s = create (*m);
  fail_unless (m->end (s.id));
  std::string id;
  Verdict v = check_srt_caller (*m, s.key, id);
  fail_unless_equals_int (v.code, 1404);
  fail_unless (v.reason == "the stream has ended", "%s", v.reason.c_str ());
  fail_unless (id == s.id);
}
GST_END_TEST;

GST_START_TEST (test_a_live_stream_is_a_conflict)
{
  auto m = make_manager ();
  Created s = create (*m);
  Refusal refusal;
  fail_unless (m->admit (s.id, s.key, std::make_unique<LinkIngest> (), refusal), "%s",
      refusal.reason.c_str ());
  std::string id;
  Verdict v = check_srt_caller (*m, s.key, id);
  fail_unless_equals_int (v.code, 1409);
  fail_unless (v.reason == "the stream already has a publisher", "%s", v.reason.c_str ());
  end_all (*m, s.id);
}
GST_END_TEST;

GST_START_TEST (test_the_live_limit_is_overload)
{
  Config c = test_config ();
  c.max_live_streams = 1;
  auto m = make_manager (c);
  Created a = create (*m), b = create (*m);
  Refusal refusal;
  fail_unless (m->admit (a.id, a.key, std::make_unique<LinkIngest> (), refusal));
  std::string id;
  Verdict v = check_srt_caller (*m, b.key, id);
  fail_unless_equals_int (v.code, 1402);
  fail_unless (v.reason == "the limit of live streams is reached");
  end_all (*m, a.id);
}
GST_END_TEST;

GST_START_TEST (test_shutting_down_is_overload)
{
  auto m = make_manager ();
  Created s = create (*m);
  m->shutdown ([] {});
  std::string id;
  Verdict v = check_srt_caller (*m, s.key, id);
  fail_unless_equals_int (v.code, SRT_REJX_OVERLOAD);
  fail_unless (v.reason == "the server is shutting down");
}
GST_END_TEST;

/* HEVC (or MP3, AC-3, LATM): no shipped pipeline takes it, and the log
 * says which codec was refused; the caller hears 1406 */
GST_START_TEST (test_a_codec_no_pipeline_takes_is_unacceptable)
{
  auto m = make_manager ();
  Created s = create (*m);
  for (auto [video, audio] : { std::pair<const char *, const char *> { "h265", "aac" },
           { "h264", "ac3" }, { "h264", "aac-latm" }, { "h264", "mp3" }, { "mpeg2", "" } }) {
    class Media : public LinkIngest {
     public:
      Media (const char *v, const char *a) : media_ (media_of_srt_codecs (v, a)) {}
      const PublisherMedia & media () const override { return media_; }
      PublisherMedia media_;
    };
    Refusal refusal;
    fail_if (m->admit (s.id, s.key, std::make_unique<Media> (video, audio), refusal), "%s %s",
        video, audio);
    Verdict v = srt_verdict_of (refusal, nullptr);
    fail_unless_equals_int (v.code, SRT_REJX_UNACCEPTABLE);
    std::string named = std::string (video) == "h265" ? video : *audio ? audio : video;
    fail_unless (v.reason.find (named) != std::string::npos, "%s", v.reason.c_str ());
    fail_unless (m->get (s.id)->state == StreamState::created);
  }
}
GST_END_TEST;

GST_START_TEST (test_refusals_map_to_reject_reasons)
{
  fail_if (srt_verdict_of ({}, nullptr).refused ());
  fail_unless_equals_int (srt_verdict_of ({ 401, "x" }, nullptr).code, 1401);
  StreamRecord r;
  r.state = StreamState::live;
  fail_unless_equals_int (srt_verdict_of ({ 409, "why" }, &r).code, 1409);
  r.state = StreamState::failed;
  fail_unless_equals_int (srt_verdict_of ({ 409, "why" }, &r).code, 1404);
  r.state = StreamState::ended;
  fail_unless_equals_int (srt_verdict_of ({ 409, "why" }, &r).code, 1404);
  fail_unless (srt_verdict_of ({ 409, "why" }, &r).reason == "why");
  fail_unless_equals_int (srt_verdict_of ({ 503, "why" }, nullptr).code, 1402);
  fail_unless_equals_int (srt_verdict_of ({ 406, "why" }, nullptr).code, 1406);
  fail_unless_equals_int (srt_verdict_of ({ 500, "why" }, nullptr).code, SRT_REJX_ISE);
}
GST_END_TEST;

GST_START_TEST (test_media_of_codecs)
{
  PublisherMedia m = media_of_srt_codecs ("h264", "aac");
  fail_unless (m.video_codecs == std::vector<std::string> { "h264" });
  fail_unless (m.audio_codecs == std::vector<std::string> { "aac" });
  m = media_of_srt_codecs ("", "opus");
  fail_unless (m.video_codecs.empty () && m.audio_codecs == std::vector<std::string> { "opus" });
}
GST_END_TEST;

GST_START_TEST (test_urls)
{
  Config c = default_config ();
  fail_unless (srt_server_url (c) == "srt://127.0.0.1:8890", "%s", srt_server_url (c).c_str ());
  fail_unless (srt_url (srt_server_url (c), "k3y") == "srt://127.0.0.1:8890?streamid=k3y");
  c.host = "0.0.0.0";
  c.srt.port = 9000;
  fail_unless (srt_server_url (c) == "srt://127.0.0.1:9000");
  c.srt.host = "192.0.2.1";
  fail_unless (srt_server_url (c) == "srt://192.0.2.1:9000");
  c.srt.host = "::";
  fail_unless (srt_server_url (c) == "srt://[::1]:9000");
  /* what the API's other URLs name wins */
  c.public_url = "https://live.example:8443/";
  fail_unless (srt_server_url (c) == "srt://live.example:9000");
  c.srt.port = 0;
  fail_unless (srt_server_url (c).empty ());
  fail_unless (srt_url ("", "k3y").empty ());
}
GST_END_TEST;

/* the URL with the key only where the key is shown; the server in the
 * admin view; nothing of SRT in the public status */
GST_START_TEST (test_views_give_the_srt_url_with_the_key_only)
{
  auto m = make_manager ();
  ViewerCounter viewers (ViewerCounter::settings_for (2));
  StreamViews views (*m, viewers);
  Created s = create (*m);
  auto r = m->get (s.id);
  fail_if (views.stream_json (*r, s.key).find ("srt") != std::string::npos,
      "SRT URLs without an SRT port");
  views.set_srt_server ("srt://h:8890");
  std::string created = views.stream_json (*r, s.key);
  for (std::string member : { "\"srt_url\":\"srt://h:8890?streamid=" + s.key + "\"",
           std::string ("\"srt_server\":\"srt://h:8890\"") })
    fail_unless (created.find (member) != std::string::npos, "no %s in %s", member.c_str (),
        created.c_str ());
  std::string later = views.stream_json (*r);
  fail_unless (later.find ("\"srt_server\"") != std::string::npos);
  fail_if (later.find ("srt_url") != std::string::npos, "%s", later.c_str ());
  fail_if (later.find (s.key) != std::string::npos);
  fail_if (views.status_json (*r).find ("srt") != std::string::npos);
}
GST_END_TEST;

/* stats.srt while live, from the ingest's link_stats; nothing of it for
 * an ingest without one */
GST_START_TEST (test_stats_carry_the_link)
{
  auto m = make_manager ();
  ViewerCounter viewers (ViewerCounter::settings_for (2));
  StreamViews views (*m, viewers);
  Created s = create (*m), plain = create (*m);
  Refusal refusal;
  fail_unless (m->admit (s.id, s.key, std::make_unique<LinkIngest> (a_link ()), refusal), "%s",
      refusal.reason.c_str ());
  fail_unless (m->admit (plain.id, plain.key, std::make_unique<LinkIngest> (), refusal));
  g_autoptr (GstStructure) stats = live_stats (*m->live (s.id));
  const GstStructure *link = gst_structure_get_value (stats, "srt")
      ? gst_value_get_structure (gst_structure_get_value (stats, "srt")) : nullptr;
  fail_unless (link != nullptr);
  guint64 lost = 0;
  fail_unless (gst_structure_get_uint64 (link, "packets-lost", &lost) && lost == 30);
  std::string json = views.stream_json (*m->get (s.id));
  for (const char *member : { "\"srt\":{", "\"rtt-ms\":12.5", "\"packets-retransmitted\":25",
           "\"bytes-received\":1316000", "\"latency-ms\":120" })
    fail_unless (json.find (member) != std::string::npos, "no %s in %s", member, json.c_str ());
  fail_if (views.stream_json (*m->get (plain.id)).find ("\"srt\":{") != std::string::npos);

  /* /metrics: the live SRT stream's link, not the other one's */
  MetricsCollector collector (*m, viewers);
  collector.set_srt_stats ([] { return SrtMetrics { 4, 3, 2, 1 }; });
  MetricsSnapshot snap = collector.snapshot (g_get_monotonic_time ());
  fail_unless_equals_int (snap.srt.refused, 3);
  fail_unless_equals_int ((int) snap.srt_links.size (), 1);
  const SrtLinkMetrics & l = snap.srt_links[0];
  fail_unless (l.id == s.id);
  fail_unless (l.rtt_seconds == 0.0125 && l.receive_rate_bits == 4.2e6, "%f %f", l.rtt_seconds,
      l.receive_rate_bits);
  fail_unless (l.packets_received == 1000 && l.packets_lost == 30 && l.packets_retransmitted == 25
      && l.packets_dropped == 3 && l.bytes_received == 1316000);
  std::string text = render_metrics (snap);
  fail_unless (text.find ("castline_srt_packets_lost_total{stream=\"" + s.id + "\"} 30")
      != std::string::npos, "%s", text.c_str ());
  m->end (s.id);
  end_all (*m, plain.id);
}
GST_END_TEST;

static Suite *
srtadmission_suite ()
{
  Suite *s = suite_create ("srtadmission");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_a_free_stream_is_accepted);
  tcase_add_test (tc, test_an_unknown_key_is_unauthorized);
  tcase_add_test (tc, test_an_ended_stream_is_not_found);
  tcase_add_test (tc, test_a_live_stream_is_a_conflict);
  tcase_add_test (tc, test_the_live_limit_is_overload);
  tcase_add_test (tc, test_shutting_down_is_overload);
  tcase_add_test (tc, test_a_codec_no_pipeline_takes_is_unacceptable);
  tcase_add_test (tc, test_refusals_map_to_reject_reasons);
  tcase_add_test (tc, test_media_of_codecs);
  tcase_add_test (tc, test_urls);
  tcase_add_test (tc, test_views_give_the_srt_url_with_the_key_only);
  tcase_add_test (tc, test_stats_carry_the_link);
  return s;
}

GST_CHECK_MAIN (srtadmission);
