/* LlHlsWriter: llhlssink's cutting and bookkeeping, fed synthetic samples
 * (the bytes do not matter to it): caps errors, caps changes, a track
 * that comes late or never, bounded waits, huge samples, delta playlists
 * and deletions. No files: every location is empty. */
#include "llhls/llhlswriter.h"

#include "../assertions.h"

#include <gst/check/gstcheck.h>

#include <cstring>
#include <string>
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
last (const std::vector<WriterEvent> & ev, EK kind)
{
  for (auto it = ev.rbegin (); it != ev.rend (); ++it)
    if (it->kind == kind)
      return *it;
  fail ("no such event");
  return ev.front ();
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

GST_START_TEST (test_late_audio_joins_at_the_next_segment)
{
  LlHlsWriter w (no_files ());
  w.add_track (Kind::kVideo);
  w.add_track (Kind::kAudio);
  std::vector<WriterEvent> ev;
  fail_unless (set_caps (w, Kind::kVideo, video_caps (), ev).empty ());
  /* video waits for the audio's caps kMaxWait (10 s), then goes alone,
   * cut as if it had not waited */
  for (int i = 0; i <= 300; i++)
    fail_unless (push_video (w, i, 30, ev).empty ());
  fail_unless_equals_int (count (ev, EK::kInit), 0);
  fail_unless (push_video (w, 301, 30, ev).empty ());
  fail_unless_equals_int (count (ev, EK::kInit), 1);
  fail_unless_equals_int (count (ev, EK::kWarning), 1);
  assert_has (last (ev, EK::kWarning).text, "no audio caps after 10 s");
  fail_unless_equals_int (count (ev, EK::kSegment), 5);
  fail_unless_equals_int (count (ev, EK::kPart), 5 * 7);
  /* a keyframe is asked for the open segment only: the others have passed */
  fail_unless_equals_int (count (ev, EK::kKeyframeRequest), 1);
  fail_unless_equals_uint64 (last (ev, EK::kKeyframeRequest).running_time, 12 * GST_SECOND);
  for (const auto & e : ev)
    if (e.kind == EK::kPart)
      fail_unless (e.duration <= 300 * GST_MSECOND + PartCutter::kJitter);
  /* audio arrives at 10 s: it is in the init of segment 6 */
  fail_unless (set_caps (w, Kind::kAudio, audio_caps (), ev).empty ());
  int a = 469;
  for (int i = 302; i < 375; i++) {
    fail_unless (push_video (w, i, 30, ev).empty ());
    while (gst_util_uint64_scale (a * 1024, GST_SECOND, 48000)
        < gst_util_uint64_scale (i, GST_SECOND, 30))
      fail_unless (push_audio (w, a++, ev).empty ());
  }
  fail_unless_equals_int (count (ev, EK::kInit), 2);
  assert_has (last (ev, EK::kPlaylist).text, "segment00005.m4s\n#EXT-X-DISCONTINUITY\n"
      "#EXT-X-MAP:URI=\"init1.mp4\"\n");
  /* the parts of segment 6 carry two tracks: bigger than video alone */
  gsize before = 0, after = 0;
  for (const auto & e : ev)
    if (e.kind == EK::kPart && e.part == 0 && e.msn >= 5)
      (e.msn == 5 ? before : after) = g_bytes_get_size (e.bytes.get ());
  fail_unless (after > before, "%" G_GSIZE_FORMAT " <= %" G_GSIZE_FORMAT, after, before);
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
  /* video runs ahead to 1 s and ends; audio lags at 0.5 s */
  for (int i = 0; i < 30; i++)
    fail_unless (push_video (w, i, 30, ev).empty ());
  int a = 0;
  for (; a < 23; a++)
    fail_unless (push_audio (w, a, ev).empty ());
  bool done = false;
  fail_unless (w.eos (Kind::kVideo, ev, &done).empty ());
  size_t video_parts = count (ev, EK::kPart);
  fail_unless_equals_int (video_parts, 3);
  /* the audio drives on: its next part takes all the video left (frames
   * 27..29, not starting with a keyframe: not independent); no later part
   * has video */
  for (; a < 94; a++)
    fail_unless (push_audio (w, a, ev).empty ());
  fail_unless (w.eos (Kind::kAudio, ev, &done).empty ());
  fail_unless (done);
  size_t n = 0;
  for (const auto & e : ev) {
    /* the audio that waited while the video drove (0 to 0.47 s) is cut
     * into parts of at most part-target too, not sent as one */
    if (e.kind == EK::kPart)
      fail_unless (e.duration <= 300 * GST_MSECOND + PartCutter::kJitter, "part %"
          G_GUINT64_FORMAT ".%u: %" GST_TIME_FORMAT, e.msn, e.part, GST_TIME_ARGS (e.duration));
    if (e.kind != EK::kPart || n++ < video_parts)
      continue;
    /* the samples are zeros: "traf" appears once per track in the moof */
    gsize size = 0;
    auto *data = static_cast<const char *> (g_bytes_get_data (e.bytes.get (), &size));
    int trafs = 0;
    for (gsize i = 0; i + 4 <= size; i++)
      trafs += memcmp (data + i, "traf", 4) == 0;
    if (n == video_parts + 1) {
      fail_unless (!e.flag, "a part with video from a delta frame on is not independent");
      fail_unless_equals_int (trafs, 2);
    } else {
      fail_unless (e.flag);
      fail_unless_equals_int (trafs, 1);
    }
  }
  fail_unless (n > video_parts + 2);
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

static Suite *
llhlswriter_suite (void)
{
  Suite *s = suite_create ("llhlswriter");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_caps_without_codec_data_or_before_data_are_errors);
  tcase_add_test (tc, test_format_location);
  tcase_add_test (tc, test_caps_change_gives_new_init_and_discontinuity);
  tcase_add_test (tc, test_video_waits_for_the_audio_caps);
  tcase_add_test (tc, test_late_audio_joins_at_the_next_segment);
  tcase_add_test (tc, test_audio_waiting_for_video_is_bounded);
  tcase_add_test (tc, test_audio_goes_alone_when_video_never_gets_caps);
  tcase_add_test (tc, test_video_ending_first_leaves_nothing_behind);
  tcase_add_test (tc, test_huge_sample_is_refused);
  tcase_add_test (tc, test_eos_without_data_says_nothing);
  tcase_add_test (tc, test_deletes_after_the_playlist_and_delta_when_skippable);
  return s;
}

GST_CHECK_MAIN (llhlswriter);
