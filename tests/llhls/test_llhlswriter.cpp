/* LlHlsWriter: llhlssink's cutting and bookkeeping, fed synthetic samples
 * (the bytes do not matter to it): caps errors, caps changes, a track
 * that comes late or never, bounded waits, huge samples, delta playlists
 * and deletions. No files: every location is empty. */
#include "llhls/llhlswriter.h"

#include "../assertions.h"

#include <gst/check/gstcheck.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <memory>
#include <vector>

using namespace castline::llhls;
using Kind = TrackInfo::Kind;
using EK = WriterEvent::Kind;

static WriterSettings
no_files ()
{
  WriterSettings s;
  s.location = "";
  s.init_location = "";
  s.playlist_location = "";
  return s;
}

static GstCaps *
video_caps (int width = 320, guint8 profile = 0x64)
{
  const guint8 avcc[] = {1, profile, 0, 0x1f, 0xff, 0xe0, 0};
  g_autoptr (GstBuffer) cd = gst_buffer_new_memdup (avcc, sizeof (avcc));
  return gst_caps_new_simple ("video/x-h264", "stream-format", G_TYPE_STRING, "avc",
      "alignment", G_TYPE_STRING, "au", "width", G_TYPE_INT, width, "height", G_TYPE_INT, 240,
      "codec_data", GST_TYPE_BUFFER, cd, nullptr);
}

static GstCaps *
audio_caps ()
{
  const guint8 asc[] = {0x11, 0x90};
  g_autoptr (GstBuffer) cd = gst_buffer_new_memdup (asc, sizeof (asc));
  return gst_caps_new_simple ("audio/mpeg", "mpegversion", G_TYPE_INT, 4, "stream-format",
      G_TYPE_STRING, "raw", "rate", G_TYPE_INT, 48000, "channels", G_TYPE_INT, 2,
      "codec_data", GST_TYPE_BUFFER, cd, nullptr);
}

static std::string
set_caps (LlHlsWriter & w, Kind kind, GstCaps * caps, std::vector<WriterEvent> & ev)
{
  std::string err = w.set_caps (kind, caps, ev);
  gst_caps_unref (caps);
  return err;
}

/* video frame i of 30 fps, a keyframe every `gop` */
static std::string
push_video (LlHlsWriter & w, int i, int gop, std::vector<WriterEvent> & ev, size_t size = 100)
{
  g_autoptr (GstBuffer) b = gst_buffer_new_allocate (nullptr, size, nullptr);
  gst_buffer_memset (b, 0, 0, size);
  GstClockTime t = gst_util_uint64_scale (i, GST_SECOND, 30);
  GST_BUFFER_PTS (b) = GST_BUFFER_DTS (b) = t;
  GST_BUFFER_DURATION (b) = gst_util_uint64_scale (i + 1, GST_SECOND, 30) - t;
  if (i % gop != 0)
    GST_BUFFER_FLAG_SET (b, GST_BUFFER_FLAG_DELTA_UNIT);
  return w.push (Kind::kVideo, b, t, t, ev);
}

/* AAC frame i of 48 kHz */
static std::string
push_audio (LlHlsWriter & w, int i, std::vector<WriterEvent> & ev)
{
  g_autoptr (GstBuffer) b = gst_buffer_new_allocate (nullptr, 20, nullptr);
  gst_buffer_memset (b, 0, 0, 20);
  GstClockTime t = gst_util_uint64_scale (i * 1024, GST_SECOND, 48000);
  GST_BUFFER_PTS (b) = GST_BUFFER_DTS (b) = t;
  return w.push (Kind::kAudio, b, t, t, ev);
}

static int
count (const std::vector<WriterEvent> & ev, EK kind)
{
  int n = 0;
  for (const auto & e : ev)
    n += e.kind == kind;
  return n;
}

static const WriterEvent &
first_of (const std::vector<WriterEvent> & ev, EK kind)
{
  for (const auto & e : ev)
    if (e.kind == kind)
      return e;
  fail ("no such event");
  return ev.front ();
}

static const WriterEvent &
last (const std::vector<WriterEvent> & ev, EK kind)
{
  for (auto it = ev.rbegin (); it != ev.rend (); ++it)
    if (it->kind == kind)
      return *it;
  fail ("no such event");
  return ev.front ();
}

/* a writer with a video and an audio track, both with their caps */
static std::unique_ptr<LlHlsWriter>
av_writer (const WriterSettings & s, std::vector<WriterEvent> & ev)
{
  auto w = std::make_unique<LlHlsWriter> (s);
  w->add_track (Kind::kVideo);
  w->add_track (Kind::kAudio);
  fail_unless (set_caps (*w, Kind::kVideo, video_caps (), ev).empty ());
  fail_unless (set_caps (*w, Kind::kAudio, audio_caps (), ev).empty ());
  return w;
}

GST_START_TEST (test_caps_without_codec_data_or_before_data_are_errors)
{
  LlHlsWriter w (no_files ());
  w.add_track (Kind::kVideo);
  w.add_track (Kind::kAudio);
  std::vector<WriterEvent> ev;
  assert_has (push_video (w, 0, 30, ev), "before the caps");
  GstCaps *bare = gst_caps_from_string ("video/x-h264, stream-format=avc, alignment=au, "
      "width=320, height=240");
  assert_has (set_caps (w, Kind::kVideo, bare, ev), "codec_data");
  assert_has (set_caps (w, Kind::kAudio, gst_caps_from_string ("audio/mpeg, mpegversion=4, "
              "stream-format=raw, rate=48000, channels=2"), ev), "AudioSpecificConfig");
  assert_has (set_caps (w, Kind::kAudio, gst_caps_from_string ("audio/mpeg, mpegversion=4, "
              "stream-format=adts"), ev), "not raw AAC");
  fail_unless (ev.empty ());
  /* caps the init segment cannot describe: an error at the first part */
  LlHlsWriter huge (no_files ());
  huge.add_track (Kind::kVideo);
  fail_unless (set_caps (huge, Kind::kVideo, video_caps (70000), ev).empty ());
  assert_has (push_video (huge, 0, 30, ev), "cannot be described in an init segment");
  LlHlsWriter bad ([] { auto s = no_files (); s.location = "seg%s%d.m4s"; return s; } ());
  assert_has (bad.check_settings (), "exactly one %d");
}
GST_END_TEST;

GST_START_TEST (test_format_location)
{
  assert_str_eq (*format_location ("segment%05d.m4s", 42), "segment00042.m4s");
  assert_str_eq (*format_location ("/a/b%u-100%%.m4s", 7), "/a/b7-100%.m4s");
  assert_str_eq (*format_location ("s%lu", 3), "s3");
  fail_unless (!format_location ("s%d%d", 1));
  fail_unless (!format_location ("s%s", 1));
  fail_unless (!format_location ("plain.m4s", 1));
  fail_unless (!format_location ("s%", 1));
}
GST_END_TEST;

GST_START_TEST (test_caps_change_gives_new_init_and_discontinuity)
{
  LlHlsWriter w (no_files ());
  w.add_track (Kind::kVideo);
  std::vector<WriterEvent> ev;
  fail_unless (set_caps (w, Kind::kVideo, video_caps (), ev).empty ());
  for (int i = 0; i < 75; i++)
    fail_unless (push_video (w, i, 30, ev).empty ());
  fail_unless_equals_int (count (ev, EK::kInit), 1);
  assert_str_eq (ev.front ().text, "init.mp4");
  /* same caps again: nothing new */
  fail_unless (set_caps (w, Kind::kVideo, video_caps (), ev).empty ());
  fail_unless (push_video (w, 75, 30, ev).empty ());
  fail_unless_equals_int (count (ev, EK::kInit), 1);
  /* new resolution: the segment closes at the next keyframe (frame 90,
   * 1 s into segment 1), with init1.mp4 */
  fail_unless (set_caps (w, Kind::kVideo, video_caps (640), ev).empty ());
  for (int i = 76; i < 100; i++)
    fail_unless (push_video (w, i, 30, ev).empty ());
  fail_unless_equals_int (count (ev, EK::kInit), 2);
  assert_str_eq (last (ev, EK::kInit).text, "init1.mp4");
  const WriterEvent & seg = last (ev, EK::kSegment);
  fail_unless_equals_uint64 (seg.msn, 1);
  fail_unless_equals_uint64 (seg.duration, GST_SECOND);
  const std::string & pl = last (ev, EK::kPlaylist).text;
  assert_has (pl, "#EXTINF:1,\nsegment00001.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init1.mp4\"\n"
      "#EXT-X-PART:DURATION=0.3,URI=\"segment00002.0.m4s\",INDEPENDENT=YES\n");
}
GST_END_TEST;

/* how many times a four-character box type appears in the bytes (the
 * samples are zeros: a count of "traf" is the tracks of a part, of "trak"
 * the tracks of an init) */
static int
boxes_named (const std::shared_ptr<GBytes> & bytes, const char *type)
{
  gsize size = 0;
  auto *data = static_cast<const char *> (g_bytes_get_data (bytes.get (), &size));
  int n = 0;
  for (gsize i = 0; i + 4 <= size; i++)
    n += memcmp (data + i, type, 4) == 0;
  return n;
}

/* video frames from..to (30 fps, keyframe every gop) with the audio
 * frames (from *a on) that come before each, as interleaved as a muxer
 * delivers them */
static void
push_both (LlHlsWriter & w, int from, int to, int gop, int *a, std::vector<WriterEvent> & ev)
{
  for (int i = from; i < to; i++) {
    fail_unless (push_video (w, i, gop, ev).empty ());
    while (gst_util_uint64_scale (*a * 1024, GST_SECOND, 48000)
        < gst_util_uint64_scale (i, GST_SECOND, 30))
      fail_unless (push_audio (w, (*a)++, ev).empty ());
  }
}

GST_START_TEST (test_first_init_waits_for_audio_caps_a_second_late)
{
  LlHlsWriter w (no_files ());
  w.add_track (Kind::kVideo);
  w.add_track (Kind::kAudio);
  std::vector<WriterEvent> ev;
  fail_unless (set_caps (w, Kind::kVideo, video_caps (), ev).empty ());
  /* a second of video (a publisher faster than real time, an encoder
   * that starts late): nothing is cut yet */
  for (int i = 0; i < 30; i++)
    fail_unless (push_video (w, i, 30, ev).empty ());
  fail_unless (ev.empty ());
  /* the audio's caps and samples come from 1 s on */
  fail_unless (set_caps (w, Kind::kAudio, audio_caps (), ev).empty ());
  int a = 47;
  push_both (w, 30, 150, 30, &a, ev);
  /* one init, with both tracks; the first segment starts at the first
   * video frame, and parts after the first second carry both tracks */
  fail_unless_equals_int (count (ev, EK::kInit), 1);
  fail_unless_equals_int (boxes_named (first_of (ev, EK::kInit).bytes, "trak"), 2);
  fail_unless_equals_int (count (ev, EK::kWarning), 0);
  fail_unless (count (ev, EK::kSegment) >= 2);
  fail_unless_equals_uint64 (first_of (ev, EK::kSegment).duration, 2 * GST_SECOND);
  int with_audio = 0;
  for (const auto & e : ev)
    if (e.kind == EK::kPart)
      with_audio += boxes_named (e.bytes, "traf") == 2;
  fail_unless (with_audio >= 8, "%d parts with both tracks", with_audio);
  assert_has (last (ev, EK::kPlaylist).text, "#EXT-X-MAP:URI=\"init.mp4\"\n");
  fail_if (last (ev, EK::kPlaylist).text.find ("DISCONTINUITY") != std::string::npos);
}
GST_END_TEST;

GST_START_TEST (test_video_ending_before_the_audio_caps_waits_for_them)
{
  /* a publisher faster than real time: 6 s of video and its EOS come
   * before the audio encoder's first buffer. The stream still gets one
   * init naming both tracks and 2 s segments that carry both, as if the
   * audio had come in time (once, the EOS started a video-only init and
   * the audio joined after the video's end with empty segments) */
  LlHlsWriter w (no_files ());
  w.add_track (Kind::kVideo);
  w.add_track (Kind::kAudio);
  std::vector<WriterEvent> ev;
  fail_unless (set_caps (w, Kind::kVideo, video_caps (), ev).empty ());
  for (int i = 0; i < 180; i++)
    fail_unless (push_video (w, i, 60, ev).empty ());
  bool done = false;
  fail_unless (w.eos (Kind::kVideo, ev, &done).empty ());
  fail_unless (!done);
  fail_unless (ev.empty ());
  fail_unless (set_caps (w, Kind::kAudio, audio_caps (), ev).empty ());
  int a = 0;
  for (; gst_util_uint64_scale (a * 1024, GST_SECOND, 48000) < 6 * GST_SECOND; a++)
    fail_unless (push_audio (w, a, ev).empty ());
  fail_unless (w.eos (Kind::kAudio, ev, &done).empty ());
  fail_unless (done);
  fail_unless_equals_int (count (ev, EK::kInit), 1);
  fail_unless_equals_int (boxes_named (first_of (ev, EK::kInit).bytes, "trak"), 2);
  fail_unless_equals_int (count (ev, EK::kWarning), 0);
  fail_unless_equals_int (count (ev, EK::kSegment), 3);
  GstClockTime total = 0;
  for (const auto & e : ev)
    if (e.kind == EK::kSegment) {
      fail_unless (e.duration >= 1900 * GST_MSECOND, "segment %" G_GUINT64_FORMAT ": %"
          GST_TIME_FORMAT, e.msn, GST_TIME_ARGS (e.duration));
      total += e.duration;
    } else if (e.kind == EK::kPart && &e != &last (ev, EK::kPart)) {
      /* all but the audio's tail after the video's last frame (in the
       * video's last segment; an ended playlist lists no parts) */
      fail_unless (boxes_named (e.bytes, "traf") == 2, "part %" G_GUINT64_FORMAT ".%u (%"
          GST_TIME_FORMAT ") has %d tracks", e.msn, e.part, GST_TIME_ARGS (e.duration),
          boxes_named (e.bytes, "traf"));
    }
  fail_unless (total >= 5900 * GST_MSECOND && total <= 6100 * GST_MSECOND);
  assert_lacks (last (ev, EK::kPlaylist).text, "DISCONTINUITY");
  fail_unless (last (ev, EK::kPlaylist).flag);

  /* the audio ends without caps: the waiting video goes alone */
  LlHlsWriter w2 (no_files ());
  w2.add_track (Kind::kVideo);
  w2.add_track (Kind::kAudio);
  std::vector<WriterEvent> ev2;
  fail_unless (set_caps (w2, Kind::kVideo, video_caps (), ev2).empty ());
  for (int i = 0; i < 90; i++)
    fail_unless (push_video (w2, i, 60, ev2).empty ());
  fail_unless (w2.eos (Kind::kVideo, ev2, &done).empty ());
  fail_unless (!done && ev2.empty ());
  fail_unless (w2.eos (Kind::kAudio, ev2, &done).empty ());
  fail_unless (done);
  fail_unless_equals_int (count (ev2, EK::kInit), 1);
  fail_unless_equals_int (boxes_named (first_of (ev2, EK::kInit).bytes, "trak"), 1);
  fail_unless_equals_int (count (ev2, EK::kSegment), 2);
  fail_unless (last (ev2, EK::kPlaylist).flag);
}
GST_END_TEST;

GST_START_TEST (test_audio_later_than_the_wait_joins_at_the_next_keyframe)
{
  LlHlsWriter w (no_files ());
  w.add_track (Kind::kVideo);
  w.add_track (Kind::kAudio);
  std::vector<WriterEvent> ev;
  fail_unless (set_caps (w, Kind::kVideo, video_caps (), ev).empty ());
  /* the video waits for the audio's caps kMaxCapsWait of its media, no
   * more (memory stays bounded), then goes alone with a warning */
  int wait_frames = (int) (LlHlsWriter::kMaxCapsWait * 30 / GST_SECOND);
  for (int i = 0; i <= wait_frames; i++)
    fail_unless (push_video (w, i, 15, ev).empty ());
  fail_unless_equals_int (count (ev, EK::kInit), 0);
  fail_unless (push_video (w, wait_frames + 1, 15, ev).empty ());
  fail_unless_equals_int (count (ev, EK::kInit), 1);
  fail_unless_equals_int (boxes_named (first_of (ev, EK::kInit).bytes, "trak"), 1);
  fail_unless_equals_int (count (ev, EK::kWarning), 1);
  assert_has (last (ev, EK::kWarning).text, "no audio caps");
  /* everything waited goes out: segments of 2 s (keyframes every 0.5 s) */
  int msn = wait_frames / 60;
  fail_unless_equals_int (count (ev, EK::kSegment), msn);
  /* the audio comes 0.4 s later: the open segment closes at the next
   * keyframe (0.5 s in, not 2 s) and the next one has an init of both
   * tracks */
  int v = wait_frames + 2;
  for (; v < wait_frames + 12; v++)
    fail_unless (push_video (w, v, 15, ev).empty ());
  fail_unless (set_caps (w, Kind::kAudio, audio_caps (), ev).empty ());
  int a = 0;
  while (gst_util_uint64_scale (a * 1024, GST_SECOND, 48000)
      < gst_util_uint64_scale (v, GST_SECOND, 30))
    a++;
  push_both (w, v, wait_frames + 90, 15, &a, ev);
  fail_unless_equals_int (count (ev, EK::kInit), 2);
  fail_unless_equals_int (boxes_named (last (ev, EK::kInit).bytes, "trak"), 2);
  bool short_segment = false;
  for (const auto & e : ev)
    short_segment |= e.kind == EK::kSegment && e.msn == (guint64) msn
        && e.duration == 500 * GST_MSECOND;
  fail_unless (short_segment, "segment %d does not end at the keyframe after the audio came", msn);
  g_autofree gchar *join = g_strdup_printf ("segment%05d.m4s\n#EXT-X-DISCONTINUITY\n"
      "#EXT-X-MAP:URI=\"init1.mp4\"\n", msn);
  assert_has (last (ev, EK::kPlaylist).text, join);
  int joined = 0;
  for (const auto & e : ev)
    if (e.kind == EK::kPart && e.msn == (guint64) msn + 1) {
      fail_unless_equals_int (boxes_named (e.bytes, "traf"), 2);
      joined++;
    }
  fail_unless (joined > 0);
}
GST_END_TEST;

GST_START_TEST (test_video_waits_for_the_audio_caps)
{
  /* the audio's caps after 0.6 s of video (a non-live video thread that
   * ran ahead): the same output as if they had come first, one init of
   * both tracks, parts cut as if the video had not waited */
  LlHlsWriter w (no_files ());
  w.add_track (Kind::kVideo);
  w.add_track (Kind::kAudio);
  std::vector<WriterEvent> ev;
  fail_unless (set_caps (w, Kind::kVideo, video_caps (), ev).empty ());
  for (int i = 0; i < 18; i++)
    fail_unless (push_video (w, i, 30, ev).empty ());
  fail_unless (ev.empty ());
  fail_unless (set_caps (w, Kind::kAudio, audio_caps (), ev).empty ());
  int a = 0;
  for (int i = 18; i < 75; i++) {
    fail_unless (push_video (w, i, 30, ev).empty ());
    while (gst_util_uint64_scale (a * 1024, GST_SECOND, 48000)
        < gst_util_uint64_scale (i, GST_SECOND, 30))
      fail_unless (push_audio (w, a++, ev).empty ());
  }
  fail_unless_equals_int (count (ev, EK::kInit), 1);
  fail_unless_equals_int (count (ev, EK::kWarning), 0);
  fail_unless_equals_int (count (ev, EK::kSegment), 1);
  guint next = 0;
  for (const auto & e : ev)
    if (e.kind == EK::kPart) {
      fail_unless (e.duration <= 300 * GST_MSECOND + PartCutter::kJitter, "part %u: %"
          GST_TIME_FORMAT, e.part, GST_TIME_ARGS (e.duration));
      fail_unless_equals_int (e.part, e.msn == 0 ? next++ : e.part);
    }
  /* 2 s of 0.3 s parts */
  fail_unless_equals_int (next, 7);
  assert_lacks (last (ev, EK::kPlaylist).text, "DISCONTINUITY");
}
GST_END_TEST;

GST_START_TEST (test_audio_waiting_for_video_is_bounded)
{
  LlHlsWriter w (no_files ());
  w.add_track (Kind::kVideo);
  w.add_track (Kind::kAudio);
  std::vector<WriterEvent> ev;
  fail_unless (set_caps (w, Kind::kVideo, video_caps (), ev).empty ());
  fail_unless (set_caps (w, Kind::kAudio, audio_caps (), ev).empty ());
  /* a minute of audio, no video: nothing cut, one warning */
  for (int i = 0; i < 60 * 47; i++)
    fail_unless (push_audio (w, i, ev).empty ());
  fail_unless_equals_int (count (ev, EK::kPart), 0);
  fail_unless_equals_int (count (ev, EK::kWarning), 1);
  /* the video's EOS: audio drives and the last 10 s (no more) go out */
  bool done = false;
  fail_unless (w.eos (Kind::kVideo, ev, &done).empty ());
  fail_unless (!done);
  fail_unless (push_audio (w, 60 * 47, ev).empty ());
  fail_unless (w.eos (Kind::kAudio, ev, &done).empty ());
  fail_unless (done);
  GstClockTime total = 0;
  for (const auto & e : ev)
    if (e.kind == EK::kSegment)
      total += e.duration;
  fail_unless (total <= LlHlsWriter::kMaxWait + 100 * GST_MSECOND, "%" GST_TIME_FORMAT " of audio",
      GST_TIME_ARGS (total));
  fail_unless (total >= LlHlsWriter::kMaxWait - GST_SECOND);
  fail_unless (last (ev, EK::kPlaylist).flag);
}
GST_END_TEST;

GST_START_TEST (test_audio_goes_alone_when_video_never_gets_caps)
{
  LlHlsWriter w (no_files ());
  w.add_track (Kind::kVideo);
  w.add_track (Kind::kAudio);
  std::vector<WriterEvent> ev;
  fail_unless (set_caps (w, Kind::kAudio, audio_caps (), ev).empty ());
  /* 10 s of audio wait for the video's caps, then the audio goes alone */
  int i = 0;
  for (; i < 9 * 47; i++)
    fail_unless (push_audio (w, i, ev).empty ());
  fail_unless_equals_int (count (ev, EK::kInit), 0);
  for (; i < 15 * 47; i++)
    fail_unless (push_audio (w, i, ev).empty ());
  fail_unless_equals_int (count (ev, EK::kInit), 1);
  fail_unless_equals_int (count (ev, EK::kWarning), 1);
  fail_unless (count (ev, EK::kSegment) >= 2);
  /* every audio frame is a keyframe: every part is independent */
  for (const auto & e : ev)
    if (e.kind == EK::kPart)
      fail_unless (e.flag);
  /* the video comes: it drives from its first keyframe on, in a segment
   * with an init of both tracks */
  fail_unless (set_caps (w, Kind::kVideo, video_caps (), ev).empty ());
  for (int f = 15 * 30; f < 20 * 30; f++) {
    fail_unless (push_video (w, f, 30, ev).empty ());
    while (gst_util_uint64_scale (i * 1024, GST_SECOND, 48000)
        < gst_util_uint64_scale (f, GST_SECOND, 30))
      fail_unless (push_audio (w, i++, ev).empty ());
  }
  fail_unless_equals_int (count (ev, EK::kInit), 2);
  assert_has (last (ev, EK::kPlaylist).text, "#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init1.mp4\"\n");
}
GST_END_TEST;

GST_START_TEST (test_video_ending_first_leaves_nothing_behind)
{
  LlHlsWriter w (no_files ());
  w.add_track (Kind::kVideo);
  w.add_track (Kind::kAudio);
  std::vector<WriterEvent> ev;
  fail_unless (set_caps (w, Kind::kVideo, video_caps (), ev).empty ());
  fail_unless (set_caps (w, Kind::kAudio, audio_caps (), ev).empty ());
  /* video runs ahead to 1 s and ends; audio lags at 0.5 s: the parts the
   * video asked for wait for the audio to reach them (one is out) */
  for (int i = 0; i < 30; i++)
    fail_unless (push_video (w, i, 30, ev).empty ());
  int a = 0;
  for (; a < 23; a++)
    fail_unless (push_audio (w, a, ev).empty ());
  bool done = false;
  fail_unless (w.eos (Kind::kVideo, ev, &done).empty ());
  fail_unless_equals_int (count (ev, EK::kPart), 1);
  /* the audio drives on: the video's parts (0.3, 0.6, 0.9 and the rest
   * to 1 s) carry both tracks, only the first starts with a keyframe; no
   * later part has video, each starts with an audio frame */
  for (; a < 94; a++)
    fail_unless (push_audio (w, a, ev).empty ());
  fail_unless (w.eos (Kind::kAudio, ev, &done).empty ());
  fail_unless (done);
  int n = 0;
  GstClockTime total = 0;
  for (const auto & e : ev) {
    if (e.kind == EK::kSegment)
      total += e.duration;
    if (e.kind != EK::kPart)
      continue;
    n++;
    fail_unless_equals_int (boxes_named (e.bytes, "traf"), n <= 4 ? 2 : 1);
    fail_unless_equals_int (e.flag, n == 1 || n > 4);
  }
  fail_unless (n > 6);
  /* the timeline is the audio's end, nothing counted twice */
  GstClockTime audio_end = gst_util_uint64_scale (94 * 1024, GST_SECOND, 48000);
  fail_unless (total + GST_MSECOND >= audio_end && total <= audio_end + GST_MSECOND,
      "%" GST_TIME_FORMAT, GST_TIME_ARGS (total));
}
GST_END_TEST;

GST_START_TEST (test_audio_far_behind_an_ended_video_adds_no_time)
{
  /* a stream faster than real time: the video (3 s) is through before the
   * audio encoder has given more than its first frames */
  LlHlsWriter w (no_files ());
  w.add_track (Kind::kVideo);
  w.add_track (Kind::kAudio);
  std::vector<WriterEvent> ev;
  fail_unless (set_caps (w, Kind::kVideo, video_caps (), ev).empty ());
  fail_unless (set_caps (w, Kind::kAudio, audio_caps (), ev).empty ());
  int a = 0;
  for (; a < 5; a++)
    fail_unless (push_audio (w, a, ev).empty ());
  for (int i = 0; i < 90; i++)
    fail_unless (push_video (w, i, 30, ev).empty ());
  bool done = false;
  fail_unless (w.eos (Kind::kVideo, ev, &done).empty ());
  for (; a < 141; a++)
    fail_unless (push_audio (w, a, ev).empty ());
  fail_unless (w.eos (Kind::kAudio, ev, &done).empty ());
  fail_unless (done);
  /* the playlist counts 3 s (the audio's end), not the audio again after
   * the video; no part longer than the target */
  GstClockTime total = 0;
  for (const auto & e : ev) {
    if (e.kind == EK::kSegment)
      total += e.duration;
    if (e.kind == EK::kPart)
      fail_unless (e.duration <= 300 * GST_MSECOND + PartCutter::kJitter, "a part of %"
          GST_TIME_FORMAT, GST_TIME_ARGS (e.duration));
  }
  GstClockTime audio_end = gst_util_uint64_scale (141 * 1024, GST_SECOND, 48000);
  fail_unless (total >= 3 * GST_SECOND && total <= audio_end + GST_MSECOND,
      "%" GST_TIME_FORMAT " in the playlist", GST_TIME_ARGS (total));
}
GST_END_TEST;

GST_START_TEST (test_audio_outlasting_the_video_ends_its_last_segment)
{
  /* a recording whose audio ends a frame or two after its video (10 s,
   * a keyframe every 2 s, segments of 1 s): the audio's tail goes into
   * the video's last segment, not a segment of its own without video,
   * which hls.js never finishes buffering (the VOD stalled before its
   * end) */
  WriterSettings s = no_files ();
  s.target_duration = GST_SECOND;
  std::vector<WriterEvent> ev;
  auto writer = av_writer (s, ev);
  LlHlsWriter & w = *writer;
  int a = 0;
  push_both (w, 0, 300, 60, &a, ev);
  bool done = false;
  fail_unless (w.eos (Kind::kVideo, ev, &done).empty ());
  for (; a < 470; a++)
    fail_unless (push_audio (w, a, ev).empty ());
  fail_unless (w.eos (Kind::kAudio, ev, &done).empty ());
  fail_unless (done);
  fail_unless_equals_int (count (ev, EK::kSegment), 5);
  /* every segment has a part with video in it */
  guint64 msn = 0;
  bool video = false;
  for (const auto & e : ev) {
    if (e.kind == EK::kPart && e.msn == msn)
      video = video || boxes_named (e.bytes, "traf") == 2;
    if (e.kind == EK::kSegment) {
      fail_unless (video, "segment %" G_GUINT64_FORMAT " has no video", e.msn);
      msn++;
      video = false;
    }
  }
  GstClockTime audio_end = gst_util_uint64_scale (470 * 1024, GST_SECOND, 48000);
  GstClockTime end = last (ev, EK::kFragmentClosed).running_time;
  fail_unless (end + GST_USECOND >= audio_end && end <= audio_end + GST_USECOND,
      "the last segment ends at %" GST_TIME_FORMAT, GST_TIME_ARGS (end));
}
GST_END_TEST;

GST_START_TEST (test_audio_long_after_the_video_gets_segments_again)
{
  /* the video ends at 2 s, the audio goes on to 14 s: the last segment
   * takes the audio up to 10 s past its start, then the audio alone is
   * cut into segments again (a segment does not grow without bound) */
  WriterSettings s = no_files ();
  s.target_duration = GST_SECOND;
  std::vector<WriterEvent> ev;
  auto writer = av_writer (s, ev);
  LlHlsWriter & w = *writer;
  int a = 0;
  push_both (w, 0, 60, 30, &a, ev);
  bool done = false;
  fail_unless (w.eos (Kind::kVideo, ev, &done).empty ());
  for (; a < 14 * 48000 / 1024; a++)
    fail_unless (push_audio (w, a, ev).empty ());
  fail_unless (w.eos (Kind::kAudio, ev, &done).empty ());
  fail_unless (done);
  std::vector<GstClockTime> closed;
  for (const auto & e : ev)
    if (e.kind == EK::kFragmentClosed)
      closed.push_back (e.running_time);
  /* 0-1, 1-11 (the video's last second and the audio's 10 s after its
   * start), then the audio's own segments of 1 s to 14 s */
  fail_unless (closed.size () >= 4, "%u segments", (guint) closed.size ());
  fail_unless (closed[1] >= 10 * GST_SECOND && closed[1] <= 11 * GST_SECOND + 30 * GST_MSECOND,
      "the second segment ends at %" GST_TIME_FORMAT, GST_TIME_ARGS (closed[1]));
}
GST_END_TEST;

GST_START_TEST (test_huge_sample_is_refused)
{
  LlHlsWriter w (no_files ());
  w.add_track (Kind::kVideo);
  std::vector<WriterEvent> ev;
  fail_unless (set_caps (w, Kind::kVideo, video_caps (), ev).empty ());
  assert_has (push_video (w, 0, 30, ev, TrackCollector::kMaxSampleSize + 1), "bytes, more than");
}
GST_END_TEST;

GST_START_TEST (test_eos_without_data_says_nothing)
{
  LlHlsWriter w (no_files ());
  w.add_track (Kind::kAudio);
  std::vector<WriterEvent> ev;
  bool done = false;
  fail_unless (w.eos (Kind::kAudio, ev, &done).empty ());
  fail_unless (done);
  fail_unless (ev.empty ());
}
GST_END_TEST;

GST_START_TEST (test_eos_on_a_pad_that_never_got_caps)
{
  LlHlsWriter w (no_files ());
  w.add_track (Kind::kVideo);
  w.add_track (Kind::kAudio);
  std::vector<WriterEvent> ev;
  fail_unless (set_caps (w, Kind::kVideo, video_caps (), ev).empty ());
  for (int i = 0; i < 10; i++)
    fail_unless (push_video (w, i, 30, ev).empty ());
  /* the audio pad ends without caps: the video stops waiting for it */
  bool done = false;
  fail_unless (w.eos (Kind::kAudio, ev, &done).empty ());
  fail_unless (!done);
  fail_unless (push_video (w, 10, 30, ev).empty ());
  fail_unless_equals_int (count (ev, EK::kInit), 1);
  fail_unless_equals_int (count (ev, EK::kWarning), 0);
  fail_unless (w.eos (Kind::kVideo, ev, &done).empty ());
  fail_unless (done);
  fail_unless (last (ev, EK::kPlaylist).flag);
  /* and the other way round: the video pad never gets caps and ends
   * before the audio does; both pads without caps end too */
  LlHlsWriter w2 (no_files ());
  w2.add_track (Kind::kVideo);
  w2.add_track (Kind::kAudio);
  std::vector<WriterEvent> ev2;
  fail_unless (set_caps (w2, Kind::kAudio, audio_caps (), ev2).empty ());
  for (int i = 0; i < 20; i++)
    fail_unless (push_audio (w2, i, ev2).empty ());
  fail_unless (w2.eos (Kind::kVideo, ev2, &done).empty ());
  fail_unless (!done);
  fail_unless (w2.eos (Kind::kAudio, ev2, &done).empty ());
  fail_unless (done);
  fail_unless (last (ev2, EK::kPlaylist).flag);
  LlHlsWriter w3 (no_files ());
  w3.add_track (Kind::kVideo);
  w3.add_track (Kind::kAudio);
  std::vector<WriterEvent> ev3;
  fail_unless (w3.eos (Kind::kVideo, ev3, &done).empty ());
  fail_unless (!done);
  fail_unless (w3.eos (Kind::kAudio, ev3, &done).empty ());
  fail_unless (done);
  fail_unless (ev3.empty ());
}
GST_END_TEST;

GST_START_TEST (test_eos_on_audio_before_the_init)
{
  LlHlsWriter w (no_files ());
  w.add_track (Kind::kVideo);
  w.add_track (Kind::kAudio);
  std::vector<WriterEvent> ev;
  /* a short audio ends before the video has made its first part */
  fail_unless (set_caps (w, Kind::kAudio, audio_caps (), ev).empty ());
  for (int i = 0; i < 10; i++)
    fail_unless (push_audio (w, i, ev).empty ());
  bool done = false;
  fail_unless (w.eos (Kind::kAudio, ev, &done).empty ());
  fail_unless (!done);
  fail_unless (ev.empty ());
  fail_unless (set_caps (w, Kind::kVideo, video_caps (), ev).empty ());
  for (int i = 0; i < 45; i++)
    fail_unless (push_video (w, i, 30, ev).empty ());
  fail_unless (w.eos (Kind::kVideo, ev, &done).empty ());
  fail_unless (done);
  /* the init has both tracks, the audio is in the first part */
  fail_unless_equals_int (count (ev, EK::kInit), 1);
  fail_unless_equals_int (boxes_named (first_of (ev, EK::kInit).bytes, "trak"), 2);
  for (const auto & e : ev)
    if (e.kind == EK::kPart)
      fail_unless_equals_int (boxes_named (e.bytes, "traf"), e.msn == 0 && e.part == 0 ? 2 : 1);
  fail_unless (last (ev, EK::kPlaylist).flag);
}
GST_END_TEST;

GST_START_TEST (test_deletes_after_the_playlist_and_delta_when_skippable)
{
  WriterSettings s = no_files ();
  s.playlist_length = 8;
  LlHlsWriter w (s);
  w.add_track (Kind::kVideo);
  std::vector<WriterEvent> ev;
  fail_unless (set_caps (w, Kind::kVideo, video_caps (), ev).empty ());
  /* 20 s: segments 0..9 */
  for (int i = 0; i < 600; i++)
    fail_unless (push_video (w, i, 30, ev).empty ());
  bool delta = false;
  for (size_t i = 0; i < ev.size (); i++) {
    if (ev[i].kind == EK::kPlaylist && ev[i].has_delta) {
      delta = true;
      assert_has (ev[i].delta, "#EXT-X-SKIP:SKIPPED-SEGMENTS=");
    }
    if (ev[i].kind == EK::kDelete) {
      /* after the playlist that no longer names it */
      fail_unless (i > 0 && (ev[i - 1].kind == EK::kPlaylist || ev[i - 1].kind == EK::kDelete));
      g_autofree gchar *uri = g_strdup_printf ("segment%05" G_GUINT64_FORMAT ".m4s", ev[i].msn);
      assert_str_eq (ev[i].text, uri);
      const WriterEvent *pl = &ev[i - 1];
      for (size_t j = i - 1; ev[j].kind != EK::kPlaylist; j--)
        pl = &ev[j - 1];
      assert_lacks (pl->text, std::string ("\n") + uri);
    }
  }
  fail_unless (delta);
  fail_unless_equals_int (count (ev, EK::kDelete), 1);   /* 9 complete, 8 named */
  assert_str_eq (last (ev, EK::kDelete).text, "segment00000.m4s");
}
GST_END_TEST;

/* the endings of real publishers, drawn at random (a seeded PRNG, so a
 * failure repeats): keyframes where a browser sends them (every 2 s and
 * on request), audio ahead of or behind the video by up to half a
 * second, either track ending first, a tail of either up to 0.3 s. No
 * part adds no time (hls.js takes a part of DURATION=0 as an empty
 * one), and the parts add up to the segment */
GST_START_TEST (test_random_endings_give_no_empty_part)
{
  GRand *rand = g_rand_new_with_seed (20261207);
  for (int round = 0; round < 400; round++) {
    if (g_getenv ("LLDBG")) g_printerr ("ROUND %d\n", round);
    std::vector<WriterEvent> ev;
    auto writer = av_writer (no_files (), ev);
    LlHlsWriter & w = *writer;
    int frames = g_rand_int_range (rand, 60, 240);
    int extra_tail_ms = g_rand_int_range (rand, -300, 300);
    int lag_ms = g_rand_int_range (rand, -500, 500);
    bool video_first = g_rand_boolean (rand), video_first0 = video_first;
    GstClockTime video_end = gst_util_uint64_scale (frames, GST_SECOND, 30);
    gint64 audio_end_ns = (gint64) video_end + extra_tail_ms * (gint64) GST_MSECOND;
    int audio_frames = (int) gst_util_uint64_scale (audio_end_ns, 48000, GST_SECOND * 1024);
    std::vector<bool> keyframe (frames);
    for (int i = 0; i < frames; i++)
      keyframe[i] = i % 60 == 0 || g_rand_int_range (rand, 0, 100) < 3;
    auto push_v = [&] (int i) {
      g_autoptr (GstBuffer) b = gst_buffer_new_allocate (nullptr, 100, nullptr);
      gst_buffer_memset (b, 0, 0, 100);
      GstClockTime t = gst_util_uint64_scale (i, GST_SECOND, 30);
      GST_BUFFER_PTS (b) = GST_BUFFER_DTS (b) = t;
      GST_BUFFER_DURATION (b) = gst_util_uint64_scale (i + 1, GST_SECOND, 30) - t;
      if (!keyframe[i])
        GST_BUFFER_FLAG_SET (b, GST_BUFFER_FLAG_DELTA_UNIT);
      fail_unless (w.push (Kind::kVideo, b, t, t, ev).empty ());
    };
    int v = 0, a = 0;
    bool done = false;
    auto audio_time = [] (int k) { return (gint64) gst_util_uint64_scale (k * 1024, GST_SECOND, 48000); };
    while (v < frames || a < audio_frames) {
      gint64 vt = (gint64) gst_util_uint64_scale (v, GST_SECOND, 30) + lag_ms * (gint64) GST_MSECOND;
      bool video_next = v < frames && (a >= audio_frames || vt <= audio_time (a));
      if (video_next)
        push_v (v++);
      else
        fail_unless (push_audio (w, a++, ev).empty ());
      if (v == frames && a < audio_frames && video_first) {
        fail_unless (w.eos (Kind::kVideo, ev, &done).empty ());
        video_first = false;
        v++;
      }
    }
    bool video_done = false;
    fail_unless (w.eos (Kind::kAudio, ev, &done).empty ());
    fail_unless (w.eos (Kind::kVideo, ev, &video_done).empty ());
    fail_unless (done || video_done);
    GstClockTime parts = 0;
    for (const auto & e : ev) {
      if (e.kind == EK::kPart) {
        /* the last part, made at the end, is never listed as a part;
         * the others may pass the target by less than a frame where the
         * driver changes */
        fail_unless (&e == &last (ev, EK::kPart) || e.duration <= 320 * GST_MSECOND, "round %d (%d "
            "frames, tail %d ms, lag %d ms, video first %d): part %" G_GUINT64_FORMAT ".%u of %"
            GST_TIME_FORMAT, round, frames, extra_tail_ms, lag_ms, video_first0, e.msn, e.part,
            GST_TIME_ARGS (e.duration));
        fail_unless (e.duration > 0, "round %d (%d frames, tail %d ms, lag %d ms, video first %d): part %"
            G_GUINT64_FORMAT ".%u adds no time", round, frames, extra_tail_ms, lag_ms, video_first0,
            e.msn, e.part);
        parts += e.duration;
      }
      if (e.kind == EK::kSegment) {
        fail_unless (parts + GST_MSECOND >= e.duration && parts <= e.duration + GST_MSECOND);
        parts = 0;
      }
    }
    /* a tail shorter than half a part is in a last segment with both
     * tracks (hls.js never buffers all of a segment without one of them) */
    guint64 last_msn = last (ev, EK::kSegment).msn;
    bool both = false;
    for (const auto & e : ev)
      both = both || (e.kind == EK::kPart && e.msn == last_msn
          && boxes_named (e.bytes, "traf") == 2);
    if (std::abs (extra_tail_ms) < 150)
      fail_unless (both, "round %d (%d frames, tail %d ms, lag %d ms, video first %d): the "
          "last segment is one track's", round, frames, extra_tail_ms, lag_ms, video_first0);
  }
  g_rand_free (rand);
}
GST_END_TEST;

static Suite *
llhlswriter_suite (void)
{
  Suite *s = suite_create ("llhlswriter");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_caps_without_codec_data_or_before_data_are_errors);
  tcase_add_test (tc, test_format_location);
  tcase_add_test (tc, test_caps_change_gives_new_init_and_discontinuity);
  tcase_add_test (tc, test_first_init_waits_for_audio_caps_a_second_late);
  tcase_add_test (tc, test_video_ending_before_the_audio_caps_waits_for_them);
  tcase_add_test (tc, test_audio_later_than_the_wait_joins_at_the_next_keyframe);
  tcase_add_test (tc, test_video_waits_for_the_audio_caps);
  tcase_add_test (tc, test_audio_waiting_for_video_is_bounded);
  tcase_add_test (tc, test_audio_goes_alone_when_video_never_gets_caps);
  tcase_add_test (tc, test_video_ending_first_leaves_nothing_behind);
  tcase_add_test (tc, test_audio_far_behind_an_ended_video_adds_no_time);
  tcase_add_test (tc, test_audio_outlasting_the_video_ends_its_last_segment);
  tcase_add_test (tc, test_audio_long_after_the_video_gets_segments_again);
  tcase_add_test (tc, test_huge_sample_is_refused);
  tcase_add_test (tc, test_eos_without_data_says_nothing);
  tcase_add_test (tc, test_eos_on_a_pad_that_never_got_caps);
  tcase_add_test (tc, test_eos_on_audio_before_the_init);
  tcase_add_test (tc, test_deletes_after_the_playlist_and_delta_when_skippable);
  tcase_add_test (tc, test_random_endings_give_no_empty_part);
  return s;
}

GST_CHECK_MAIN (llhlswriter);
