/* llhlssink end to end: a real H.264 + AAC pipeline into the element; its
 * signals, the parts' boxes, the playlist and files on disk, the
 * splitmuxsink messages, ffprobe on init + segment. */
/* the C++ headers first: gst-check defines a `fail` macro that <sstream>
 * would trip on */
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "../assertions.h"
#include "boxreader.h"

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

/* ---- what the element said ---- */

struct Record {
  std::string kind;                /* init, part, segment, playlist, delete */
  guint64 msn = 0;
  guint part = 0;
  std::vector<guint8> data;
  bool flag = false;               /* independent / ended */
  double duration = 0;
  std::string text;                /* uri / playlist */
  bool has_delta = false;
};

struct Capture {
  std::mutex lock;
  std::vector<Record> records;
  std::vector<std::pair<std::string, std::string>> messages;   /* name, location */
};

static std::vector<guint8>
bytes_of (GBytes * b)
{
  gsize n = 0;
  auto *p = static_cast<const guint8 *> (g_bytes_get_data (b, &n));
  return std::vector<guint8> (p, p + n);
}

static void
on_init (GstElement *, GBytes * init, Capture * c)
{
  std::lock_guard<std::mutex> lk (c->lock);
  c->records.push_back (Record {"init", 0, 0, bytes_of (init), false, 0, "", false});
}

static void
on_part (GstElement *, guint64 msn, guint part, GBytes * data, gboolean independent,
    gdouble duration, const gchar * uri, Capture * c)
{
  std::lock_guard<std::mutex> lk (c->lock);
  c->records.push_back (Record {"part", msn, part, bytes_of (data), (bool) independent,
          duration, uri, false});
}

static void
on_segment (GstElement *, guint64 msn, gdouble duration, const gchar * uri, Capture * c)
{
  std::lock_guard<std::mutex> lk (c->lock);
  c->records.push_back (Record {"segment", msn, 0, {}, false, duration, uri, false});
}

static void
on_playlist (GstElement *, const gchar * playlist, const gchar * delta, guint64 msn,
    guint part, gboolean ended, Capture * c)
{
  std::lock_guard<std::mutex> lk (c->lock);
  Record r {"playlist", msn, part, {}, (bool) ended, 0, playlist, delta != nullptr};
  c->records.push_back (r);
}

static void
on_delete (GstElement *, const gchar * uri, guint64 msn, Capture * c)
{
  std::lock_guard<std::mutex> lk (c->lock);
  c->records.push_back (Record {"delete", msn, 0, {}, false, 0, uri, false});
}

/* ---- the parts' boxes, read with the tests' box reader ---- */

struct Traf {
  guint32 track_id = 0;
  guint64 tfdt = 0;
  std::vector<guint32> durations;
  std::vector<bool> sync;
};

/* the trafs of one moof+mdat; fails the test on a malformed one */
static std::vector<Traf>
read_fragment (const std::vector<guint8> & f)
{
  using namespace castline::llhls::test;
  std::vector<Box> boxes;
  std::string error;
  fail_unless (parse_boxes (f.data (), f.size (), boxes, error), "%s", error.c_str ());
  fail_unless_equals_int (boxes.size (), 2);
  assert_str_eq (boxes[0].type, "moof");
  assert_str_eq (boxes[1].type, "mdat");
  std::vector<Traf> out;
  for (const Box *traf : find_all (boxes, "moof/traf")) {
    Tfhd tfhd;
    Tfdt tfdt;
    Trun trun;
    fail_unless (read_tfhd (*find (traf->children, "tfhd"), tfhd, error), "%s", error.c_str ());
    fail_unless (read_tfdt (*find (traf->children, "tfdt"), tfdt, error), "%s", error.c_str ());
    fail_unless (read_trun (*find (traf->children, "trun"), trun, error), "%s", error.c_str ());
    Traf t;
    t.track_id = tfhd.track_id;
    t.tfdt = tfdt.base_media_decode_time;
    for (const auto & sample : trun.samples) {
      t.durations.push_back (sample.duration);
      t.sync.push_back (!(sample.flags & 0x00010000));   /* sample_is_non_sync_sample */
    }
    out.push_back (t);
  }
  return out;
}

/* ---- a playlist validator ---- */

static double
attr_double (const std::string & line, const std::string & name)
{
  size_t at = line.find (name + "=");
  fail_unless (at != std::string::npos, "no %s in %s", name.c_str (), line.c_str ());
  return g_ascii_strtod (line.c_str () + at + name.size () + 1, nullptr);
}

/* every tag known, version 9, PART durations <= PART-TARGET, EXTINF the
 * sum of its parts (when listed), TARGETDURATION >= every EXTINF rounded,
 * media sequence = the first segment's number in its URI; returns the
 * number of complete segments */
static int
validate_playlist (const std::string & text, bool want_end)
{
  static const char *known[] = {"#EXTM3U", "#EXT-X-VERSION:", "#EXT-X-TARGETDURATION:",
    "#EXT-X-SERVER-CONTROL:", "#EXT-X-PART-INF:", "#EXT-X-MEDIA-SEQUENCE:", "#EXT-X-MAP:",
    "#EXT-X-PROGRAM-DATE-TIME:", "#EXT-X-PART:", "#EXTINF:", "#EXT-X-PRELOAD-HINT:",
    "#EXT-X-ENDLIST", "#EXT-X-DISCONTINUITY", "#EXT-X-SKIP:"};
  std::istringstream in (text);
  std::string line;
  double part_target = -1, parts_sum = 0;
  int target = -1, segments = 0, parts_in_segment = 0;
  long long media_sequence = -1;
  bool ended = false, hinted = false;
  /* each date is the one before plus the segment between them */
  double last_date = -1, since_date = 0;
  fail_unless (std::getline (in, line) && line == "#EXTM3U");
  while (std::getline (in, line)) {
    fail_unless (!line.empty (), "an empty line in\n%s", text.c_str ());
    if (line[0] != '#') {
      /* a segment URI: segmentNNNNN.m4s */
      if (segments == 1 - 1 && media_sequence >= 0) {
        g_autofree gchar *want = g_strdup_printf ("segment%05lld.m4s", media_sequence);
        assert_str_eq (line, want);
      }
      segments++;
      continue;
    }
    bool ok = false;
    for (const char *k : known)
      ok = ok || g_str_has_prefix (line.c_str (), k);
    fail_unless (ok, "unknown tag %s", line.c_str ());
    fail_unless (!ended, "something after ENDLIST");
    if (g_str_has_prefix (line.c_str (), "#EXT-X-VERSION:"))
      assert_str_eq (line, "#EXT-X-VERSION:9");
    else if (g_str_has_prefix (line.c_str (), "#EXT-X-TARGETDURATION:"))
      target = atoi (line.c_str () + 22);
    else if (g_str_has_prefix (line.c_str (), "#EXT-X-PART-INF:"))
      part_target = attr_double (line, "PART-TARGET");
    else if (g_str_has_prefix (line.c_str (), "#EXT-X-MEDIA-SEQUENCE:"))
      media_sequence = atoll (line.c_str () + 22);
    else if (g_str_has_prefix (line.c_str (), "#EXT-X-SERVER-CONTROL:")) {
      assert_has (line, "CAN-BLOCK-RELOAD=YES");
      fail_unless (attr_double (line, "PART-HOLD-BACK") >= 3 * part_target - 1e-9 || part_target < 0);
    } else if (g_str_has_prefix (line.c_str (), "#EXT-X-PART:")) {
      double d = attr_double (line, "DURATION");
      fail_unless (part_target > 0 && d <= part_target + 1e-9, "%s over PART-TARGET %f",
          line.c_str (), part_target);
      parts_sum += d;
      parts_in_segment++;
    } else if (g_str_has_prefix (line.c_str (), "#EXT-X-PROGRAM-DATE-TIME:")) {
      g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (line.c_str () + 25, nullptr);
      fail_unless (dt, "a bad date in %s", line.c_str ());
      double date = g_date_time_to_unix (dt) + g_date_time_get_microsecond (dt) / 1e6;
      if (last_date >= 0)
        fail_unless (fabs (date - last_date - since_date) < 0.0025, "%s is not %f s after the "
            "date before", line.c_str (), since_date);
      last_date = date;
      since_date = 0;
    } else if (g_str_has_prefix (line.c_str (), "#EXTINF:")) {
      double d = g_ascii_strtod (line.c_str () + 8, nullptr);
      since_date += d;
      fail_unless (target > 0 && (int) (d + 0.5) <= target, "%s over TARGETDURATION %d",
          line.c_str (), target);
      /* each is rounded to the millisecond */
      if (parts_in_segment)
        fail_unless (fabs (d - parts_sum) <= 0.0005 * (parts_in_segment + 1) + 1e-9,
            "EXTINF %f is not its parts' %f", d, parts_sum);
      parts_sum = 0;
      parts_in_segment = 0;
    } else if (g_str_has_prefix (line.c_str (), "#EXT-X-PRELOAD-HINT:")) {
      assert_has (line, "TYPE=PART,URI=\"");
      hinted = true;
    } else if (line == "#EXT-X-ENDLIST") {
      ended = true;
    }
  }
  fail_unless (target > 0 && part_target > 0 && media_sequence >= 0);
  fail_unless_equals_int (ended, want_end);
  fail_unless_equals_int (hinted, !want_end);
  return segments;
}

/* ---- running the element ---- */

struct Run {
  std::string dir;
  Capture capture;
  std::vector<std::string> errors;
};

/* prepare: called with the sink before the pipeline starts */
static void
run_pipeline (Run & run, const std::string & description,
    const std::function<void (GstElement *)> & prepare = {})
{
  g_autoptr (GError) error = nullptr;
  GstElement *pipeline = gst_parse_launch (description.c_str (), &error);
  fail_unless (pipeline, "%s", error ? error->message : "");
  g_autoptr (GstElement) sink = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  Capture *c = &run.capture;
  g_signal_connect (sink, "init-ready", G_CALLBACK (on_init), c);
  g_signal_connect (sink, "part-ready", G_CALLBACK (on_part), c);
  g_signal_connect (sink, "segment-ready", G_CALLBACK (on_segment), c);
  g_signal_connect (sink, "playlist-ready", G_CALLBACK (on_playlist), c);
  g_signal_connect (sink, "delete-fragment", G_CALLBACK (on_delete), c);
  if (prepare)
    prepare (sink);
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  for (;;) {
    g_autoptr (GstMessage) m = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
        (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT));
    fail_unless (m, "no EOS within 60 s");
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT) {
      const GstStructure *s = gst_message_get_structure (m);
      if (g_str_has_prefix (gst_structure_get_name (s), "splitmuxsink-fragment-"))
        run.capture.messages.emplace_back (gst_structure_get_name (s),
            gst_structure_get_string (s, "location"));
      continue;
    }
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
      g_autoptr (GError) e = nullptr;
      g_autofree gchar *dbg = nullptr;
      gst_message_parse_error (m, &e, &dbg);
      run.errors.push_back (std::string (e->message) + " / " + (dbg ? dbg : ""));
    }
    break;
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

static std::string
make_dir ()
{
  g_autofree gchar *d = g_dir_make_tmp ("llhlssink-XXXXXX", nullptr);
  return d;
}

static void
remove_dir (const std::string & dir)
{
  GDir *d = g_dir_open (dir.c_str (), 0, nullptr);
  if (d) {
    while (const gchar *n = g_dir_read_name (d))
      g_unlink ((dir + "/" + n).c_str ());
    g_dir_close (d);
  }
  g_rmdir (dir.c_str ());
}

static std::string
av_pipeline (const std::string & dir, int frames, const std::string & extra = "")
{
  return "videotestsrc num-buffers=" + std::to_string (frames)
      + " ! video/x-raw,width=160,height=120,framerate=30/1 ! x264enc key-int-max=30 "
      "tune=zerolatency speed-preset=ultrafast ! h264parse ! llhlssink name=out location=" + dir
      + "/segment%05d.m4s init-location=" + dir + "/init.mp4 playlist-location=" + dir
      + "/index.m3u8 " + extra + " audiotestsrc num-buffers=" + std::to_string (frames * 3 / 2)
      + " ! avenc_aac ! aacparse ! out.audio";
}

static std::string
read_text (const std::string & path)
{
  g_autofree gchar *text = nullptr;
  gsize size = 0;
  fail_unless (g_file_get_contents (path.c_str (), &text, &size, nullptr), "no %s",
      path.c_str ());
  return std::string (text, size);
}

/* the records around r[i], for a failure's message */
static std::string
records_around (const std::vector<Record> & r, size_t i)
{
  std::string out;
  for (size_t j = i >= 5 ? i - 5 : 0; j < r.size () && j <= i + 2; j++) {
    g_autofree gchar *one = g_strdup_printf ("%s%s %" G_GUINT64_FORMAT ".%u", j == i ? " >" : " ",
        r[j].kind.c_str (), r[j].msn, r[j].part);
    out += one;
  }
  return out;
}

/* the signals of a run of av_pipeline (150 frames): one init (both
 * tracks' caps come before the first part, however late one track's
 * streaming thread brings them), parts numbered in order, each followed
 * by its playlist (after segment-ready when it closed the segment), three
 * segments, the last playlist ended */
static void
check_signal_order (const Run & run)
{
  fail_unless (run.errors.empty (), "%s", run.errors.empty () ? "" : run.errors[0].c_str ());
  const auto & r = run.capture.records;
  fail_unless (!r.empty ());
  assert_str_eq (r[0].kind, "init");
  gint64 msn = 0, part = -1;
  int segments = 0;
  for (size_t i = 1; i < r.size (); i++) {
    if (r[i].kind == "part") {
      /* the next part of this segment, or the first of the next */
      bool next_part = (gint64) r[i].msn == msn && (gint64) r[i].part == part + 1;
      bool next_segment = (gint64) r[i].msn == msn + 1 && r[i].part == 0 && i >= 2
          && r[i - 2].kind == "segment";
      fail_unless (next_part || next_segment, "part %" G_GUINT64_FORMAT ".%u after %"
          G_GINT64_FORMAT ".%" G_GINT64_FORMAT ":%s", r[i].msn, r[i].part, msn, part,
          records_around (r, i).c_str ());
      msn = r[i].msn;
      part = r[i].part;
      /* a playlist follows each part, or the segment and then the playlist */
      fail_unless (i + 1 < r.size ());
      size_t pl = r[i + 1].kind == "segment" ? i + 2 : i + 1;
      fail_unless (pl < r.size ());
      assert_str_eq (r[pl].kind, "playlist");
      fail_unless_equals_uint64 (r[pl].msn, r[i].msn);
      fail_unless_equals_int (r[pl].part, r[i].part);
      g_autofree gchar *uri = g_strdup_printf ("segment%05" G_GUINT64_FORMAT ".%u.m4s", msn,
          r[i].part);
      assert_str_eq (r[i].text, uri);
      /* the ended playlist lists no parts: a player goes by segments */
      if (r[pl].flag)
        assert_lacks (r[pl].text, "#EXT-X-PART:");
      else
        assert_has (r[pl].text, std::string ("URI=\"") + uri + "\"");
    } else if (r[i].kind == "segment") {
      fail_unless (r[i - 1].kind == "part", "a segment after no part:%s",
          records_around (r, i).c_str ());
      fail_unless_equals_uint64 (r[i].msn, msn);
      fail_unless_equals_int (r[i].msn, segments);
      segments++;
    }
  }
  /* 5 s of 2 s segments */
  fail_unless_equals_int (segments, 3);
  const Record & last = r.back ();
  assert_str_eq (last.kind, "playlist");
  fail_unless (last.flag);
  assert_has (last.text, "#EXT-X-ENDLIST\n");
  for (size_t i = 0; i + 1 < r.size (); i++) {
    fail_unless (r[i].kind != "playlist" || !r[i].flag, "ended before the last playlist");
    fail_unless (i == 0 || r[i].kind != "init", "a second init:%s",
        records_around (r, i).c_str ());
  }
}

GST_START_TEST (test_signals_come_in_order_with_consistent_numbers)
{
  Run run;
  run.dir = make_dir ();
  run_pipeline (run, av_pipeline (run.dir, 150));
  check_signal_order (run);
  remove_dir (run.dir);
}
GST_END_TEST;

/* The audio's caps held back until the video has sent 1 s: what a loaded
 * machine did now and then to this non-live pipeline, whose video thread
 * may run ahead of the audio's. */
struct HoldAudioCaps {
  std::mutex lock;
  std::condition_variable cond;
  int video_frames = 0;            /* that went into the element */
};

static GstPadProbeReturn
video_runs (GstPad *, GstPadProbeInfo *, HoldAudioCaps * h)
{
  /* buffers, not timestamps: the encoder's do not start at 0 */
  std::lock_guard<std::mutex> lk (h->lock);
  if (++h->video_frames == 30)
    h->cond.notify_all ();
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
audio_caps_wait (GstPad *, GstPadProbeInfo * info, HoldAudioCaps * h)
{
  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_CAPS) {
    std::unique_lock<std::mutex> lk (h->lock);
    /* bounded: a video that never gets there fails the test, not hangs it */
    h->cond.wait_for (lk, std::chrono::seconds (20), [h] { return h->video_frames >= 30; });
  }
  return GST_PAD_PROBE_OK;
}

/* Seen under load when the video waited for the audio's caps one part
 * target only: segment 0 had no audio, and segment 1 came after a second
 * init (init1.mp4), so the first check of check_signal_order failed with
 * "part 1.0 after 0.6". The video now waits for the audio's caps as the
 * audio waits for the video's, and the output is the same as when both
 * come together. */
GST_START_TEST (test_audio_caps_after_the_video_started)
{
  Run run;
  run.dir = make_dir ();
  HoldAudioCaps hold;
  run_pipeline (run, av_pipeline (run.dir, 150), [&hold] (GstElement * sink) {
        g_autoptr (GstPad) video = gst_element_get_static_pad (sink, "video");
        g_autoptr (GstPad) audio = gst_element_get_static_pad (sink, "audio");
        fail_unless (video && audio);
        gst_pad_add_probe (video, GST_PAD_PROBE_TYPE_BUFFER, (GstPadProbeCallback) video_runs,
            &hold, nullptr);
        gst_pad_add_probe (audio, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
            (GstPadProbeCallback) audio_caps_wait, &hold, nullptr);
      });
  fail_unless (hold.video_frames >= 30);
  check_signal_order (run);
  /* none of the audio was dropped: its first sample (in whichever part
   * it came: the tracks are never waited for) is at the start, not at
   * segment 1's 2 s (its timescale is its rate, 44100) */
  bool audio = false;
  for (const auto & rec : run.capture.records) {
    if (rec.kind != "part" || audio)
      continue;
    for (const auto & t : read_fragment (rec.data))
      if (t.track_id == 2 && !audio) {
        audio = true;
        fail_unless (t.tfdt < 4410, "the audio starts at tick %" G_GUINT64_FORMAT, t.tfdt);
      }
  }
  fail_unless (audio);
  remove_dir (run.dir);
}
GST_END_TEST;

GST_START_TEST (test_parts_continue_and_segments_start_on_keyframes)
{
  Run run;
  run.dir = make_dir ();
  run_pipeline (run, av_pipeline (run.dir, 150));
  fail_unless (run.errors.empty ());
  std::map<guint32, guint64> next_tfdt;   /* per track: where the last part ended */
  int parts = 0;
  bool video_ended = false;
  const Record *last_part = nullptr;
  for (const auto & rec : run.capture.records)
    if (rec.kind == "part")
      last_part = &rec;
  for (const auto & rec : run.capture.records) {
    if (rec.kind != "part")
      continue;
    parts++;
    /* but the last, made at EOS and never listed as a part */
    fail_unless (&rec == last_part || rec.duration <= 0.3 + 1e-6, "a part of %f",
        rec.duration);
    auto trafs = read_fragment (rec.data);
    fail_unless (!trafs.empty ());
    for (const auto & t : trafs) {
      if (next_tfdt.count (t.track_id))
        fail_unless_equals_uint64 (t.tfdt, next_tfdt[t.track_id]);
      guint64 end = t.tfdt;
      for (guint32 d : t.durations)
        end += d;
      next_tfdt[t.track_id] = end;
    }
    /* track 1 is the video: the first part of a segment starts with a
     * keyframe and says so; the others do not (1 s GOPs, 0.3 s parts) */
    const Traf *video = nullptr;
    for (const auto & t : trafs)
      if (t.track_id == 1)
        video = &t;
    if (!video) {
      /* the video ended first (in this pipeline, not live, it may run
       * ahead of the audio): audio drives the last parts */
      video_ended = true;
      fail_unless (rec.flag);
      continue;
    }
    fail_unless (!video_ended, "video after a part without it");
    fail_unless (!video->sync.empty ());
    if (rec.part == 0)
      fail_unless (rec.flag && video->sync[0], "part %" G_GUINT64_FORMAT ".0", rec.msn);
    fail_unless_equals_int (rec.flag, video->sync[0]);
  }
  fail_unless_equals_int (next_tfdt.size (), 2);
  fail_unless (parts >= 16);
  remove_dir (run.dir);
}
GST_END_TEST;

GST_START_TEST (test_files_playlist_and_messages)
{
  Run run;
  run.dir = make_dir ();
  run_pipeline (run, av_pipeline (run.dir, 150, "max-files=2"));
  fail_unless (run.errors.empty ());
  std::string playlist = read_text (run.dir + "/index.m3u8");
  fail_unless_equals_int (validate_playlist (playlist, true), 3);
  assert_has (playlist, "#EXT-X-MAP:URI=\"init.mp4\"\n#EXT-X-PROGRAM-DATE-TIME:");
  assert_lacks (playlist, "#EXT-X-PART:");
  /* every playlist handed over validates too; the live ones list parts */
  bool listed = false;
  for (const auto & rec : run.capture.records)
    if (rec.kind == "playlist") {
      validate_playlist (rec.text, rec.flag);
      listed = listed || rec.text.find ("#EXT-X-PART:DURATION=0.3,URI=\"segment00001.0.m4s\","
          "INDEPENDENT=YES\n") != std::string::npos;
    }
  fail_unless (listed);

  /* opened and closed per segment, naming the files */
  const auto & m = run.capture.messages;
  fail_unless_equals_int (m.size (), 6);
  for (int i = 0; i < 3; i++) {
    g_autofree gchar *want = g_strdup_printf ("%s/segment%05d.m4s", run.dir.c_str (), i);
    assert_str_eq (m[2 * i].first, "splitmuxsink-fragment-opened");
    assert_str_eq (m[2 * i].second, want);
    assert_str_eq (m[2 * i + 1].first, "splitmuxsink-fragment-closed");
    assert_str_eq (m[2 * i + 1].second, want);
  }
  /* max-files=2: segment 0 and its parts are gone, 1 and 2 stay */
  fail_unless (!g_file_test ((run.dir + "/segment00000.m4s").c_str (), G_FILE_TEST_EXISTS));
  fail_unless (!g_file_test ((run.dir + "/segment00000.0.m4s").c_str (), G_FILE_TEST_EXISTS));
  fail_unless (g_file_test ((run.dir + "/segment00001.m4s").c_str (), G_FILE_TEST_EXISTS));
  fail_unless (g_file_test ((run.dir + "/segment00002.3.m4s").c_str (), G_FILE_TEST_EXISTS));
  fail_unless (!g_file_test ((run.dir + "/segment00002.m4s.tmp").c_str (), G_FILE_TEST_EXISTS));

  /* a segment file is its parts one after the other */
  std::string seg = read_text (run.dir + "/segment00002.m4s");
  std::string joined;
  for (const auto & rec : run.capture.records)
    if (rec.kind == "part" && rec.msn == 2)
      joined.append (rec.data.begin (), rec.data.end ());
  fail_unless (seg == joined, "segment00002.m4s is not its parts");

  /* ffprobe reads init + segment: H.264 and AAC, 60 video frames */
  std::string init = read_text (run.dir + "/init.mp4");
  std::string path = run.dir + "/probe.mp4";
  std::string whole = init + seg;
  fail_unless (g_file_set_contents (path.c_str (), whole.data (), whole.size (), nullptr));
  gchar *argv[] = {(gchar *) "ffprobe", (gchar *) "-v", (gchar *) "error", (gchar *) "-count_packets",
    (gchar *) "-show_entries", (gchar *) "stream=codec_name,nb_read_packets",
    (gchar *) "-of", (gchar *) "compact", (gchar *) path.c_str (), nullptr};
  g_autofree gchar *out = nullptr;
  gint status = 0;
  fail_unless (g_spawn_sync (nullptr, argv, nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr,
          &out, nullptr, &status, nullptr), "ffprobe did not run");
  fail_unless (g_spawn_check_wait_status (status, nullptr), "ffprobe failed: %s", out);
  assert_has (out, "codec_name=h264|nb_read_packets=30");
  assert_has (out, "codec_name=aac|");
  remove_dir (run.dir);
}
GST_END_TEST;

GST_START_TEST (test_audio_only_and_bad_location)
{
  Run run;
  run.dir = make_dir ();
  run_pipeline (run, "audiotestsrc num-buffers=200 ! avenc_aac ! aacparse ! llhlssink name=out "
      "location=" + run.dir + "/segment%05d.m4s init-location=" + run.dir + "/init.mp4 "
      "playlist-location=" + run.dir + "/index.m3u8");
  fail_unless (run.errors.empty ());
  std::string playlist = read_text (run.dir + "/index.m3u8");
  fail_unless (validate_playlist (playlist, true) >= 2);
  for (const auto & rec : run.capture.records)
    if (rec.kind == "part")
      fail_unless (rec.flag, "an audio part that is not independent");

  Run bad;
  run_pipeline (bad, "audiotestsrc num-buffers=20 ! avenc_aac ! aacparse ! llhlssink name=out "
      "location=" + run.dir + "/seg%s%d.m4s");
  fail_unless_equals_int (bad.errors.size (), 1);
  assert_has (bad.errors[0], "exactly one %d");

  /* a directory that is not there: an error naming the file, no crash */
  Run missing;
  run_pipeline (missing, "audiotestsrc num-buffers=100 ! avenc_aac ! aacparse ! llhlssink name=out "
      "location=" + run.dir + "/none/segment%05d.m4s init-location=\"\" playlist-location=\"\"");
  fail_unless_equals_int (missing.errors.size (), 1);
  assert_has (missing.errors[0], "could not open " + run.dir + "/none/segment00000.m4s.tmp");
  remove_dir (run.dir);
}
GST_END_TEST;

GST_START_TEST (test_keyframe_requests_cut_long_gops)
{
  /* x264enc would make one 4 s GOP; asked, it makes a keyframe at 2 s */
  for (bool requests : {true, false}) {
    Run run;
    run.dir = make_dir ();
    run_pipeline (run, "videotestsrc num-buffers=120 ! video/x-raw,width=160,height=120,"
        "framerate=30/1 ! x264enc key-int-max=1000 tune=zerolatency speed-preset=ultrafast ! "
        "llhlssink name=out location=" + run.dir + "/segment%05d.m4s playlist-location="
        + run.dir + "/index.m3u8 init-location=\"\" program-date-time=false write-parts=false "
        "send-keyframe-requests="
        + (requests ? "true" : "false"));
    fail_unless (run.errors.empty ());
    std::string playlist = read_text (run.dir + "/index.m3u8");
    fail_unless_equals_int (validate_playlist (playlist, true), requests ? 2 : 1);
    assert_has (playlist, requests ? "#EXTINF:2,\nsegment00000.m4s\n" : "#EXTINF:4,\n");
    assert_lacks (playlist, "PROGRAM-DATE-TIME");
    fail_unless (!g_file_test ((run.dir + "/init.mp4").c_str (), G_FILE_TEST_EXISTS));
    fail_unless (g_file_test ((run.dir + "/segment00000.m4s").c_str (), G_FILE_TEST_EXISTS));
    fail_unless (!g_file_test ((run.dir + "/segment00000.0.m4s").c_str (), G_FILE_TEST_EXISTS));
    remove_dir (run.dir);
  }
}
GST_END_TEST;

static std::string
half_second_gops (const std::string & dir, const std::string & extra)
{
  return "videotestsrc num-buffers=120 ! video/x-raw,width=160,height=120,framerate=30/1 ! "
      "x264enc key-int-max=15 tune=zerolatency speed-preset=ultrafast ! llhlssink name=out "
      "location=" + dir + "/segment%05d.m4s playlist-location=" + dir + "/index.m3u8 "
      "init-location=\"\" write-parts=false " + extra;
}

GST_START_TEST (test_external_cuts_only_at_split_times)
{
  /* keyframes every 0.5 s for 4 s; told to split at 1.2 s and 3.0 s:
   * segments close at the keyframes at 1.5 s and 3.0 s, not at 2 s */
  Run run;
  run.dir = make_dir ();
  run_pipeline (run, half_second_gops (run.dir, "segment-cuts=external"), [] (GstElement * sink) {
        g_signal_emit_by_name (sink, "split-at-running-time", (guint64) (1200 * GST_MSECOND));
        g_signal_emit_by_name (sink, "split-at-running-time", (guint64) (3 * GST_SECOND));
      });
  fail_unless (run.errors.empty ());
  std::string playlist = read_text (run.dir + "/index.m3u8");
  fail_unless_equals_int (validate_playlist (playlist, true), 3);
  assert_has (playlist, "#EXTINF:1.5,\nsegment00000.m4s\n");
  assert_has (playlist, "#EXTINF:1.5,\nsegment00001.m4s\n");
  assert_has (playlist, "#EXTINF:1,\nsegment00002.m4s\n");
  remove_dir (run.dir);
}
GST_END_TEST;

GST_START_TEST (test_external_cuts_without_split_times_make_one_segment)
{
  /* and auto (the default) cuts at target-duration, a split time too */
  for (bool external : {true, false}) {
    Run run;
    run.dir = make_dir ();
    run_pipeline (run, half_second_gops (run.dir, external ? "segment-cuts=external" : ""),
        [external] (GstElement * sink) {
          if (!external)
            g_signal_emit_by_name (sink, "split-at-running-time", (guint64) GST_SECOND);
        });
    fail_unless (run.errors.empty ());
    std::string playlist = read_text (run.dir + "/index.m3u8");
    if (external) {
      fail_unless_equals_int (validate_playlist (playlist, true), 1);
      assert_has (playlist, "#EXTINF:4,\nsegment00000.m4s\n");
    } else {
      fail_unless_equals_int (validate_playlist (playlist, true), 3);
      assert_has (playlist, "#EXTINF:1,\nsegment00000.m4s\n");
      assert_has (playlist, "#EXTINF:2,\nsegment00001.m4s\n");
    }
    remove_dir (run.dir);
  }
}
GST_END_TEST;

/* the tracks of the first init the element handed over */
static size_t
tracks_in_first_init (Run & run)
{
  using namespace castline::llhls::test;
  for (const auto & rec : run.capture.records) {
    if (rec.kind != "init")
      continue;
    std::vector<Box> boxes;
    std::string error;
    fail_unless (parse_boxes (rec.data.data (), rec.data.size (), boxes, error), "%s",
        error.c_str ());
    return find_all (boxes, "moov/trak").size ();
  }
  fail ("no init");
  return 0;
}

GST_START_TEST (test_eos_on_a_pad_that_never_got_caps)
{
  /* the audio encoder gets no samples: the audio pad sees EOS and nothing
   * else; the element ends (no "No valid frames" from its parser) */
  Run run;
  run.dir = make_dir ();
  run_pipeline (run, "videotestsrc num-buffers=60 ! video/x-raw,width=160,height=120,"
      "framerate=30/1 ! x264enc key-int-max=30 tune=zerolatency speed-preset=ultrafast ! "
      "llhlssink name=out location=" + run.dir + "/segment%05d.m4s init-location=\"\" "
      "playlist-location=" + run.dir + "/index.m3u8 audiotestsrc num-buffers=0 ! avenc_aac ! "
      "out.audio");
  fail_unless (run.errors.empty (), "%s", run.errors.empty () ? "" : run.errors[0].c_str ());
  fail_unless (validate_playlist (read_text (run.dir + "/index.m3u8"), true) >= 1);
  fail_unless_equals_int (tracks_in_first_init (run), 1);
  remove_dir (run.dir);
}
GST_END_TEST;

GST_START_TEST (test_eos_on_audio_before_the_init)
{
  /* two AAC frames end the audio long before the video's first part */
  Run run;
  run.dir = make_dir ();
  run_pipeline (run, "videotestsrc num-buffers=60 ! video/x-raw,width=160,height=120,"
      "framerate=30/1 ! x264enc key-int-max=30 tune=zerolatency speed-preset=ultrafast ! "
      "llhlssink name=out location=" + run.dir + "/segment%05d.m4s init-location=\"\" "
      "playlist-location=" + run.dir + "/index.m3u8 audiotestsrc num-buffers=2 "
      "samplesperbuffer=1024 ! avenc_aac ! aacparse ! out.audio");
  fail_unless (run.errors.empty (), "%s", run.errors.empty () ? "" : run.errors[0].c_str ());
  fail_unless (validate_playlist (read_text (run.dir + "/index.m3u8"), true) >= 1);
  fail_unless_equals_int (tracks_in_first_init (run), 2);
  remove_dir (run.dir);
}
GST_END_TEST;

/* the encoder upstream renegotiates a new size mid-stream (an abr rung
 * following its input): llhlssink takes it, a new init; the first caps
 * do not pin the size (its writer's pads answered caps queries with
 * them, and x264enc then refused the new size: not negotiated) */
GST_START_TEST (test_video_size_changes_mid_stream)
{
  Run run;
  run.dir = make_dir ();
  int frames = 0;
  run_pipeline (run, "videotestsrc num-buffers=90 ! capsfilter name=size "
      "caps=video/x-raw,width=160,height=120,framerate=30/1 ! x264enc key-int-max=30 "
      "tune=zerolatency speed-preset=ultrafast ! h264parse ! llhlssink name=out location="
      + run.dir + "/segment%05d.m4s init-location=" + run.dir + "/init.mp4 playlist-location="
      + run.dir + "/index.m3u8", [&frames] (GstElement * sink) {
        g_autoptr (GstObject) pipeline = gst_object_get_parent (GST_OBJECT (sink));
        g_autoptr (GstElement) size = gst_bin_get_by_name (GST_BIN (pipeline), "size");
        g_autoptr (GstPad) pad = gst_element_get_static_pad (size, "sink");
        gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, [] (GstPad * p, GstPadProbeInfo *,
                gpointer data) {
              if (++*static_cast<int *> (data) < 30)
                return GST_PAD_PROBE_OK;
              g_autoptr (GstCaps) caps =
                  gst_caps_from_string ("video/x-raw,width=320,height=240,framerate=30/1");
              g_autoptr (GstObject) filter = gst_pad_get_parent (p);
              g_object_set (filter, "caps", caps, nullptr);
              return GST_PAD_PROBE_REMOVE;
            }, &frames, nullptr);
      });
  fail_unless (run.errors.empty (), "%s", run.errors.empty () ? "" : run.errors[0].c_str ());
  int inits = 0;
  for (const Record & r : run.capture.records)
    inits += r.kind == "init";
  fail_unless_equals_int (inits, 2);
  remove_dir (run.dir);
}
GST_END_TEST;

GST_START_TEST (test_request_and_release_pads)
{
  GstElement *sink = gst_element_factory_make ("llhlssink", nullptr);
  fail_unless (sink);
  GstPad *video = gst_element_request_pad_simple (sink, "video");
  GstPad *audio = gst_element_request_pad_simple (sink, "audio");
  fail_unless (video && audio);
  fail_unless_equals_int (GST_ELEMENT (sink)->numsinkpads, 2);
  gst_element_release_request_pad (sink, video);
  gst_object_unref (video);
  fail_unless_equals_int (GST_ELEMENT (sink)->numsinkpads, 1);
  /* the bin keeps the writer and the audio's parser and capsfilter */
  fail_unless_equals_int (GST_BIN (sink)->numchildren, 3);
  video = gst_element_request_pad_simple (sink, "video");
  fail_unless (video);
  gst_object_unref (video);
  gst_object_unref (audio);
  gst_object_unref (sink);
}
GST_END_TEST;

static Suite *
llhlssink_suite (void)
{
  Suite *s = suite_create ("llhlssink");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_signals_come_in_order_with_consistent_numbers);
  tcase_add_test (tc, test_audio_caps_after_the_video_started);
  tcase_add_test (tc, test_parts_continue_and_segments_start_on_keyframes);
  tcase_add_test (tc, test_files_playlist_and_messages);
  tcase_add_test (tc, test_audio_only_and_bad_location);
  tcase_add_test (tc, test_keyframe_requests_cut_long_gops);
  tcase_add_test (tc, test_external_cuts_only_at_split_times);
  tcase_add_test (tc, test_external_cuts_without_split_times_make_one_segment);
  tcase_add_test (tc, test_request_and_release_pads);
  tcase_add_test (tc, test_video_size_changes_mid_stream);
  tcase_add_test (tc, test_eos_on_a_pad_that_never_got_caps);
  tcase_add_test (tc, test_eos_on_audio_before_the_init);
  return s;
}

GST_CHECK_MAIN (llhlssink);
