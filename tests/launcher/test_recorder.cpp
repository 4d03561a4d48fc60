/* Recordings without a network: the VOD playlist text, the segments a
 * SegmentLog follows from an HLS sink's fragment messages, the Recorder
 * writing vod.m3u8 from messages posted through a real pipeline bus, and
 * the stream store's migration of a database from before recordings. */
#include "config/config.h"
#include "hls/playlistend.h"
#include "recording/segmentjournal.h"
#include "recording/mp4remux.h"
#include "recording/recorder.h"
#include "recording/recordingremoval.h"
#include "recording/recordingretention.h"
#include "store/sqlitestore.h"
#include "recording/vodplaylist.h"

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <sqlite3.h>

#include <set>
#include <string>
#include <vector>

using namespace castline::launcher;

static std::string
temp_dir ()
{
  g_autofree gchar *d = g_dir_make_tmp ("castline-recorder-XXXXXX", nullptr);
  return d;
}

static std::vector<std::string>
lines (const std::string & text)
{
  std::vector<std::string> out;
  g_auto (GStrv) parts = g_strsplit (text.c_str (), "\n", -1);
  for (char **p = parts; *p; p++)
    out.push_back (*p);
  return out;
}

static std::string
segment_name (guint n)
{
  g_autofree gchar *s = g_strdup_printf ("segment%05u.ts", n);
  return s;
}

/* what splitmuxsink posts, from src */
static GstMessage *
fragment (GstElement * src, bool opened, GstClockTime running_time)
{
  return gst_message_new_element (GST_OBJECT (src), gst_structure_new (
          opened ? "splitmuxsink-fragment-opened" : "splitmuxsink-fragment-closed",
          "location", G_TYPE_STRING, nullptr, "running-time", G_TYPE_UINT64, running_time,
          nullptr));
}

GST_START_TEST (test_vod_playlist_lists_every_segment)
{
  std::vector<VodSegment> segs = {
    { "segment00000.ts", 2 * GST_SECOND },
    { "segment00001.ts", 2 * GST_SECOND + 33 * GST_MSECOND },
    { "segment00002.ts", 633333333 },
  };
  auto l = lines (render_vod_playlist (segs));
  std::vector<std::string> want = {
    "#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-TARGETDURATION:3",
    "#EXT-X-MEDIA-SEQUENCE:0",
    "#EXTINF:2.000,", "segment00000.ts",
    "#EXTINF:2.033,", "segment00001.ts",
    "#EXTINF:0.633,", "segment00002.ts",
    "#EXT-X-ENDLIST", "",
  };
  fail_unless_equals_int (l.size (), want.size ());
  for (size_t i = 0; i < want.size (); i++)
    fail_unless (l[i] == want[i], "line %zu: '%s', not '%s'", i, l[i].c_str (), want[i].c_str ());
  fail_unless_equals_uint64 (total_duration (segs), 4 * GST_SECOND + 666333333);
}
GST_END_TEST;

GST_START_TEST (test_vod_target_duration_rounds_up)
{
  struct {
    GstClockTime longest;
    const char *want;
  } cases[] = {
    { 2 * GST_SECOND, "#EXT-X-TARGETDURATION:2" },
    { 2 * GST_SECOND + 1, "#EXT-X-TARGETDURATION:3" },   /* up, not to the nearest */
    { 2 * GST_SECOND + 900 * GST_MSECOND, "#EXT-X-TARGETDURATION:3" },
    { 400 * GST_MSECOND, "#EXT-X-TARGETDURATION:1" },
    { 0, "#EXT-X-TARGETDURATION:1" },                    /* never 0 */
  };
  for (auto & c : cases) {
    std::vector<VodSegment> segs = { { "a.ts", GST_SECOND / 2 }, { "b.ts", c.longest } };
    std::string text = render_vod_playlist (segs);
    fail_unless (text.find (std::string (c.want) + "\n") != std::string::npos,
        "%" GST_TIME_FORMAT ": %s", GST_TIME_ARGS (c.longest), text.c_str ());
  }
  /* no segment: still a valid, ended playlist */
  auto l = lines (render_vod_playlist ({}));
  fail_unless (l[l.size () - 2] == "#EXT-X-ENDLIST");
}
GST_END_TEST;

/* fMP4 segments (LL-HLS outputs): the init segment named by EXT-X-MAP
 * before the first segment, version 7; MPEG-TS ones get neither */
GST_START_TEST (test_vod_playlist_maps_the_init_of_fmp4_segments)
{
  std::vector<VodSegment> segs = { { "s2-segment00000.m4s", 2 * GST_SECOND },
    { "s2-segment00001.m4s", GST_SECOND } };
  auto l = lines (render_vod_playlist (segs, "s2-init.mp4"));
  std::vector<std::string> want = {
    "#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-TARGETDURATION:2",
    "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-MAP:URI=\"s2-init.mp4\"",
    "#EXTINF:2.000,", "s2-segment00000.m4s",
    "#EXTINF:1.000,", "s2-segment00001.m4s",
    "#EXT-X-ENDLIST", "",
  };
  fail_unless_equals_int (l.size (), want.size ());
  for (size_t i = 0; i < want.size (); i++)
    fail_unless (l[i] == want[i], "line %zu: '%s', not '%s'", i, l[i].c_str (), want[i].c_str ());
  std::string ts = render_vod_playlist ({ { "segment00000.ts", GST_SECOND } });
  fail_unless (ts.find ("#EXT-X-MAP") == std::string::npos, "%s", ts.c_str ());
  fail_unless (ts.find ("#EXT-X-VERSION:3\n") != std::string::npos, "%s", ts.c_str ());
}
GST_END_TEST;

/* what removing a recording reads off its playlists: segments and the
 * init, each once; a master's variants; never a URI that leaves the
 * stream's folder */
GST_START_TEST (test_playlist_files_are_what_a_recording_removes)
{
  std::vector<VodSegment> segs = { { "s2-segment00000.m4s", GST_SECOND },
    { "s2-segment00001.m4s", GST_SECOND } };
  std::vector<std::string> files = playlist_files (render_vod_playlist (segs, "s2-init.mp4"));
  std::vector<std::string> want = { "s2-init.mp4", "s2-segment00000.m4s", "s2-segment00001.m4s" };
  fail_unless (files == want);
  fail_if (is_master_playlist (render_vod_playlist (segs)));
  std::string master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\r\n360p/vod.m3u8\r\n";
  fail_unless (is_master_playlist (master));
  fail_unless (playlist_files (master) == std::vector<std::string> { "360p/vod.m3u8" });
  std::string hostile = "#EXTM3U\n../other/segment.ts\n/etc/passwd\nhttp://x/a.ts\na/b/c.ts\n"
      "a.ts?x=1\n#EXT-X-MAP:URI=\"../init.mp4\"\n./a.ts\nok.ts\nok.ts\n";
  fail_unless (playlist_files (hostile) == std::vector<std::string> { "ok.ts" });
  /* retention passes: an hour apart, or 1/24 of a shorter retention, a
   * second at least */
  fail_unless_equals_int (RecordingRetention::period_ms (30), 3600 * 1000);
  fail_unless_equals_int (RecordingRetention::period_ms (0.5), 1800 * 1000);
  fail_unless_equals_int (RecordingRetention::period_ms (0.0001), 1000);
}
GST_END_TEST;

/* an abr stream's recordings removed from its directory: the VOD master,
 * the rung's VOD and MP4, and the rung's segments its live playlist no
 * longer names; the live playlists and their segments stay; a recording
 * already gone counts as removed */
GST_START_TEST (test_removal_keeps_what_the_live_playlists_name)
{
  std::string dir = temp_dir ();
  std::string rung = dir + "/360p";
  g_mkdir (rung.c_str (), 0755);
  std::vector<VodSegment> segs;
  for (guint i = 0; i < 4; i++) {
    segs.push_back ({ segment_name (i), GST_SECOND });
    g_file_set_contents ((rung + "/" + segment_name (i)).c_str (), "0123456789", 10, nullptr);
  }
  std::string live_master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n360p/index.m3u8\n";
  std::string vod_master = render_vod_master (live_master, { "360p" });
  std::string rung_vod = render_vod_playlist (segs);
  std::string rung_live = render_vod_playlist ({ segs[2], segs[3] });
  g_file_set_contents ((dir + "/index.m3u8").c_str (), live_master.c_str (), -1, nullptr);
  g_file_set_contents ((dir + "/vod.m3u8").c_str (), vod_master.c_str (), -1, nullptr);
  g_file_set_contents ((rung + "/index.m3u8").c_str (), rung_live.c_str (), -1, nullptr);
  g_file_set_contents ((rung + "/vod.m3u8").c_str (), rung_vod.c_str (), -1, nullptr);
  g_file_set_contents ((rung + "/recording.mp4").c_str (), "mp4", 3, nullptr);
  std::vector<RecordingRecord> recs = {
    { "abr", "hls", "vod.m3u8", 4000000, 4, 1, 0, "" },
    { "abr", "hls", "360p/vod.m3u8", 4000000, 4, 1, 0, "" },
    { "abr", "mp4", "360p/recording.mp4", 4000000, 0, 1, 3, "" },
    { "abr", "hls", "s2-vod.m3u8", 1000000, 1, 1, 0, "" },      /* gone already */
  };
  RecordingPlace place;
  place.dir = dir;
  std::optional<RemovalResult> got;
  remove_recording_files (place, recs, [&got] (RemovalResult r) { got = std::move (r); });
  for (int i = 0; i < 500 && !got; i++)
    g_main_context_iteration (nullptr, FALSE) || (g_usleep (10000), true);
  fail_unless (got.has_value (), "the removal never ended");
  fail_unless_equals_int (got->removed.size (), 4);
  fail_unless (got->failed.empty ());
  std::vector<std::string> want = { "vod.m3u8", "360p/segment00000.ts", "360p/segment00001.ts",
    "360p/vod.m3u8", "360p/recording.mp4", "s2-vod.m3u8" };
  fail_unless (got->files == want);
  fail_unless (got->bytes && *got->bytes == vod_master.size () + 20 + rung_vod.size () + 3,
      "%" G_GUINT64_FORMAT " bytes", got->bytes ? *got->bytes : 0);
  for (auto & f : { "index.m3u8", "360p/index.m3u8", "360p/segment00002.ts", "360p/segment00003.ts" })
    fail_unless (g_file_test ((dir + "/" + f).c_str (), G_FILE_TEST_EXISTS), "%s went", f);
  for (auto & f : want)
    fail_if (g_file_test ((dir + "/" + f).c_str (), G_FILE_TEST_EXISTS), "%s stayed", f.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_segment_log_follows_one_sinks_fragments)
{
  GstElement *out = gst_bin_new ("out");
  GstElement *inner = gst_element_factory_make ("identity", "splitmuxsink0");
  gst_bin_add (GST_BIN (out), inner);
  GstElement *other = gst_element_factory_make ("identity", "splitmuxsink1");   /* another output */
  gst_object_ref_sink (out);
  gst_object_ref_sink (other);

  SegmentLog log (out, segment_name);
  GstMessage *msgs[] = {
    fragment (inner, true, 0),
    fragment (other, true, 0),                         /* not this sink's */
    fragment (inner, false, 2 * GST_SECOND),
    fragment (other, false, 5 * GST_SECOND),
    fragment (inner, true, 2 * GST_SECOND),
    fragment (inner, false, 3500 * GST_MSECOND),
    fragment (inner, true, 3500 * GST_MSECOND),        /* still open at the end: left out */
  };
  bool mine[] = { true, false, true, false, true, true, true };
  for (size_t i = 0; i < G_N_ELEMENTS (msgs); i++) {
    fail_unless (log.on_message (msgs[i]) == mine[i], "message %zu", i);
    gst_message_unref (msgs[i]);
  }
  GstMessage *eos = gst_message_new_eos (GST_OBJECT (inner));
  fail_if (log.on_message (eos));
  gst_message_unref (eos);

  auto segs = log.segments ();
  fail_unless_equals_int (segs.size (), 2);
  fail_unless (segs[0].uri == "segment00000.ts");
  fail_unless_equals_uint64 (segs[0].duration, 2 * GST_SECOND);
  fail_unless (segs[1].uri == "segment00001.ts");
  fail_unless_equals_uint64 (segs[1].duration, 1500 * GST_MSECOND);
  gst_object_unref (other);
  gst_object_unref (out);
}
GST_END_TEST;

/* messages posted inside a pipeline reach the Recorder through the bus,
 * without a main loop; finish writes vod.m3u8 and reports it */
GST_START_TEST (test_recorder_writes_the_vod_next_to_the_live_playlist)
{
  std::string dir = temp_dir ();
  GstElement *pipeline = gst_pipeline_new ("stream-test");
  GstElement *out = gst_bin_new ("out");
  GstElement *inner = gst_element_factory_make ("identity", "splitmuxsink0");
  gst_bin_add (GST_BIN (out), inner);
  gst_bin_add (GST_BIN (pipeline), out);

  auto recorder = std::make_unique<Recorder> ("abc", nullptr);
  RecordedOutput o;
  o.sink = out;
  o.dir = dir;
  o.segment_name = segment_name;
  recorder->follow (GST_PIPELINE (pipeline));
  recorder->attach (o);
  for (int i = 0; i < 4; i++) {
    gst_element_post_message (inner, fragment (inner, true, i * 2 * GST_SECOND));
    gst_element_post_message (inner, fragment (inner, false, (i + 1) * 2 * GST_SECOND));
  }
  bool called = false;
  std::vector<RecordingRecord> got;
  recorder->finish ([&] (std::vector<RecordingRecord> r) {
        called = true;
        got = std::move (r);
      });
  fail_unless (called, "a local VOD is reported at once");
  fail_unless_equals_int (got.size (), 1);
  fail_unless (got[0].kind == "hls" && got[0].name == "vod.m3u8" && got[0].stream_id == "abc");
  fail_unless_equals_int (got[0].segments, 4);
  fail_unless_equals_int64 (got[0].duration_us, 8 * G_USEC_PER_SEC);
  g_autofree gchar *text = nullptr;
  fail_unless (g_file_get_contents ((dir + "/vod.m3u8").c_str (), &text, nullptr, nullptr));
  fail_unless (std::string (text) == render_vod_playlist ({ { "segment00000.ts", 2 * GST_SECOND },
          { "segment00001.ts", 2 * GST_SECOND }, { "segment00002.ts", 2 * GST_SECOND },
          { "segment00003.ts", 2 * GST_SECOND } }), "%s", text);

  /* detached: later messages change nothing */
  gst_element_post_message (inner, fragment (inner, true, 8 * GST_SECOND));
  recorder.reset ();
  gst_object_unref (pipeline);
}
GST_END_TEST;

GST_START_TEST (test_recorder_without_segments_records_nothing)
{
  std::string dir = temp_dir ();
  GstElement *pipeline = gst_pipeline_new (nullptr);
  GstElement *out = gst_bin_new ("out");
  gst_bin_add (GST_BIN (pipeline), out);
  Recorder recorder ("abc", nullptr);
  RecordedOutput o;
  o.sink = out;
  o.dir = dir;
  o.segment_name = segment_name;
  recorder.follow (GST_PIPELINE (pipeline));
  recorder.attach (o);
  int calls = 0;
  size_t n = 99;
  recorder.finish ([&] (std::vector<RecordingRecord> r) {
        calls++;
        n = r.size ();
      });
  fail_unless_equals_int (calls, 1);
  fail_unless_equals_int (n, 0);
  fail_if (g_file_test ((dir + "/vod.m3u8").c_str (), G_FILE_TEST_EXISTS));
  gst_object_unref (pipeline);
}
GST_END_TEST;

GST_START_TEST (test_vod_master_points_at_the_rungs_vods)
{
  std::string live = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS=\"avc1.64001f,mp4a.40.2\"\n"
      "720p/index.m3u8\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=640x360,CODECS=\"avc1.64001e,mp4a.40.2\"\r\n"
      "360p/index.m3u8\r\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=300000\nother/elsewhere.m3u8\n";
  std::string want = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS=\"avc1.64001f,mp4a.40.2\"\n"
      "720p/vod.m3u8\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=640x360,CODECS=\"avc1.64001e,mp4a.40.2\"\n"
      "360p/vod.m3u8\n";
  std::string got = render_vod_master (live, { "720p", "360p" });
  fail_unless (got == want, "%s", got.c_str ());
  /* a rung without a VOD is left out; none at all: no master */
  got = render_vod_master (live, { "360p" });
  fail_unless (got.find ("720p") == std::string::npos && got.find ("360p/vod.m3u8") != std::string::npos,
      "%s", got.c_str ());
  fail_unless (render_vod_master (live, {}).empty ());
}
GST_END_TEST;

/* an abr stream: one VOD per rung in its folder, and the VOD master at the
 * stream's root from its live master */
GST_START_TEST (test_recorder_writes_rung_vods_and_their_master)
{
  std::string root = temp_dir ();
  GstElement *pipeline = gst_pipeline_new (nullptr);
  Recorder recorder ("abr", nullptr);
  recorder.set_root (root, "");
  recorder.follow (GST_PIPELINE (pipeline));
  const char *rungs[] = { "720p", "360p" };
  GstElement *inner[2];
  for (int i = 0; i < 2; i++) {
    GstElement *sink = gst_bin_new ((std::string ("out_") + rungs[i]).c_str ());
    inner[i] = gst_element_factory_make ("identity", nullptr);
    gst_bin_add (GST_BIN (sink), inner[i]);
    gst_bin_add (GST_BIN (pipeline), sink);
    std::string dir = root + "/" + rungs[i];
    g_mkdir_with_parents (dir.c_str (), 0755);
    RecordedOutput o;
    o.name = rungs[i];
    o.sink = sink;
    o.dir = dir;
    o.segment_name = segment_name;
    recorder.attach (o);
  }
  for (int n = 0; n < 3; n++)
    for (int i = 0; i < 2; i++) {
      gst_element_post_message (inner[i], fragment (inner[i], true, n * GST_SECOND));
      gst_element_post_message (inner[i], fragment (inner[i], false, (n + 1) * GST_SECOND));
    }
  g_file_set_contents ((root + "/index.m3u8").c_str (), "#EXTM3U\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=2000000\n720p/index.m3u8\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=500000\n360p/index.m3u8\n", -1, nullptr);
  std::vector<RecordingRecord> got;
  recorder.finish ([&] (std::vector<RecordingRecord> r) { got = std::move (r); });
  fail_unless_equals_int (got.size (), 3);
  std::set<std::string> names;
  for (auto & r : got) {
    names.insert (r.name);
    fail_unless_equals_int (r.segments, 3);
    fail_unless_equals_int64 (r.duration_us, 3 * G_USEC_PER_SEC);
  }
  fail_unless (names == std::set<std::string> ({ "vod.m3u8", "720p/vod.m3u8", "360p/vod.m3u8" }));
  for (const char *f : { "/vod.m3u8", "/720p/vod.m3u8", "/360p/vod.m3u8" })
    fail_unless (g_file_test ((root + f).c_str (), G_FILE_TEST_EXISTS), "no %s", f);
  g_autofree gchar *master = nullptr;
  g_file_get_contents ((root + "/vod.m3u8").c_str (), &master, nullptr, nullptr);
  fail_unless (std::string (master) == "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2000000\n"
      "720p/vod.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=500000\n360p/vod.m3u8\n", "%s", master);
  gst_object_unref (pipeline);
}
GST_END_TEST;

/* a castline.db as the daemon made it before recordings: schema 0 */
static void
make_v0_database (const std::string & path)
{
  sqlite3 *db = nullptr;
  fail_unless (sqlite3_open (path.c_str (), &db) == SQLITE_OK);
  const char *sql =
      "CREATE TABLE streams ("
      " id TEXT PRIMARY KEY, title TEXT NOT NULL, pipeline TEXT NOT NULL,"
      " key_hash TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL,"
      " ingest TEXT NOT NULL, created_at INTEGER NOT NULL, scheduled_at INTEGER NOT NULL,"
      " started_at INTEGER NOT NULL, ended_at INTEGER NOT NULL);"
      "INSERT INTO streams VALUES ('old1', 'before', 'passthrough', 'h', 'ended', '', 'whip',"
      " 1, 0, 2, 3);";
  char *msg = nullptr;
  fail_unless (sqlite3_exec (db, sql, nullptr, nullptr, &msg) == SQLITE_OK, "%s", msg);
  sqlite3_close (db);
}

static int
user_version (const std::string & path)
{
  sqlite3 *db = nullptr;
  sqlite3_open (path.c_str (), &db);
  sqlite3_stmt *s = nullptr;
  sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &s, nullptr);
  int v = sqlite3_step (s) == SQLITE_ROW ? sqlite3_column_int (s, 0) : -1;
  sqlite3_finalize (s);
  sqlite3_close (db);
  return v;
}

GST_START_TEST (test_store_migrates_a_database_from_before_recordings)
{
  std::string path = temp_dir () + "/castline.db";
  make_v0_database (path);
  fail_unless_equals_int (user_version (path), 0);
  std::string error;
  {
    SqliteStore s;
    fail_unless (s.open (path, error), "%s", error.c_str ());
    auto old = s.get ("old1");
    fail_unless (old.has_value (), "the old stream is unreadable after the migration");
    fail_unless (old->title == "before" && old->state == StreamState::ended);
    fail_if (old->record, "an old stream came out recorded");
    old->record = true;
    fail_unless (s.save (*old, error) == WriteResult::ok, "%s", error.c_str ());
    RecordingRecord r { "old1", "hls", "vod.m3u8", 8000000, 4, 5, 0, "" };
    fail_unless (s.add_recording (r, error), "%s", error.c_str ());
    r.segments = 5;                    /* the same name again: replaced */
    fail_unless (s.add_recording (r, error), "%s", error.c_str ());
  }
  /* every migration: recordings (1), the key hash index (2), the
   * cluster's columns (3) */
  fail_unless_equals_int (user_version (path), 3);
  /* opened again: nothing to migrate, nothing lost */
  SqliteStore s;
  fail_unless (s.open (path, error), "%s", error.c_str ());
  fail_unless (s.get ("old1")->record);
  auto recs = s.recordings ("old1");
  fail_unless_equals_int (recs.size (), 1);
  fail_unless (recs[0].name == "vod.m3u8" && recs[0].kind == "hls");
  fail_unless_equals_int (recs[0].segments, 5);
  fail_unless_equals_int64 (recs[0].duration_us, 8000000);
  fail_unless (s.recordings ("other").empty ());
  StreamRecord fresh;
  fresh.id = "new1";
  fresh.record = true;
  fail_unless (s.insert (fresh, error), "%s", error.c_str ());
  fail_unless (s.get ("new1")->record);
}
GST_END_TEST;

GST_START_TEST (test_store_refuses_a_newer_schema)
{
  std::string path = temp_dir () + "/castline.db";
  make_v0_database (path);
  sqlite3 *db = nullptr;
  sqlite3_open (path.c_str (), &db);
  sqlite3_exec (db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
  sqlite3_close (db);
  SqliteStore s;
  std::string error;
  fail_if (s.open (path, error), "opened a database of a newer castline");
  fail_unless (error.find ("newer") != std::string::npos, "%s", error.c_str ());
}
GST_END_TEST;

/* runs a gst-launch description to its EOS (30 s at most) */
static void
run_to_eos (const std::string & desc)
{
  GError *err = nullptr;
  GstElement *p = gst_parse_launch (desc.c_str (), &err);
  fail_unless (p != nullptr, "%s", err ? err->message : "?");
  gst_element_set_state (p, GST_STATE_PLAYING);
  g_autoptr (GstBus) bus = gst_element_get_bus (p);
  GstMessage *m = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS);
  gst_message_unref (m);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
}

/* segments as hlssink2 writes them: 4 s of H.264 and AAC, 1 s GOPs */
static std::vector<std::string>
make_segments (const std::string & dir)
{
  std::string desc = "videotestsrc num-buffers=120 ! video/x-raw,width=160,height=120,"
      "framerate=30/1 ! x264enc key-int-max=30 speed-preset=ultrafast ! h264parse ! "
      "hlssink2 name=out target-duration=1 max-files=0 location=" + dir + "/segment%05d.ts "
      "playlist-location=" + dir + "/index.m3u8 audiotestsrc num-buffers=172 ! "
      "audio/x-raw,rate=44100 ! avenc_aac ! aacparse ! out.audio";
  run_to_eos (desc);
  std::vector<std::string> out;
  for (guint i = 0; g_file_test ((dir + "/" + segment_name (i)).c_str (), G_FILE_TEST_EXISTS); i++)
    out.push_back (dir + "/" + segment_name (i));
  return out;
}

/* fMP4 segments as llhlssink keeps them: an init (ftyp+moov) and
 * segments of moof+mdat pairs on one timeline, here cut from mp4mux's
 * fragmented output (one fragment a second) at its top-level boxes; the
 * paths of the segments, init set to the init's */
static std::vector<std::string>
make_fmp4_segments (const std::string & dir, std::string & init)
{
  std::string file = dir + "/fragmented.mp4";
  std::string desc = "videotestsrc num-buffers=120 ! video/x-raw,width=160,height=120,"
      "framerate=30/1 ! x264enc key-int-max=30 speed-preset=ultrafast ! h264parse ! "
      "mp4mux name=mux fragment-duration=1000 streamable=true ! filesink location=" + file
      + " audiotestsrc num-buffers=172 ! audio/x-raw,rate=44100 ! avenc_aac ! aacparse ! mux.";
  run_to_eos (desc);

  g_autofree gchar *data = nullptr;
  gsize size = 0;
  fail_unless (g_file_get_contents (file.c_str (), &data, &size, nullptr));
  std::string head, current;
  std::vector<std::string> segments;
  auto flush = [&] () {
    if (current.empty ())
      return;
    g_autofree gchar *name = g_strdup_printf ("%s/segment%05zu.m4s", dir.c_str (), segments.size ());
    fail_unless (g_file_set_contents (name, current.data (), current.size (), nullptr));
    segments.push_back (name);
    current.clear ();
  };
  for (gsize pos = 0; pos + 8 <= size;) {
    guint32 len = GST_READ_UINT32_BE (data + pos);
    fail_unless (len >= 8 && pos + len <= size, "a box of %u bytes at %zu", len, pos);
    std::string type (data + pos + 4, 4), box (data + pos, len);
    if (type == "ftyp" || type == "moov")
      head += box;
    else if (type == "moof") {
      flush ();                    /* a moof starts a segment */
      current = box;
    } else if (type == "mdat")
      current += box;
    pos += len;
  }
  flush ();
  init = dir + "/init.mp4";
  fail_unless (g_file_set_contents (init.c_str (), head.data (), head.size (), nullptr));
  g_unlink (file.c_str ());
  return segments;
}

/* path plays as H.264 and AAC for longer than min, shorter than max */
static void
check_mp4_duration (const std::string & path, GstClockTime min, GstClockTime max)
{
  g_autofree gchar *uri = g_filename_to_uri (path.c_str (), nullptr, nullptr);
  std::string desc = std::string ("uridecodebin uri=") + uri + " name=d d. ! fakesink d. ! fakesink";
  GstElement *p = gst_parse_launch (desc.c_str (), nullptr);
  gst_element_set_state (p, GST_STATE_PAUSED);
  fail_unless (gst_element_get_state (p, nullptr, nullptr, 10 * GST_SECOND)
      == GST_STATE_CHANGE_SUCCESS);
  gint64 dur = 0;
  fail_unless (gst_element_query_duration (p, GST_FORMAT_TIME, &dur));
  fail_unless ((GstClockTime) dur > min && (GstClockTime) dur < max, "%" GST_TIME_FORMAT,
      GST_TIME_ARGS (dur));
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
}

static void
remux (const std::vector<std::string> & segments, const std::string & out, bool & ok,
    guint64 & bytes, std::string & error, const std::string & init = "")
{
  GMainLoop *loop = g_main_loop_new (nullptr, FALSE);
  bool called = false;
  std::string start_error;
  auto r = Mp4Remux::start (segments, out, 20, [&] (bool k, guint64 b, const std::string & e) {
        called = true;
        ok = k;
        bytes = b;
        error = e;
        g_main_loop_quit (loop);
      }, start_error, init);
  if (r)
    g_main_loop_run (loop);
  else {
    ok = false;
    error = start_error;
  }
  g_main_loop_unref (loop);
  fail_unless (called || !r);
}

GST_START_TEST (test_mp4_remux_of_kept_segments)
{
  std::string dir = temp_dir ();
  auto segments = make_segments (dir);
  fail_unless (segments.size () >= 3, "%zu segments", segments.size ());
  bool ok = false;
  guint64 bytes = 0;
  std::string error;
  /* the last segment left out, as a failed stream's unfinished one */
  std::vector<std::string> kept (segments.begin (), segments.end () - 1);
  remux (kept, dir + "/recording.mp4", ok, bytes, error);
  fail_unless (ok, "%s", error.c_str ());
  GStatBuf st;
  fail_unless (g_stat ((dir + "/recording.mp4").c_str (), &st) == 0);
  fail_unless_equals_uint64 ((guint64) st.st_size, bytes);
  fail_if (g_file_test ((dir + "/recording.mp4.part").c_str (), G_FILE_TEST_EXISTS));

  /* what it holds: H.264 and AAC, as long as the segments given */
  check_mp4_duration (dir + "/recording.mp4", 2 * GST_SECOND, 3500 * GST_MSECOND);
}
GST_END_TEST;

/* LL-HLS recordings: fMP4 segments after their init segment, remuxed into
 * one MP4 (not fragmented: a moov with every sample); the concatenation
 * made on the way is gone */
GST_START_TEST (test_mp4_remux_of_fmp4_segments)
{
  std::string dir = temp_dir ();
  std::string init;
  auto segments = make_fmp4_segments (dir, init);
  fail_unless (segments.size () >= 3, "%zu segments", segments.size ());
  bool ok = false;
  guint64 bytes = 0;
  std::string error;
  std::vector<std::string> kept (segments.begin (), segments.end () - 1);
  remux (kept, dir + "/recording.mp4", ok, bytes, error, init);
  fail_unless (ok, "%s", error.c_str ());
  GStatBuf st;
  fail_unless (g_stat ((dir + "/recording.mp4").c_str (), &st) == 0);
  fail_unless_equals_uint64 ((guint64) st.st_size, bytes);
  fail_if (g_file_test ((dir + "/recording.mp4.part").c_str (), G_FILE_TEST_EXISTS));
  fail_if (g_file_test ((dir + "/recording.mp4.cmaf").c_str (), G_FILE_TEST_EXISTS));
  g_autofree gchar *mp4 = nullptr;
  gsize size = 0;
  fail_unless (g_file_get_contents ((dir + "/recording.mp4").c_str (), &mp4, &size, nullptr));
  fail_unless (size > 16 && memcmp (mp4 + 4, "ftyp", 4) == 0);
  fail_if (g_strstr_len (mp4, size, "moof") != nullptr, "the MP4 is still fragmented");
  check_mp4_duration (dir + "/recording.mp4", 2 * GST_SECOND,
      (GstClockTime) (kept.size () + 1) * GST_SECOND);

  /* a broken init: an error, no file left */
  g_file_set_contents (init.c_str (), "not an init segment", -1, nullptr);
  remux (kept, dir + "/broken.mp4", ok, bytes, error, init);
  fail_if (ok);
  fail_unless (!error.empty ());
  for (const char *f : { "/broken.mp4", "/broken.mp4.part", "/broken.mp4.cmaf" })
    fail_if (g_file_test ((dir + f).c_str (), G_FILE_TEST_EXISTS), "%s left", f);
}
GST_END_TEST;

GST_START_TEST (test_mp4_remux_failure_is_reported)
{
  std::string dir = temp_dir ();
  g_file_set_contents ((dir + "/segment00000.ts").c_str (), "not a transport stream", -1, nullptr);
  bool ok = true;
  guint64 bytes = 1;
  std::string error;
  remux ({ dir + "/segment00000.ts" }, dir + "/recording.mp4", ok, bytes, error);
  fail_if (ok);
  fail_unless (!error.empty ());
  fail_if (g_file_test ((dir + "/recording.mp4").c_str (), G_FILE_TEST_EXISTS));
  fail_if (g_file_test ((dir + "/recording.mp4.part").c_str (), G_FILE_TEST_EXISTS));
  remux ({}, dir + "/recording.mp4", ok, bytes, error);
  fail_if (ok);
}
GST_END_TEST;

GST_START_TEST (test_config_record_settings)
{
  std::string dir = temp_dir ();
  std::string path = dir + "/c.json";
  Config c = default_config ();
  fail_if (c.record || c.record_mp4, "recording is on by default");
  g_file_set_contents (path.c_str (), "{\"record\": true, \"record_mp4\": true}", -1, nullptr);
  std::string error;
  fail_unless (load_config (path, c, error), "%s", error.c_str ());
  fail_unless (c.record && c.record_mp4);
  fail_unless (c.recordings_retention_days == 0, "recordings are not kept forever by default");
  g_file_set_contents (path.c_str (), "{\"recordings\": {\"retention_days\": 0.25}}", -1, nullptr);
  fail_unless (load_config (path, c, error), "%s", error.c_str ());
  fail_unless (c.recordings_retention_days == 0.25);
  const char *bad[] = {
    "{\"record\": \"yes\"}", "{\"record\": 1}", "{\"record_mp4\": null}",
    "{\"recordings\": {\"retention_days\": -1}}", "{\"recordings\": {\"retention_days\": \"7\"}}",
    "{\"recordings\": {\"keep\": 7}}",
    /* the segments are in the bucket, not here to remux */
    "{\"record_mp4\": true, \"s3\": {\"endpoint\": \"http://127.0.0.1:1\", \"bucket\": \"b\","
    " \"public_base_url\": \"http://x\"}}",
  };
  for (const char *b : bad) {
    Config d = default_config ();
    g_file_set_contents (path.c_str (), b, -1, nullptr);
    error.clear ();
    fail_if (load_config (path, d, error), "accepted %s", b);
    fail_unless (error.find ("record") != std::string::npos, "%s", error.c_str ());
  }
}
GST_END_TEST;

/* what a crash leaves: the journal's lines, read back (a last line cut
 * short is skipped), by output in the order they came */
GST_START_TEST (test_journal_reads_back_the_closed_segments)
{
  std::string dir = temp_dir ();
  std::string path = SegmentJournal::path (dir, "abc", 2);
  std::string error;
  {
    auto j = SegmentJournal::open (path, error);
    fail_unless (j != nullptr, "%s", error.c_str ());
    j->append ("", { "s2-segment00000.ts", 2 * GST_SECOND });
    j->append ("720p", { "s2-segment00000.ts", GST_SECOND });
    j->append ("", { "s2-segment00001.ts", 1500 * GST_MSECOND });
  }
  FILE *f = fopen (path.c_str (), "a");
  fputs (".\ts2-segment00002.ts\t12", f);
  fclose (f);
  SegmentJournal::Outputs outputs = SegmentJournal::read (path);
  fail_unless_equals_int (outputs.size (), 2);
  fail_unless (outputs[0].first.empty () && outputs[1].first == "720p");
  fail_unless_equals_int (outputs[0].second.size (), 2);
  fail_unless (outputs[0].second[1].uri == "s2-segment00001.ts");
  fail_unless_equals_uint64 (outputs[0].second[1].duration, 1500 * GST_MSECOND);
  fail_unless_equals_int (outputs[1].second.size (), 1);
  fail_unless (SegmentJournal::sessions (dir, "abc") == std::vector<unsigned> { 2 });
  fail_unless (SegmentJournal::sessions (dir, "other").empty ());
  SegmentJournal::remove (dir, "abc", 2);
  fail_unless (SegmentJournal::sessions (dir, "abc").empty ());
  fail_if (g_file_test (SegmentJournal::folder (dir, "abc").c_str (), G_FILE_TEST_EXISTS));
}
GST_END_TEST;

/* a media playlist left open gets #EXT-X-ENDLIST once; a master never */
GST_START_TEST (test_open_playlists_are_ended_once)
{
  std::string live = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"
      "#EXTINF:2.000,\nsegment00003.ts\n#EXTINF:2.000,\nsegment00004.ts\n";
  std::string ended = playlist_with_endlist (live);
  fail_unless (ended == live + "#EXT-X-ENDLIST\n", "%s", ended.c_str ());
  fail_unless (playlist_with_endlist (ended).empty ());
  fail_unless (last_segment_uri (live) == "segment00004.ts");
  /* LL-HLS: the parts (in the dead daemon's memory) and the hint go */
  std::string ll = "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n"
      "#EXT-X-PART-INF:PART-TARGET=0.3\n#EXT-X-MAP:URI=\"init.mp4\"\n"
      "#EXT-X-PART:DURATION=0.3,URI=\"segment00004.0.m4s\",INDEPENDENT=YES\n"
      "#EXTINF:0.300,\nsegment00004.m4s\n"
      "#EXT-X-PART:DURATION=0.3,URI=\"segment00005.0.m4s\",INDEPENDENT=YES\n"
      "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"segment00005.1.m4s\"\n";
  std::string ll_ended = playlist_with_endlist (ll);
  fail_unless (ll_ended == "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n"
      "#EXT-X-PART-INF:PART-TARGET=0.3\n#EXT-X-MAP:URI=\"init.mp4\"\n"
      "#EXTINF:0.300,\nsegment00004.m4s\n#EXT-X-ENDLIST\n", "%s", ll_ended.c_str ());
  std::string master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/index.m3u8\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=2\n360p/index.m3u8\n";
  fail_unless (playlist_with_endlist (master).empty ());
  fail_unless (variant_uris (master)
      == std::vector<std::string> ({ "720p/index.m3u8", "360p/index.m3u8" }));

  std::string dir = temp_dir ();
  std::string rung = dir + "/360p";
  g_mkdir (rung.c_str (), 0755);
  fail_unless (g_file_set_contents ((dir + "/index.m3u8").c_str (), master.c_str (), -1, nullptr));
  fail_unless (g_file_set_contents ((rung + "/index.m3u8").c_str (), live.c_str (), -1, nullptr));
  end_local_playlists (dir);
  end_local_playlists (dir);
  g_autofree gchar *m = nullptr, *r = nullptr;
  fail_unless (g_file_get_contents ((dir + "/index.m3u8").c_str (), &m, nullptr, nullptr));
  fail_unless (g_file_get_contents ((rung + "/index.m3u8").c_str (), &r, nullptr, nullptr));
  fail_unless (master == m, "%s", m);
  fail_unless (ended == r, "%s", r);
}
GST_END_TEST;

static Suite *
recorder_suite (void)
{
  Suite *s = suite_create ("recorder");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_vod_playlist_lists_every_segment);
  tcase_add_test (tc, test_playlist_files_are_what_a_recording_removes);
  tcase_add_test (tc, test_removal_keeps_what_the_live_playlists_name);
  tcase_add_test (tc, test_journal_reads_back_the_closed_segments);
  tcase_add_test (tc, test_open_playlists_are_ended_once);
  tcase_add_test (tc, test_vod_target_duration_rounds_up);
  tcase_add_test (tc, test_vod_playlist_maps_the_init_of_fmp4_segments);
  tcase_add_test (tc, test_segment_log_follows_one_sinks_fragments);
  tcase_add_test (tc, test_recorder_writes_the_vod_next_to_the_live_playlist);
  tcase_add_test (tc, test_recorder_without_segments_records_nothing);
  tcase_add_test (tc, test_store_migrates_a_database_from_before_recordings);
  tcase_add_test (tc, test_store_refuses_a_newer_schema);
  tcase_add_test (tc, test_mp4_remux_of_kept_segments);
  tcase_add_test (tc, test_mp4_remux_failure_is_reported);
  tcase_add_test (tc, test_mp4_remux_of_fmp4_segments);
  tcase_add_test (tc, test_config_record_settings);
  tcase_add_test (tc, test_vod_master_points_at_the_rungs_vods);
  tcase_add_test (tc, test_recorder_writes_rung_vods_and_their_master);
  return s;
}

GST_CHECK_MAIN (recorder);
