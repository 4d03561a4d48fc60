/* StatsHistory, the 15 minutes the pages chart: samples bounded in count
 * and time, streams forgotten, interruption marks (and the gaps they put
 * in the lines), the `history` event's JSON, samples of live_stats. */
#include "notify/statshistory.h"

#include "../assertions.h"

#include <json-glib/json-glib.h>

#include <gst/check/gstcheck.h>

#include <string>

using namespace castline::launcher;

static constexpr gint64 kT0 = 1765100000000;     /* unix ms */
static constexpr gint64 kSecond = 1000;

static StatsSample
sample_at (gint64 t, double bitrate = 2e6)
{
  StatsSample s;
  s.time_ms = t;
  s.bitrate = bitrate;
  s.fps = 30;
  s.keyframe_interval = 2;
  s.health = 100;
  s.viewers = 1;
  return s;
}

/* the history event's data, parsed; its series member */
static JsonObject *
parse (const std::string & text, JsonParser ** parser)
{
  GError *error = nullptr;
  *parser = json_parser_new ();
  fail_unless (json_parser_load_from_data (*parser, text.c_str (), -1, &error), "not JSON: %s\n%s",
      error ? error->message : "", text.c_str ());
  return json_node_get_object (json_parser_get_root (*parser));
}

GST_START_TEST (test_samples_are_bounded)
{
  StatsHistory h;
  /* a sample every second, far more often than kIntervalMs */
  for (int i = 0; i < 3000; i++)
    h.add ("s1", sample_at (kT0 + i * kSecond));
  fail_unless_equals_int (h.samples ("s1"), StatsHistory::kMaxSamples);
  fail_unless_equals_int (StatsHistory::kMaxSamples, 181);
  /* the newest kept */
  g_autoptr (JsonParser) p = nullptr;
  JsonObject *o = parse (h.json ("s1", kT0 + 3000 * kSecond), &p);
  JsonArray *t = json_object_get_array_member (json_object_get_object_member (o, "series"), "t");
  fail_unless_equals_int (json_array_get_length (t), 181);
  fail_unless_equals_float (json_array_get_double_element (t, 180), (kT0 + 2999 * kSecond) / 1000.0);
}
GST_END_TEST;

GST_START_TEST (test_window_is_15_minutes)
{
  StatsHistory h;
  /* 20 minutes, a sample every 5 s */
  gint64 now = kT0;
  for (int i = 0; i < 240; i++, now += StatsHistory::kIntervalMs)
    h.add ("s1", sample_at (now));
  h.mark ("s1", kT0, StreamState::live);
  h.prune (now);
  /* 15 minutes of 5 s samples: 180, the oldest no older than the window */
  fail_unless_equals_int (h.samples ("s1"), 180);
  fail_unless_equals_int (h.marks ("s1"), 0);      /* went live 20 minutes ago */
  g_autoptr (JsonParser) p = nullptr;
  JsonObject *o = parse (h.json ("s1", now), &p);
  JsonArray *t = json_array_ref (json_object_get_array_member (json_object_get_object_member (o, "series"), "t"));
  fail_unless (json_array_get_double_element (t, 0) >= (now - StatsHistory::kWindowMs) / 1000.0);
  json_array_unref (t);
  fail_unless_equals_int (json_object_get_int_member (o, "window"), 900);
  fail_unless_equals_int (json_object_get_int_member (o, "interval"), 5);

  /* a stream with nothing left in the window is forgotten */
  h.add ("old", sample_at (now - StatsHistory::kWindowMs - kSecond));
  h.mark ("old", now - StatsHistory::kWindowMs - kSecond, StreamState::ended);
  fail_unless_equals_int (h.streams (), 2);
  h.prune (now);
  fail_unless_equals_int (h.streams (), 1);
  fail_if (h.has ("old"));
  h.prune (now + StatsHistory::kWindowMs + kSecond);
  fail_unless_equals_int (h.streams (), 0);
  /* and an unknown one is an empty history, not an error */
  assert_has (h.json ("nosuch", now), "\"series\":{\"t\":[],\"bitrate\":[]");
  assert_has (h.json ("nosuch", now), "\"marks\":[]");
}
GST_END_TEST;

GST_START_TEST (test_interruptions_are_marked)
{
  StatsHistory h;
  h.mark ("s1", kT0, StreamState::created);         /* not a moment a chart shows */
  fail_if (h.has ("s1"));
  h.mark ("s1", kT0, StreamState::live);
  h.add ("s1", sample_at (kT0 + 5 * kSecond));
  h.add ("s1", sample_at (kT0 + 10 * kSecond));
  h.mark ("s1", kT0 + 12 * kSecond, StreamState::interrupted, "the publisher's connection was lost");
  h.mark ("s1", kT0 + 13 * kSecond, StreamState::interrupted, "again");     /* the same state */
  h.mark ("s1", kT0 + 20 * kSecond, StreamState::live);
  h.add ("s1", sample_at (kT0 + 25 * kSecond));
  h.mark ("s1", kT0 + 30 * kSecond, StreamState::ended);
  fail_unless_equals_int (h.marks ("s1"), 4);
  /* the gaps: where it stopped being live, so lines break there */
  fail_unless_equals_int (h.samples ("s1"), 5);

  std::string text = h.json ("s1", kT0 + 31 * kSecond);
  assert_has (text, "{\"t\":1765100012,\"state\":\"interrupted\",\"reason\":\"the publisher's connection was lost\"}");
  assert_has (text, "{\"t\":1765100000,\"state\":\"live\",\"reason\":null}");
  assert_has (text, "{\"t\":1765100030,\"state\":\"ended\",\"reason\":null}");
  assert_lacks (text, "again");
  assert_has (text, "\"t\":[1765100005,1765100010,1765100012,1765100025,1765100030]");
  assert_has (text, "\"bitrate\":[2000000,2000000,null,2000000,null]");
  g_autoptr (JsonParser) p = nullptr;
  JsonObject *o = parse (text, &p);
  fail_unless_equals_int (json_array_get_length (json_object_get_array_member (o, "marks")), 4);

  /* a publisher that flaps: the marks stay bounded */
  for (int i = 0; i < 500; i++)
    h.mark ("s2", kT0 + i * kSecond, i % 2 ? StreamState::interrupted : StreamState::live, "lost");
  fail_unless_equals_int (h.marks ("s2"), StatsHistory::kMaxMarks);
}
GST_END_TEST;

GST_START_TEST (test_times_never_go_back)
{
  StatsHistory h;
  h.add ("s1", sample_at (kT0 + 10 * kSecond));
  h.add ("s1", sample_at (kT0 + 4 * kSecond));      /* the wall clock stepped back */
  h.mark ("s1", kT0 + 20 * kSecond, StreamState::live);
  h.mark ("s1", kT0 + 2 * kSecond, StreamState::interrupted);
  assert_has (h.json ("s1", kT0), "\"t\":[1765100010,1765100010,1765100020]");
  assert_has (h.json ("s1", kT0), "{\"t\":1765100020,\"state\":\"interrupted\"");
}
GST_END_TEST;

GST_START_TEST (test_numbers_are_short)
{
  StatsHistory h;
  StatsSample s = sample_at (kT0 + 1234, 1234567.89);
  s.fps = 29.97002997;
  s.keyframe_interval = 2.0;
  s.health = 85;
  s.viewers = 3;
  h.add ("s1", s);
  StatsSample unknown;
  unknown.time_ms = kT0 + 5000;
  unknown.viewers = 0;
  h.add ("s1", unknown);
  std::string text = h.json ("s1", kT0 + 6000);
  assert_has (text, "\"now\":1765100006,");
  assert_has (text, "\"t\":[1765100001.234,1765100005]");
  assert_has (text, "\"bitrate\":[1234568,null]");
  assert_has (text, "\"fps\":[29.97,null]");
  assert_has (text, "\"keyframe_interval\":[2,null]");
  assert_has (text, "\"health\":[85,null]");
  assert_has (text, "\"viewers\":[3,0]");
  /* a reason is JSON-escaped */
  h.mark ("s1", kT0, StreamState::failed, "a \"quoted\"\nreason");
  assert_has (h.json ("s1", kT0), "\"reason\":\"a \\\"quoted\\\"\\nreason\"");
}
GST_END_TEST;

GST_START_TEST (test_sample_of_live_stats)
{
  g_autoptr (GstStructure) video = gst_structure_new ("viewerstats", "bitrate", G_TYPE_DOUBLE, 1.5e6,
      "fps", G_TYPE_DOUBLE, 29.5, "keyframe-interval", G_TYPE_DOUBLE, 2.0, "health", G_TYPE_UINT, 90u,
      nullptr);
  g_autoptr (GstStructure) audio = gst_structure_new ("viewerstats", "bitrate", G_TYPE_DOUBLE, 1.28e5,
      "fps", G_TYPE_DOUBLE, 50.0, "keyframe-interval", G_TYPE_DOUBLE, 0.02, "health", G_TYPE_UINT, 70u,
      nullptr);
  g_autoptr (GstStructure) stats = gst_structure_new ("stream-stats", "video", GST_TYPE_STRUCTURE, video,
      "audio", GST_TYPE_STRUCTURE, audio, nullptr);
  StatsSample s = stats_sample (stats, 4, kT0);
  fail_unless_equals_int64 (s.time_ms, kT0);
  fail_unless_equals_float (s.bitrate, 1.628e6);     /* every branch */
  fail_unless_equals_float (s.fps, 29.5);            /* the video's */
  fail_unless_equals_float (s.keyframe_interval, 2.0);
  fail_unless_equals_float (s.health, 70);           /* the worst branch */
  fail_unless_equals_float (s.viewers, 4);

  /* audio only: no frame rate, no keyframe interval */
  g_autoptr (GstStructure) audio_only = gst_structure_new ("stream-stats", "audio", GST_TYPE_STRUCTURE,
      audio, nullptr);
  s = stats_sample (audio_only, 0, kT0);
  fail_unless_equals_float (s.bitrate, 1.28e5);
  fail_if (std::isfinite (s.fps) || std::isfinite (s.keyframe_interval));

  /* before two keyframes the interval is 0: not known yet */
  gst_structure_set (video, "keyframe-interval", G_TYPE_DOUBLE, 0.0, nullptr);
  g_autoptr (GstStructure) early = gst_structure_new ("stream-stats", "video", GST_TYPE_STRUCTURE, video,
      nullptr);
  fail_if (std::isfinite (stats_sample (early, 0, kT0).keyframe_interval));

  /* no stats yet: only the viewers */
  g_autoptr (GstStructure) none = gst_structure_new_empty ("stream-stats");
  s = stats_sample (none, 2, kT0);
  fail_if (std::isfinite (s.bitrate) || std::isfinite (s.health));
  fail_unless_equals_float (s.viewers, 2);
}
GST_END_TEST;

static Suite *
statshistory_suite (void)
{
  Suite *s = suite_create ("statshistory");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_samples_are_bounded);
  tcase_add_test (tc, test_window_is_15_minutes);
  tcase_add_test (tc, test_interruptions_are_marked);
  tcase_add_test (tc, test_times_never_go_back);
  tcase_add_test (tc, test_numbers_are_short);
  tcase_add_test (tc, test_sample_of_live_stats);
  return s;
}

GST_CHECK_MAIN (statshistory);
