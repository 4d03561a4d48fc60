/* The abr ladder without a pipeline: which rungs an input gets, the codec
 * string from an SPS, the master playlist, the ladder's checks, when an
 * input's size has settled, and the configuration keys that set it. */
#include "hls/abrladder.h"
#include "hls/segmentcuts.h"
#include "hls/sizesettle.h"
#include "../assertions.h"
#include "config/config.h"

#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>

#include <cstring>
#include <string>
#include <vector>

using namespace castline::launcher;


namespace {

std::string
describe (const std::vector<RungPlan> & plans)
{
  std::string s;
  for (const RungPlan & p : plans)
    s += (s.empty () ? "" : " ") + p.rung.name + "=" + std::to_string (p.width) + "x"
        + std::to_string (p.height) + (p.passthrough ? "(in)" : "") + (p.top ? "(top)" : "");
  return s;
}

GST_START_TEST (test_rungs_at_or_below_the_input)
{
  auto ladder = default_ladder ();
  assert_str_eq (describe (select_rungs (ladder, 1280, 720, 1, 1, true)),
      "720p=1280x720(in)(top) 480p=854x480 360p=640x360");
  assert_str_eq (describe (select_rungs (ladder, 1280, 720, 1, 1, false)),
      "720p=1280x720(top) 480p=854x480 360p=640x360");
  assert_str_eq (describe (select_rungs (ladder, 1920, 1080, 1, 1, false)),
      "1080p=1920x1080(top) 720p=1280x720 480p=854x480 360p=640x360");
  /* 4:3, and between two rungs: the passthrough top keeps its own size */
  assert_str_eq (describe (select_rungs (ladder, 640, 480, 1, 1, false)),
      "480p=640x480(top) 360p=480x360");
  assert_str_eq (describe (select_rungs (ladder, 1000, 600, 1, 1, true)),
      "480p=1000x600(in)(top) 360p=600x360");
}
GST_END_TEST;

GST_START_TEST (test_small_input_is_never_upscaled)
{
  auto ladder = default_ladder ();
  assert_str_eq (describe (select_rungs (ladder, 320, 240, 1, 1, false)),
      "360p=320x240(top)");
  assert_str_eq (describe (select_rungs (ladder, 320, 240, 1, 1, true)),
      "360p=320x240(in)(top)");
  fail_unless (select_rungs (ladder, 0, 0, 1, 1, true).empty ());
}
GST_END_TEST;

GST_START_TEST (test_width_follows_the_display_aspect_ratio)
{
  /* anamorphic 1440x1080 at 4:3 pixels is 16:9 */
  auto plans = select_rungs (default_ladder (), 1440, 1080, 4, 3, false);
  assert_str_eq (describe (plans),
      "1080p=1920x1080(top) 720p=1280x720 480p=854x480 360p=640x360");
  /* widths are even */
  for (const RungPlan & p : select_rungs (default_ladder (), 1366, 768, 1, 1, false))
    fail_unless_equals_uint64 (p.width % 2, 0);
}
GST_END_TEST;

GST_START_TEST (test_codec_from_the_sps)
{
  const guint8 idr[] = { 0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x4d, 0x40, 0x1f, 0xab, 0xcd,
    0, 0, 1, 0x68, 0xee };
  assert_str_eq (avc1_codec_from_byte_stream (idr, sizeof idr), "avc1.4d401f");
  const guint8 browser[] = { 0, 0, 1, 0x27, 0x42, 0xe0, 0x1f, 0x00 };
  assert_str_eq (avc1_codec_from_byte_stream (browser, sizeof browser),
      "avc1.42e01f");
  const guint8 none[] = { 0, 0, 1, 0x41, 0x9a, 0x00, 0x00, 0x00 };
  assert_str_eq (avc1_codec_from_byte_stream (none, sizeof none), "");
  assert_str_eq (avc1_codec_from_byte_stream (idr, 8), "");   /* cut short */
}
GST_END_TEST;

GST_START_TEST (test_master_playlist)
{
  auto plans = select_rungs (default_ladder (), 1280, 720, 1, 1, true);
  std::vector<Variant> v = { { plans[0], "avc1.64001f", true, 30, 1 },
    { plans[1], "avc1.4d401e", true, 30000, 1001 }, { plans[2], "avc1.4d401e", false, 0, 1 } };
  std::string m = render_master_playlist (v);
  assert_str_eq (m,
      "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=2194500,AVERAGE-BANDWIDTH=1755600,RESOLUTION=1280x720,"
      "CODECS=\"avc1.64001f,mp4a.40.2\",FRAME-RATE=30.000\n720p/index.m3u8\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=1188000,AVERAGE-BANDWIDTH=950400,RESOLUTION=854x480,"
      "CODECS=\"avc1.4d401e,mp4a.40.2\",FRAME-RATE=29.970\n480p/index.m3u8\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=550000,AVERAGE-BANDWIDTH=440000,RESOLUTION=640x360,"
      "CODECS=\"avc1.4d401e\"\n360p/index.m3u8\n");
}
GST_END_TEST;

GST_START_TEST (test_rung_graph_forces_aligned_keyframes)
{
  auto plans = select_rungs (default_ladder (), 1280, 720, 1, 1, true);
  RungGraph top = rung_graph (plans[0]);
  assert_lacks (top.video, "x264enc");    /* the input as it is */
  assert_has (top.video, "viewerstats name=video_stats");
  assert_has (top.audio, "avenc_aac bitrate=96000");
  RungGraph low = rung_graph (plans[2]);
  assert_has (low.video, "width=640,height=360");
  assert_has (low.video, "bitrate=400");
  assert_has (low.video, "speed-preset=veryfast tune=zerolatency");
  assert_has (low.video, "scenecut=0:keyint=infinite");
  assert_lacks (low.video, "video_stats");
  assert_has (rung_graph (plans[2], 60).video, "keyint=60");
}
GST_END_TEST;

GST_START_TEST (test_ladder_checks)
{
  std::string error;
  fail_unless (validate_ladder (default_ladder (), error));
  std::vector<std::vector<Rung>> bad = {
    {},
    { { "a/b", 360, 400, 64 } },
    { { "..", 360, 400, 64 } },
    { { "x", 360, 400, 64 }, { "x", 480, 800, 64 } },
    { { "x", 360, 400, 64 }, { "y", 360, 800, 64 } },
    { { "x", 100, 400, 64 } },
    { { "x", 360, 10, 64 } },
    { { "x", 360, 400, 1000 } },
  };
  for (auto & l : bad) {
    error.clear ();
    fail_if (validate_ladder (l, error));
    fail_if (error.empty ());
  }
}
GST_END_TEST;

GST_START_TEST (test_rung_size_never_above_the_input)
{
  Rung r { "720p", 720, 1500, 96 };
  unsigned w, h;
  rung_size_for_input (r, 1920, 1080, 1, 1, w, h);
  fail_unless (w == 1280 && h == 720);
  /* the input shrank below the rung: its own size, not upscaled */
  rung_size_for_input (r, 320, 180, 1, 1, w, h);
  fail_unless (w == 320 && h == 180);
  rung_size_for_input (r, 641, 361, 1, 1, w, h);
  fail_unless (w == 640 && h == 360);
}
GST_END_TEST;

GST_START_TEST (test_size_settles)
{
  const gint64 s = G_USEC_PER_SEC;
  SizeSettle none;
  fail_if (none.settled (0));             /* no size seen yet */
  none.saw (320, 180, 0);
  fail_unless (none.settled (0));         /* no settle time: the first size */

  SizeSettle settle (4 * s);
  settle.saw (320, 180, 0);
  fail_if (settle.settled (3 * s));
  settle.saw (320, 180, 3 * s);           /* the same size: no change */
  fail_unless (settle.settled (4 * s));

  /* a publisher that grows: 4 s after its last change */
  SizeSettle growing (4 * s);
  growing.saw (320, 180, 0);
  growing.saw (640, 360, 2 * s);
  fail_if (growing.settled (5 * s));
  growing.saw (1280, 720, 5 * s);
  fail_if (growing.settled (7 * s));
  /* one that never settles: twice the settle time after the first size */
  growing.saw (640, 360, 7 * s);
  fail_unless (growing.settled (8 * s));
}
GST_END_TEST;

GST_START_TEST (test_segment_cuts)
{
  SegmentCuts cuts (2 * GST_SECOND);
  fail_unless (cuts.keyframe (10 * GST_SECOND));       /* the first */
  fail_if (cuts.keyframe (11 * GST_SECOND));
  /* a target duration, give or take a tenth */
  fail_unless (cuts.keyframe (11800 * GST_MSECOND));
  fail_if (cuts.wanted ());
  /* a rung added: a cut at the next keyframe, whenever it comes */
  cuts.cut_at_next ();
  fail_unless (cuts.wanted ());
  fail_unless (cuts.keyframe (12 * GST_SECOND));
  fail_if (cuts.wanted ());
  fail_if (cuts.keyframe (13 * GST_SECOND));

  /* a sink's splitmuxsink stops cutting by itself */
  g_autoptr (GstElement) sink = gst_element_factory_make ("hlssink2", nullptr);
  fail_unless (sink != nullptr, "no hlssink2 (gst-plugins-bad)");
  {
    gst_object_ref_sink (sink);
    fail_unless (cuts.add (sink));
    fail_unless (cuts.wanted ());                      /* its first keyframe */
    GstIterator *it = gst_bin_iterate_all_by_element_factory_name (GST_BIN (sink), "splitmuxsink");
    GValue v = G_VALUE_INIT;
    fail_unless (gst_iterator_next (it, &v) == GST_ITERATOR_OK);
    guint64 max_time = 1;
    g_object_get (g_value_get_object (&v), "max-size-time", &max_time, nullptr);
    fail_unless_equals_uint64 (max_time, 0);
    g_value_unset (&v);
    gst_iterator_free (it);
    cuts.keyframe (20 * GST_SECOND);
    fail_if (cuts.wanted ());
  }
  g_autoptr (GstElement) bin = gst_bin_new (nullptr);
  fail_if (cuts.add (bin));                            /* no splitmuxsink */
}
GST_END_TEST;

GST_START_TEST (test_config_keys)
{
  g_autofree gchar *dir = g_dir_make_tmp ("castline-abr-XXXXXX", nullptr);
  std::string path = std::string (dir) + "/c.json";
  auto load = [&path] (const char *json, Config & c, std::string & error) {
    fail_unless (g_file_set_contents (path.c_str (), json, -1, nullptr));
    c = default_config ();
    return load_config (path, c, error);
  };
  Config c;
  std::string error;
  fail_unless (load ("{}", c, error));
  fail_if (c.abr_default);
  fail_unless_equals_uint64 (c.ladder.size (), 4);
  fail_unless_equals_uint64 (c.abr_settle, 4);
  fail_unless (load ("{\"abr_settle\": 0}", c, error));
  fail_unless_equals_uint64 (c.abr_settle, 0);
  fail_unless (load ("{\"abr_default\": true, \"ladder\": [{\"name\": \"sd\", \"height\": 576,"
          " \"video_bitrate\": 1200, \"audio_bitrate\": 96}]}", c, error));
  fail_unless (c.abr_default);
  fail_unless_equals_uint64 (c.ladder.size (), 1);
  assert_str_eq (c.ladder[0].name, "sd");
  fail_unless_equals_uint64 (c.ladder[0].video_bitrate, 1200);
  for (const char *bad : { "{\"abr_default\": 1}", "{\"abr_settle\": 31}", "{\"ladder\": {}}", "{\"ladder\": []}",
           "{\"ladder\": [{\"name\": \"sd\", \"height\": 576, \"video_bitrate\": 1200}]}",
           "{\"ladder\": [{\"name\": \"sd\", \"height\": 576, \"video_bitrate\": 1200,"
           " \"audio_bitrate\": 96, \"fps\": 30}]}",
           "{\"ladder\": [{\"name\": \"../x\", \"height\": 576, \"video_bitrate\": 1200,"
           " \"audio_bitrate\": 96}]}" }) {
    error.clear ();
    fail_if (load (bad, c, error));
    fail_unless (error.find ("ladder") != std::string::npos
        || error.find ("abr_") != std::string::npos);
  }
  g_unlink (path.c_str ());
  g_rmdir (dir);
}
GST_END_TEST;

}  // namespace

static Suite *
abrladder_suite ()
{
  Suite *s = suite_create ("abrladder");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_rungs_at_or_below_the_input);
  tcase_add_test (tc, test_small_input_is_never_upscaled);
  tcase_add_test (tc, test_width_follows_the_display_aspect_ratio);
  tcase_add_test (tc, test_codec_from_the_sps);
  tcase_add_test (tc, test_master_playlist);
  tcase_add_test (tc, test_rung_graph_forces_aligned_keyframes);
  tcase_add_test (tc, test_ladder_checks);
  tcase_add_test (tc, test_rung_size_never_above_the_input);
  tcase_add_test (tc, test_size_settles);
  tcase_add_test (tc, test_segment_cuts);
  tcase_add_test (tc, test_config_keys);
  return s;
}

GST_CHECK_MAIN (abrladder);
