/* castline-launcher's pieces without a network: configuration, the stream
 * store, the pipeline catalog (including every shipped description). */
#include "config/config.h"
#include "streams/pipelinecatalog.h"
#include "streams/streammanager.h"
#include "store/sqlitestore.h"
#include "recording/segmentjournal.h"
#include "recording/vodplaylist.h"

#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>

#include <algorithm>
#include <memory>
#include <string>

using namespace castline::launcher;

static std::string
temp_dir ()
{
  g_autofree gchar *d = g_dir_make_tmp ("castline-launcher-XXXXXX", nullptr);
  return d;
}

static std::string
write_file (const std::string & dir, const std::string & name, const std::string & text)
{
  std::string path = dir + "/" + name;
  fail_unless (g_file_set_contents (path.c_str (), text.c_str (), -1, nullptr));
  return path;
}

GST_START_TEST (test_config_defaults_and_file)
{
  Config c = default_config ();
  fail_unless (c.base_url () == "http://127.0.0.1:8080");
  std::string dir = temp_dir ();
  std::string path = write_file (dir, "c.json",
      "{\"port\": 9000, \"admin_token\": \"t\", \"hls\": {\"target_duration\": 4},"
      " \"public_url\": \"https://live.example/\", \"ice_servers\": [\"stun:s:3478\"]}");
  std::string error;
  fail_unless (load_config (path, c, error), "%s", error.c_str ());
  fail_unless_equals_int (c.port, 9000);
  fail_unless_equals_int (c.hls_target_duration, 4);
  fail_unless (c.base_url () == "https://live.example");
  fail_unless_equals_int (c.ice_servers.size (), 1);

  const char *bad[] = { "{\"prot\": 1}", "{\"port\": \"x\"}", "{\"port\": 70000}",
    "{\"hls\": {\"nope\": 1}}", "[1]", "{", "{\"s3\": {\"endpoint\": \"http://x\"}}" };
  for (const char *b : bad) {
    Config d = default_config ();
    path = write_file (dir, "bad.json", b);
    error.clear ();
    fail_if (load_config (path, d, error), "accepted %s", b);
    fail_unless (!error.empty ());
  }
  Config d = default_config ();
  fail_if (load_config (dir + "/missing.json", d, error));
}
GST_END_TEST;

GST_START_TEST (test_config_web_and_reconnect_keys)
{
  Config c = default_config ();
  fail_unless_equals_int (c.reconnect_window, 30);
  fail_unless (g_str_has_suffix (c.web_dir.c_str (), "/web"), "%s", c.web_dir.c_str ());
  fail_unless (g_str_has_suffix (c.hlsjs_path.c_str (), "/node_modules/hls.js/dist/hls.min.js"));
  std::string dir = temp_dir ();
  std::string path = write_file (dir, "c.json",
      "{\"reconnect_window\": 0, \"web_dir\": \"/srv/web\", \"hlsjs_path\": \"/srv/hls.js\"}");
  std::string error;
  fail_unless (load_config (path, c, error), "%s", error.c_str ());
  fail_unless_equals_int (c.reconnect_window, 0);
  fail_unless (c.web_dir == "/srv/web" && c.hlsjs_path == "/srv/hls.js");
  for (const char *b : { "{\"reconnect_window\": -1}", "{\"reconnect_window\": 3601}",
           "{\"web_dir\": 1}" }) {
    Config d = default_config ();
    path = write_file (dir, "bad.json", b);
    fail_if (load_config (path, d, error), "accepted %s", b);
  }
}
GST_END_TEST;

GST_START_TEST (test_config_webrtc_keys)
{
  Config c = default_config ();
  fail_unless_equals_int (c.webrtc.max_viewers, 100);
  fail_unless (c.webrtc.enabled () && c.webrtc.token.empty ());
  std::string dir = temp_dir ();
  std::string path = write_file (dir, "c.json",
      "{\"webrtc\": {\"max_viewers\": 2, \"token\": \"Ab-._~+/9==\"}}");
  std::string error;
  fail_unless (load_config (path, c, error), "%s", error.c_str ());
  fail_unless_equals_int (c.webrtc.max_viewers, 2);
  fail_unless (c.webrtc.token == "Ab-._~+/9==");
  path = write_file (dir, "off.json", "{\"webrtc\": {\"max_viewers\": 0}}");
  fail_unless (load_config (path, c, error), "%s", error.c_str ());
  fail_if (c.webrtc.enabled ());
  const char *bad[] = { "{\"webrtc\": {\"max_viewers\": -1}}",
    "{\"webrtc\": {\"max_viewers\": 10001}}", "{\"webrtc\": {\"max_viewers\": \"2\"}}",
    "{\"webrtc\": {\"seats\": 2}}", "{\"webrtc\": 2}", "{\"webrtc\": {\"token\": 5}}",
    "{\"webrtc\": {\"token\": \"has space\"}}", "{\"webrtc\": {\"token\": \"a=b\"}}",
    "{\"webrtc\": {\"token\": \"==\"}}" };
  for (const char *b : bad) {
    Config d = default_config ();
    path = write_file (dir, "bad.json", b);
    error.clear ();
    fail_if (load_config (path, d, error), "accepted %s", b);
    fail_unless (!error.empty ());
    /* a token in the file is never repeated in the error */
    fail_if (error.find ("has space") != std::string::npos, "%s", error.c_str ());
  }
}
GST_END_TEST;

GST_START_TEST (test_config_srt_keys)
{
  Config c = default_config ();
  fail_unless (c.srt.port == 8890 && c.srt.enabled () && c.srt.latency == 120);
  fail_unless (c.srt.passphrase.empty () && c.srt.pbkeylen == 0);
  fail_unless (c.srt_host () == c.host);
  std::string dir = temp_dir ();
  std::string path = write_file (dir, "c.json", "{\"srt\": {\"port\": 9000, \"host\": "
      "\"127.0.0.2\", \"latency\": 500, \"passphrase\": \"0123456789\", \"pbkeylen\": 32}}");
  std::string error;
  fail_unless (load_config (path, c, error), "%s", error.c_str ());
  fail_unless (c.srt.port == 9000 && c.srt_host () == "127.0.0.2" && c.srt.latency == 500);
  fail_unless (c.srt.passphrase == "0123456789" && c.srt.pbkeylen == 32);
  path = write_file (dir, "off.json", "{\"srt\": {\"port\": 0, \"latency\": 20}}");
  fail_unless (load_config (path, c, error), "%s", error.c_str ());
  fail_if (c.srt.enabled ());
  path = write_file (dir, "top.json", "{\"srt\": {\"latency\": 8000, \"pbkeylen\": 16,"
      " \"passphrase\": \"" + std::string (79, 'p') + "\"}}");
  fail_unless (load_config (path, c, error), "%s", error.c_str ());
  const char *bad[] = { "{\"srt\": {\"port\": 65536}}", "{\"srt\": {\"latency\": 19}}",
    "{\"srt\": {\"latency\": 8001}}", "{\"srt\": {\"pbkeylen\": 8}}",
    "{\"srt\": {\"pbkeylen\": 33}}", "{\"srt\": {\"passphrase\": \"secret-78\"}}",
    "{\"srt\": {\"passphrase\": 12}}", "{\"srt\": {\"nope\": 1}}", "{\"srt\": 1}" };
  std::string too_long = "{\"srt\": {\"passphrase\": \"" + std::string (80, 'p') + "\"}}";
  std::vector<std::string> all (std::begin (bad), std::end (bad));
  all.push_back (too_long);
  for (const std::string & b : all) {
    Config d = default_config ();
    path = write_file (dir, "bad.json", b);
    error.clear ();
    fail_if (load_config (path, d, error), "accepted %s", b.c_str ());
    fail_unless (error.find ("srt") != std::string::npos, "%s", error.c_str ());
    /* the passphrase is never repeated in the error */
    fail_if (error.find ("secret-78") != std::string::npos, "%s", error.c_str ());
    fail_if (error.find ("pppppppppp") != std::string::npos, "%s", error.c_str ());
  }
}
GST_END_TEST;

GST_START_TEST (test_config_low_latency_keys)
{
  Config c = default_config ();
  fail_unless (c.hls_low_latency && c.low_latency ());
  fail_unless (c.hls_part_target == 0.3);
  std::string dir = temp_dir ();
  std::string path = write_file (dir, "c.json",
      "{\"hls\": {\"low_latency\": false, \"part_target\": 0.5}}");
  std::string error;
  fail_unless (load_config (path, c, error), "%s", error.c_str ());
  fail_if (c.hls_low_latency || c.low_latency ());
  fail_unless (c.hls_part_target == 0.5);
  path = write_file (dir, "int.json", "{\"hls\": {\"part_target\": 2}}");
  fail_unless (load_config (path, c, error), "%s", error.c_str ());
  fail_unless (c.hls_part_target == 2.0);
  /* S3 output stays classic HLS whatever hls.low_latency says */
  Config s = default_config ();
  path = write_file (dir, "s3.json", "{\"s3\": {\"endpoint\": \"http://x\", \"bucket\": \"b\","
      " \"public_base_url\": \"http://cdn\"}}");
  fail_unless (load_config (path, s, error), "%s", error.c_str ());
  fail_unless (s.hls_low_latency && !s.low_latency ());
  for (const char *b : { "{\"hls\": {\"part_target\": 0.09}}", "{\"hls\": {\"part_target\": 2.01}}",
           "{\"hls\": {\"part_target\": \"0.3\"}}", "{\"hls\": {\"low_latency\": 1}}" }) {
    Config d = default_config ();
    path = write_file (dir, "bad.json", b);
    error.clear ();
    fail_if (load_config (path, d, error), "accepted %s", b);
    fail_unless (error.find ("hls.") != std::string::npos, "%s", error.c_str ());
  }
  /* the range is in the error */
  Config d = default_config ();
  path = write_file (dir, "bad.json", "{\"hls\": {\"part_target\": 5}}");
  fail_if (load_config (path, d, error));
  fail_unless (error.find ("between 0.1 and 2") != std::string::npos, "%s", error.c_str ());
}
GST_END_TEST;

/* What a daemon killed in the middle of a stream leaves in c.data_dir: a
 * recorded stream "cut" live (its playlist open, two segments closed in
 * its journal, a third being written) and a stream "lost" interrupted. */
static void
leave_a_dead_daemons_streams (const Config & c)
{
  std::string error;
  {
    g_mkdir_with_parents ((c.data_dir + "/live/cut").c_str (), 0755);
    SqliteStore s;
    fail_unless (s.open (c.data_dir + "/castline.db", error), "%s", error.c_str ());
    StreamRecord r;
    r.key_hash = hash_key ("k");
    r.record = true;
    r.id = "cut";
    r.state = StreamState::live;
    fail_unless (s.insert (r, error));
    r.id = "lost";
    r.record = false;
    r.state = StreamState::interrupted;
    r.reason = "the publisher's WebSocket closed with 1006";
    fail_unless (s.insert (r, error));
  }
  {
    SqliteStore again;
    fail_unless (again.open (c.data_dir + "/castline.db", error));
    fail_unless (again.get ("cut")->state == StreamState::live, "not kept for the manager");
  }
  std::string live_dir = c.data_dir + "/live/cut";
  write_file (live_dir, "index.m3u8", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
      "#EXTINF:2.000,\nsegment00001.ts\n");
  write_file (live_dir, "segment00000.ts", "ts");
  write_file (live_dir, "segment00001.ts", "ts");
  write_file (live_dir, "segment00002.ts", "being written");
  auto j = SegmentJournal::open (SegmentJournal::path (c.data_dir, "cut", 1), error);
  fail_unless (j != nullptr, "%s", error.c_str ());
  j->append ("", { "segment00000.ts", 2 * GST_SECOND });
  j->append ("", { "segment00001.ts", 2 * GST_SECOND });
}

/* settle_unfinished on what leave_a_dead_daemons_streams left, with
 * reconnect_window window: every event told ("type id: reason") once
 * the recording is ready */
static std::vector<std::string>
settle_a_dead_daemons_streams (StreamManager & m)
{
  std::string error;
  std::vector<std::string> warnings;
  fail_unless (m.init (warnings, error), "%s", error.c_str ());
  auto told = std::make_shared<std::vector<std::string>> ();
  m.add_event_listener ([told] (const StreamEvent & e) {
        told->push_back (e.type + " " + e.stream.id + ": " + e.stream.reason);
      });
  auto ready = std::make_shared<std::vector<RecordingRecord>> ();
  m.add_recording_listener ([told, ready] (const StreamRecord & r,
          const std::vector<RecordingRecord> & recs) {
        told->push_back ("recording.ready " + r.id);
        *ready = recs;
      });
  m.settle_unfinished ();
  std::string live_dir = m.config ().data_dir + "/live/cut";
  g_autofree gchar *live = nullptr;
  fail_unless (g_file_get_contents ((live_dir + "/index.m3u8").c_str (), &live, nullptr, nullptr));
  fail_unless (g_str_has_suffix (live, "segment00001.ts\n#EXT-X-ENDLIST\n"), "%s", live);
  for (int i = 0; i < 100 && ready->empty (); i++)
    g_main_context_iteration (nullptr, FALSE) || (g_usleep (10000), true);
  fail_unless_equals_int (ready->size (), 1);
  fail_unless ((*ready)[0].name == "vod.m3u8" && (*ready)[0].segments == 2);
  g_autofree gchar *vod = nullptr;
  fail_unless (g_file_get_contents ((live_dir + "/vod.m3u8").c_str (), &vod, nullptr, nullptr));
  fail_unless (strstr (vod, "segment00001.ts") && !strstr (vod, "segment00002.ts"), "%s", vod);
  fail_unless (SegmentJournal::sessions (m.config ().data_dir, "cut").empty (),
      "the journal is left");
  fail_unless_equals_int (m.recordings ("cut").size (), 1);
  return *told;
}

/* The next daemon settles what a dead one left before it serves: live
 * playlists ended, the recording written from the journal, the streams
 * interrupted for a whole reconnect window (stream.interrupted, then
 * recording.ready), then ended as any interrupted stream. */
GST_START_TEST (test_manager_settles_what_a_dead_daemon_left)
{
  Config c = default_config ();
  c.data_dir = temp_dir ();
  c.reconnect_window = 1;
  leave_a_dead_daemons_streams (c);
  StreamManager m (c);
  gint64 before = g_get_real_time ();
  std::vector<std::string> told = settle_a_dead_daemons_streams (m);
  auto cut = m.get ("cut");
  fail_unless (cut->state == StreamState::interrupted);
  fail_unless (cut->reason == "the daemon stopped unexpectedly while the stream was live", "%s",
      cut->reason.c_str ());
  fail_unless (cut->resume_until >= before + G_USEC_PER_SEC, "not a whole window from now");
  auto lost = m.get ("lost");
  fail_unless (lost->state == StreamState::interrupted);
  fail_unless (lost->reason == "the publisher's WebSocket closed with 1006", "%s",
      lost->reason.c_str ());
  fail_unless (lost->resume_until >= before + G_USEC_PER_SEC);
  /* "lost" was interrupted already: nothing new to tell */
  fail_unless_equals_int (told.size (), 2);
  fail_unless (told[0] == "stream.interrupted cut: the daemon stopped unexpectedly while the "
      "stream was live", "%s", told[0].c_str ());
  fail_unless (told[1] == "recording.ready cut", "%s", told[1].c_str ());
  /* past the window: ended, as any interrupted stream */
  for (int i = 0; i < 300 && m.get ("cut")->state != StreamState::ended; i++)
    g_main_context_iteration (nullptr, FALSE) || (g_usleep (10000), true);
  for (const char *id : { "cut", "lost" }) {
    fail_unless (m.get (id)->state == StreamState::ended, "%s not ended after its window", id);
    fail_unless (m.get (id)->reason == "the publisher did not come back within 1 s");
  }
}
GST_END_TEST;

/* With reconnect_window 0 a dead daemon's streams end at once, with the
 * reason: stream.ended, then recording.ready. */
GST_START_TEST (test_manager_ends_what_a_dead_daemon_left_without_a_window)
{
  Config c = default_config ();
  c.data_dir = temp_dir ();
  c.reconnect_window = 0;
  leave_a_dead_daemons_streams (c);
  StreamManager m (c);
  std::vector<std::string> told = settle_a_dead_daemons_streams (m);
  auto cut = m.get ("cut");
  fail_unless (cut->state == StreamState::ended);
  fail_unless (cut->reason == "the daemon stopped unexpectedly while the stream was live", "%s",
      cut->reason.c_str ());
  fail_unless (cut->ended_at > 0);
  fail_unless (m.get ("lost")->state == StreamState::ended);
  fail_unless (m.get ("lost")->reason
      == "the daemon stopped unexpectedly while the stream was interrupted");
  fail_unless_equals_int (told.size (), 3);
  auto ended = std::find (told.begin (), told.end (),
      "stream.ended cut: the daemon stopped unexpectedly while the stream was live");
  fail_unless (ended != told.end () && ended != told.end () - 1, "%s", told[0].c_str ());
  fail_unless (*(ended + 1) == "recording.ready cut", "%s", (ended + 1)->c_str ());
}
GST_END_TEST;

GST_START_TEST (test_sessions_name_their_files_apart)
{
  fail_unless (session_prefix (1).empty ());
  fail_unless (session_prefix (2) == "s2-");
  fail_unless (session_prefix (12) == "s12-");
  std::string live = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/index.m3u8\n";
  std::string vod = render_vod_master (live, { "720p" }, "s2-vod.m3u8");
  fail_unless (vod.find ("720p/s2-vod.m3u8\n") != std::string::npos, "%s", vod.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_store_keeps_streams_on_reopen)
{
  std::string dir = temp_dir ();
  std::string db = dir + "/castline.db";
  std::string key = random_token (24);
  fail_unless (key.size () == 32);
  {
    SqliteStore s;
    std::string error;
    fail_unless (s.open (db, error), "%s", error.c_str ());
    StreamRecord r;
    r.id = random_stream_id ();
    fail_unless (valid_stream_id (r.id));
    r.title = "t'\"; DROP TABLE streams; --";
    r.key_hash = hash_key (key);
    r.created_at = 1;
    fail_unless (s.insert (r, error));
    fail_if (s.insert (r, error), "a duplicate id was inserted");
    r.state = StreamState::live;
    fail_unless (s.save (r, error) == WriteResult::ok);
    StreamRecord other = r;
    other.id = "other";
    other.state = StreamState::ended;
    other.created_at = 2;
    fail_unless (s.insert (other, error));
  }
  SqliteStore s;
  std::string error;
  fail_unless (s.open (db, error));
  auto list = s.list ();
  fail_unless_equals_int (list.size (), 2);
  fail_unless (list[0].id == "other");
  fail_unless (list[1].state == StreamState::live, "a stream left live is the manager's to settle");
  fail_unless (list[1].title == "t'\"; DROP TABLE streams; --");
  fail_unless (key_matches (key, list[1].key_hash));
  fail_if (key_matches (key + "x", list[1].key_hash));
  fail_if (s.get ("missing").has_value ());

  for (const char *id : { "", "../x", "A", "a/b", "-a", "a b", "a.b" })
    fail_if (valid_stream_id (id), "accepted id '%s'", id);
}
GST_END_TEST;

GST_START_TEST (test_shipped_pipelines_load)
{
  PipelineCatalog cat;
  std::vector<std::string> errors;
  fail_unless (cat.load ({ CASTLINE_SOURCE_DIR "/pipelines" }, errors));
  for (auto & e : errors)
    fail ("%s", e.c_str ());
  for (const char *name : { "passthrough", "transcode", "transcode-vp9", "audio-only", "abr" })
    fail_unless (cat.find (name), "%s missing", name);
  fail_unless (cat.find ("abr")->ladder && !cat.find ("passthrough")->ladder);
  fail_unless (cat.find ("abr")->takes ("video", "h264") && cat.find ("abr")->takes ("video", "vp8"));

  std::string v, a;
  fail_unless (cat.choose ({ "vp8", "h264" }, { "opus" }, v, a)->name == "passthrough");
  fail_unless (v == "h264" && a == "opus");
  fail_unless (cat.choose ({ "vp8" }, { "opus" }, v, a)->name == "transcode");
  fail_unless (cat.choose ({ "vp9" }, { "opus" }, v, a)->name == "transcode-vp9");
  fail_unless (cat.choose ({}, { "opus" }, v, a)->name == "audio-only");
  fail_unless (cat.choose ({ "av1" }, { "opus" }, v, a) == nullptr);
  /* RTMP: H.264 and AAC, both passed through */
  fail_unless (cat.choose ({ "h264" }, { "aac" }, v, a)->name == "passthrough");
  fail_unless (v == "h264" && a == "aac");
  fail_unless (cat.choose ({}, { "aac" }, v, a)->name == "audio-only");
  fail_unless (cat.find ("abr")->takes ("audio", "aac"));

  GraphValues values;
  values.output = "hlssink2 name=out";
  values.set_audio_codec ("opus");
  std::string g = render_graph (*cat.find ("passthrough"), values);
  fail_unless (g.find ("{") == std::string::npos);
  fail_unless (g.find ("hlssink2 name=out") != std::string::npos);
  fail_unless (g.find ("opusdec") != std::string::npos && g.find ("avenc_aac") != std::string::npos);
  /* AAC in: only parsed, never decoded or encoded */
  values.set_audio_codec ("aac");
  g = render_graph (*cat.find ("passthrough"), values);
  fail_unless (g.find ("! aacparse ! viewerstats name=audio_stats") != std::string::npos, "%s",
      g.c_str ());
  fail_unless (g.find ("avenc_aac") == std::string::npos && g.find ("avdec_aac") == std::string::npos);
  g = render_graph (*cat.find ("abr"), values);
  fail_unless (g.find ("queue name=audio_in ! avdec_aac ! audioconvert") != std::string::npos);
}
GST_END_TEST;

GST_START_TEST (test_broken_descriptions_are_reported)
{
  struct Case {
    const char *text;
    const char *says;
  } cases[] = {
    { "video: h264\n", "no graph" },
    { "video: h265\n---\nqueue name=video_in ! out.video {output}\n", "unknown codec" },
    { "colour: red\n---\n{output}\n", "unknown key" },
    { "video: h264\n---\nqueue name=video_in ! out.video\n", "no {output}" },
    { "video: h264\n---\nqueue name=video_in ! out.video {outptu}\n", "unknown placeholder" },
    { "video: h264\n---\nqueue name=video_in ! nosuchelement ! out.video {output}\n", "nosuchelement" },
    { "video: h264\n---\nqueue name=v ! out.video {output}\n", "video_in" },
    { "audio: opus\n---\nqueue name=video_in ! out.video queue name=audio_in ! out.audio {output}\n",
      "no video codec" },
    { "video: h264\n---\nqueue name=video_in ! out.video {output\n", "unclosed" },
    { "video: h264\n---\nqueue name=video_in ! tee name=video_raw {ladder} {output}\n", "not both" },
    { "video: h264\n---\nqueue name=video_in ! fakesink {ladder}\n", "tee named video_raw" },
    { "video: h264\naudio: opus\n---\nqueue name=video_in ! tee name=video_raw "
      "queue name=audio_in ! fakesink {ladder}\n", "tee named audio_raw" },
    { "audio: opus\n---\nqueue name=audio_in ! tee name=audio_raw {ladder}\n", "needs video" },
  };
  std::string dir = temp_dir ();
  for (auto & c : cases) {
    write_file (dir, "broken.pipeline", c.text);
    PipelineCatalog cat;
    std::vector<std::string> errors;
    fail_if (cat.load ({ dir }, errors));
    fail_unless_equals_int (errors.size (), 1);
    fail_unless (errors[0].find ("broken.pipeline") != std::string::npos, "%s", errors[0].c_str ());
    fail_unless (errors[0].find (c.says) != std::string::npos, "'%s' does not say '%s'",
        errors[0].c_str (), c.says);
  }
  /* a bad name */
  g_unlink ((dir + "/broken.pipeline").c_str ());
  write_file (dir, "Bad Name.pipeline", "audio: opus\n---\nqueue name=audio_in ! out.audio {output}\n");
  PipelineCatalog cat;
  std::vector<std::string> errors;
  fail_if (cat.load ({ dir }, errors));
  fail_unless (errors.size () == 1 && errors[0].find ("[a-z0-9-]") != std::string::npos);
}
GST_END_TEST;

static Suite *
launchercore_suite (void)
{
  Suite *s = suite_create ("launchercore");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_config_defaults_and_file);
  tcase_add_test (tc, test_store_keeps_streams_on_reopen);
  tcase_add_test (tc, test_config_web_and_reconnect_keys);
  tcase_add_test (tc, test_config_webrtc_keys);
  tcase_add_test (tc, test_config_srt_keys);
  tcase_add_test (tc, test_config_low_latency_keys);
  tcase_add_test (tc, test_manager_settles_what_a_dead_daemon_left);
  tcase_add_test (tc, test_manager_ends_what_a_dead_daemon_left_without_a_window);
  tcase_add_test (tc, test_sessions_name_their_files_apart);
  tcase_add_test (tc, test_shipped_pipelines_load);
  tcase_add_test (tc, test_broken_descriptions_are_reported);
  return s;
}

GST_CHECK_MAIN (launchercore);
