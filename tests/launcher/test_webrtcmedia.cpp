/* WebRtcMedia over a real StreamPipeline: real GStreamer publishers
 * linked through the stream's taps, viewers' branches read back through
 * real depayloaders (no webrtcbin: the viewer part links that). */
#include "streams/elementfactory.h"
#include "streams/elementnames.h"
#include "streams/pipelinecatalog.h"
#include "streams/streampipeline.h"
#include "whep/tapcodec.h"
#include "whep/webrtcmedia.h"

#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace castline::launcher;

namespace {

/* a bin of desc (gst-launch syntax), its unlinked pads ghosted; floating */
GstElement *
make_bin (const std::string & desc)
{
  GError *err = nullptr;
  GstElement *bin = gst_parse_bin_from_description (desc.c_str (), TRUE, &err);
  fail_unless (bin != nullptr, "%s: %s", desc.c_str (), err ? err->message : "?");
  g_clear_error (&err);
  return bin;
}

/* runs the default main context (the pipeline's bus) until done () or the
 * time-out; done () at the end */
bool
spin_until (const std::function<bool ()> & done, gint64 timeout_ms = 20000)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  while (!done () && g_get_monotonic_time () < deadline) {
    if (!g_main_context_iteration (nullptr, FALSE))
      g_usleep (10000);
  }
  return done ();
}

/* lets the stream run a while (its bus served) */
void
run_for (gint64 ms)
{
  spin_until ([] { return false; }, ms);
}

/* the count of the keyframe requests the tests send as a viewer's
 * webrtcbin would (the HLS sink sends its own) */
constexpr guint kViewerRequest = 4242;

/* a pad probe counting buffers (and noting EOS), and the upstream
 * GstForceKeyUnit events of a viewer that passed */
struct PadCount {
  std::atomic<int> buffers { 0 };
  std::atomic<bool> eos { false };
  std::atomic<int> keyframe_requests { 0 };

  void watch (GstPad * pad)
  {
    gst_pad_add_probe (pad, (GstPadProbeType) (GST_PAD_PROBE_TYPE_BUFFER
            | GST_PAD_PROBE_TYPE_EVENT_BOTH), [] (GstPad *, GstPadProbeInfo * info,
            gpointer data) {
          auto *c = static_cast<PadCount *> (data);
          if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER) {
            c->buffers++;
          } else {
            GstEvent *e = GST_PAD_PROBE_INFO_EVENT (info);
            if (GST_EVENT_TYPE (e) == GST_EVENT_EOS)
              c->eos = true;
            guint count = 0;
            if (GST_EVENT_IS_UPSTREAM (e) && gst_video_event_is_force_key_unit (e)
                && gst_video_event_parse_upstream_force_key_unit (e, nullptr, nullptr, &count)
                && count == kViewerRequest)
              c->keyframe_requests++;
          }
          return GST_PAD_PROBE_OK;
        }, this, nullptr);
  }
};

/* an Opus publisher, as WHIP's (the HLS wants both kinds) */
constexpr char kOpusSource[] = "audiotestsrc is-live=true ! opusenc ! opusparse";

/* an H.264 publisher, as WHIP's (byte-stream, SPS/PPS at each IDR) or
 * RTMP's (avc: SPS/PPS in codec_data only) */
std::string
h264_source (const char *format, const char *source_options = "")
{
  bool avc = g_str_equal (format, "avc");
  return std::string ("videotestsrc is-live=true ") + source_options
      + " ! video/x-raw,format=I420,width=320,height=240,framerate=30/1 ! x264enc tune=zerolatency "
      "speed-preset=ultrafast key-int-max=15 " + (avc ? "option-string=repeat-headers=0 " : "")
      + "! capsfilter caps=\"video/x-h264,alignment=au,stream-format=" + format + "\"";
}

/* a stream's pipeline from a shipped description, with WebRtcMedia made
 * before it starts, as WebRtcRoom does */
struct Stream {
  PipelineCatalog catalog;
  std::unique_ptr<StreamPipeline> pipeline;
  std::unique_ptr<WebRtcMedia> media;
  std::atomic<int> keyframes_wanted { 0 };
  bool finished = false;
  bool finished_ok = false;
  std::string reason;

  explicit Stream (const char *description, const char *audio_codec = "opus")
  {
    std::vector<std::string> errors;
    fail_unless (catalog.load ({ CASTLINE_SOURCE_DIR "/pipelines" }, errors));
    g_autofree gchar *dir = g_dir_make_tmp ("castline-webrtcmedia-XXXXXX", nullptr);
    OutputSettings out;
    out.hls_dir = dir;
    out.audio_codec = audio_codec;
    StreamPipeline::Listener l;
    l.finished = [this] (bool ok, const std::string & why) {
      finished = true;
      finished_ok = ok;
      reason = why;
    };
    std::string error;
    pipeline = StreamPipeline::create (*catalog.find (description), "test", out, l, error);
    fail_unless (pipeline != nullptr, "%s", error.c_str ());
    WebRtcMedia::Hooks hooks;
    hooks.keyframe_wanted = [this] { keyframes_wanted++; };
    media = std::make_unique<WebRtcMedia> (*pipeline, hooks);
  }
  ~Stream ()
  {
    media.reset ();
    pipeline.reset ();
  }

  GstBin *bin () { return GST_BIN (pipeline->pipeline ()); }

  /* a publisher: desc (gst-launch syntax) in the pipeline, its one
   * unlinked src pad linked as kind, as an ingest does; counted. That
   * pad, with a ref, in *out when asked. */
  void publish (const std::string & kind, const std::string & desc, PadCount * count = nullptr,
      GstPad ** out = nullptr)
  {
    GstElement *src = make_bin (desc);
    gst_bin_add (bin (), src);
    g_autoptr (GstPad) pad = gst_element_get_static_pad (src, "src");
    if (count)
      count->watch (pad);
    pipeline->link_media (kind, pad);
    if (out)
      *out = GST_PAD (gst_object_ref (pad));
  }

  /* as an ingest's no-more-pads: the entries nothing is linked to end */
  void start ()
  {
    std::string error;
    fail_unless (pipeline->start (error), "%s", error.c_str ());
    pipeline->end_unlinked_entries ();
  }

  /* the usual publisher (H.264 byte-stream and Opus, its video counted),
   * started, its media known */
  void start_h264 (PadCount * published = nullptr)
  {
    publish ("video", h264_source ("byte-stream"), published);
    publish ("audio", kOpusSource);
    start ();
    wait_media (true, true);
  }

  /* waits for the taps to tell WebRtcMedia what they carry */
  WhepMedia wait_media (bool video, bool audio)
  {
    fail_unless (spin_until ([&] {
          WhepMedia m = media->media ();
          return (!video || !m.video.empty ()) && (!audio || !m.audio.empty ());
        }), "the taps' media never came");
    return media->media ();
  }

  /* a viewer's branch, which must be made; its SSRC in *ssrc if asked */
  GstPad *branch (const char *viewer, const char *kind, int pt, guint * ssrc = nullptr)
  {
    std::string error;
    guint made = 0;
    GstPad *pad = media->add_branch (viewer, kind, pt, made, error);
    if (ssrc)
      *ssrc = made;
    fail_unless (pad != nullptr, "no %s branch: %s", kind, error.c_str ());
    return pad;
  }

  /* elements of ours made by factory */
  int count_ours (const char *factory)
  {
    int n = 0;
    GstIterator *it = gst_bin_iterate_recurse (bin ());
    GValue v = G_VALUE_INIT;
    while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
      GstElement *e = GST_ELEMENT (g_value_get_object (&v));
      GstElementFactory *f = gst_element_get_factory (e);
      if (f && g_str_equal (GST_OBJECT_NAME (f), factory)
          && g_str_has_prefix (GST_OBJECT_NAME (e), "webrtcmedia_"))
        n++;
      g_value_reset (&v);
    }
    g_value_unset (&v);
    gst_iterator_free (it);
    return n;
  }
};

/* a viewer's end of a branch: the RTP it gets (payload types, count), and
 * what a depayloader (and decoder) makes of it */
struct Viewer {
  GstElement *bin = nullptr;
  std::mutex lock;
  std::vector<int> pts;                 /* each packet's */
  /* each packet's RTP timestamp and marker bit */
  std::vector<std::pair<guint32, bool>> stamps;
  std::vector<guint32> ssrcs;           /* each packet's */
  std::vector<std::string> frames;      /* what reaches the fakesink */
  std::atomic<int> packets { 0 };

  /* decode: gst-launch syntax between the branch and a fakesink ("" for
   * none) */
  Viewer (Stream & s, GstPad * branch, const std::string & decode)
  {
    fail_unless (branch != nullptr);
    bin = GST_ELEMENT (gst_object_ref (make_bin ((decode.empty () ? "" : decode + " ! ")
                + "fakesink name=end sync=false async=false signal-handoffs=true")));
    gst_bin_add (s.bin (), bin);
    g_autoptr (GstElement) end = gst_bin_get_by_name (GST_BIN (bin), "end");
    g_signal_connect (end, "handoff", G_CALLBACK (+[] (GstElement *, GstBuffer * b, GstPad *,
                gpointer data) {
          auto *v = static_cast<Viewer *> (data);
          GstMapInfo map;
          gst_buffer_map (b, &map, GST_MAP_READ);
          std::lock_guard<std::mutex> lk (v->lock);
          v->frames.emplace_back ((const char *) map.data, map.size);
          gst_buffer_unmap (b, &map);
        }), this);
    g_autoptr (GstPad) sink = gst_element_get_static_pad (bin, "sink");
    gst_pad_add_probe (sink, (GstPadProbeType) (GST_PAD_PROBE_TYPE_BUFFER
            | GST_PAD_PROBE_TYPE_BUFFER_LIST), [] (GstPad *, GstPadProbeInfo * info,
            gpointer data) {
          auto *v = static_cast<Viewer *> (data);
          if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
            GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
            for (guint i = 0; i < gst_buffer_list_length (list); i++)
              v->packet (gst_buffer_list_get (list, i));
          } else {
            v->packet (GST_PAD_PROBE_INFO_BUFFER (info));
          }
          return GST_PAD_PROBE_OK;
        }, this, nullptr);
    gst_element_sync_state_with_parent (bin);
    fail_unless_equals_int (gst_pad_link (branch, sink), GST_PAD_LINK_OK);
    gst_object_unref (branch);
  }
  /* stopped: nothing streams into this any more (the branch's queue
   * gets FLUSHING, which stays in its branch) */
  ~Viewer ()
  {
    gst_element_set_state (bin, GST_STATE_NULL);
    gst_object_unref (bin);
  }

  /* a streaming thread: one RTP packet */
  void packet (GstBuffer * b)
  {
    GstMapInfo map;
    gst_buffer_map (b, &map, GST_MAP_READ);
    {
      std::lock_guard<std::mutex> lk (lock);
      if (map.size >= 12) {
        pts.push_back (map.data[1] & 0x7f);
        stamps.emplace_back (GST_READ_UINT32_BE (map.data + 4), (map.data[1] & 0x80) != 0);
        ssrcs.push_back (GST_READ_UINT32_BE (map.data + 8));
      }
    }
    gst_buffer_unmap (b, &map);
    packets++;
  }

  /* a copy of the frames so far */
  std::vector<std::string> got ()
  {
    std::lock_guard<std::mutex> lk (lock);
    return frames;
  }
  /* every packet had SSRC ssrc, and there was one */
  bool all_ssrc (guint32 ssrc)
  {
    std::lock_guard<std::mutex> lk (lock);
    for (guint32 s : ssrcs)
      if (s != ssrc)
        return false;
    return !ssrcs.empty ();
  }
  /* every packet had payload type pt, and there was one */
  bool all_pt (int pt)
  {
    std::lock_guard<std::mutex> lk (lock);
    for (int p : pts)
      if (p != pt)
        return false;
    return !pts.empty ();
  }
};

/* the NAL unit types of a byte-stream access unit, in order */
std::vector<int>
nal_types (const std::string & au)
{
  std::vector<int> types;
  auto *d = (const guint8 *) au.data ();
  for (size_t i = 0; i + 3 < au.size (); i++) {
    if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1) {
      types.push_back (d[i + 3] & 0x1f);
      i += 2;
    }
  }
  return types;
}

/* the IDRs reaching v (three at least) each have SPS and PPS before them
 * in their access unit */
void
check_idrs_have_parameter_sets (Viewer & v)
{
  auto idrs = [&v] {
    int n = 0;
    for (auto & au : v.got ()) {
      std::vector<int> types = nal_types (au);
      n += std::find (types.begin (), types.end (), 5) != types.end ();
    }
    return n;
  };
  fail_unless (spin_until ([&] { return idrs () >= 3; }), "%d IDRs reached the viewer", idrs ());
  int n = 0;
  for (auto & au : v.got ()) {
    std::vector<int> types = nal_types (au);
    auto idr = std::find (types.begin (), types.end (), 5);
    if (idr == types.end ())
      continue;
    n++;
    fail_unless (std::find (types.begin (), idr, 7) != idr, "no SPS before IDR %d", n);
    fail_unless (std::find (types.begin (), idr, 8) != idr, "no PPS before IDR %d", n);
  }
}

constexpr char kH264Depay[] = "rtph264depay ! video/x-h264,stream-format=byte-stream,alignment=au";

void
check_h264 (const char *format)
{
  Stream s ("passthrough");
  s.publish ("video", h264_source (format));
  s.publish ("audio", kOpusSource);
  s.start ();
  WhepMedia m = s.wait_media (true, false);
  fail_unless (m.video == "h264", "%s", m.video.c_str ());
  /* x264's ultrafast zerolatency: constrained baseline */
  fail_unless (spin_until ([&] { return !s.media->media ().h264_profile_level_id.empty (); }));
  fail_unless (g_str_has_prefix (s.media->media ().h264_profile_level_id.c_str (), "42"), "%s",
      s.media->media ().h264_profile_level_id.c_str ());
  /* joining late: the IDRs it gets still carry their parameter sets */
  run_for (1500);
  std::string error;
  Viewer v (s, s.branch ("a", "video", 102), kH264Depay);
  check_idrs_have_parameter_sets (v);
  fail_unless (v.all_pt (102));
  fail_if (s.finished, "%s", s.reason.c_str ());
}

}  // namespace

GST_START_TEST (test_tap_codecs)
{
  auto codec = [] (const char *caps) {
    g_autoptr (GstCaps) c = gst_caps_from_string (caps);
    return webrtc_codec_of (c);
  };
  fail_unless (codec ("video/x-h264,stream-format=avc") == "h264");
  fail_unless (codec ("video/x-vp8") == "vp8");
  fail_unless (codec ("video/x-vp9") == "vp9");
  fail_unless (codec ("audio/x-opus") == "opus");
  fail_unless (codec ("audio/mpeg,mpegversion=4") == "aac");
  fail_unless (codec ("audio/mpeg,mpegversion=1").empty ());
  fail_unless (codec ("video/x-h265").empty ());
  fail_unless (webrtc_codec_of (nullptr).empty ());

  const guint8 avcc[] = { 1, 0x4d, 0x40, 0x1f, 0xff };
  g_autoptr (GstBuffer) b = gst_buffer_new_memdup (avcc, sizeof avcc);
  g_autoptr (GstCaps) avc = gst_caps_new_simple ("video/x-h264", "codec_data", GST_TYPE_BUFFER,
      b, nullptr);
  fail_unless (h264_profile_level_id_of_caps (avc) == "4d401f");
  const guint8 annexb[] = { 0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xda, 0, 0,
    1, 0x68 };
  fail_unless (h264_profile_level_id_of_annexb (annexb, sizeof annexb) == "42c01e");
  fail_unless (h264_profile_level_id_of_annexb (annexb, 12).empty (), "a cut SPS was read");
}
GST_END_TEST;

GST_START_TEST (test_h264_byte_stream_to_rtp)
{
  check_h264 ("byte-stream");
}
GST_END_TEST;

/* A keyframe the publisher made on request comes after a downstream
 * GstForceKeyUnit (all-headers) from the ingest's h264parse, as WHIP's
 * does. Each frame still ends with the marker bit on its last packet:
 * nothing of a frame's timestamp comes after its marker (rtph264pay sent
 * SPS/PPS ahead of the keyframe with the marker, a frame of their own that
 * browsers failed to decode, asking for a keyframe again). */
GST_START_TEST (test_keyframes_on_request_keep_frames_whole)
{
  Stream s ("passthrough");
  g_autoptr (GstPad) published = nullptr;
  s.publish ("video", h264_source ("byte-stream") + " ! h264parse", nullptr, &published);
  s.publish ("audio", kOpusSource);
  s.start ();
  s.wait_media (true, false);
  Viewer v (s, s.branch ("a", "video", 102), kH264Depay);
  fail_unless (spin_until ([&] { return v.packets > 10; }));
  /* the publisher asked for keyframes, as the room does for viewers */
  for (int i = 0; i < 5; i++) {
    fail_unless (gst_pad_send_event (published,
            gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, TRUE, i)));
    run_for (200);
  }
  run_for (300);
  std::lock_guard<std::mutex> lk (v.lock);
  fail_unless (v.stamps.size () > 20);
  int frames = 0;
  for (size_t i = 0; i + 1 < v.stamps.size (); i++) {
    if (!v.stamps[i].second)
      continue;
    frames++;
    fail_if (v.stamps[i + 1].first == v.stamps[i].first,
        "packet %zu (timestamp %u) follows its frame's marker", i + 1, v.stamps[i].first);
  }
  fail_unless (frames > 10, "%d frames", frames);
}
GST_END_TEST;

/* RTMP's H.264: SPS/PPS only in codec_data */
GST_START_TEST (test_h264_avc_to_rtp)
{
  check_h264 ("avc");
}
GST_END_TEST;

/* VP8 into an audio-only description: the graph drops the video, its tap
 * still feeds the viewers */
GST_START_TEST (test_vp8_of_an_audio_only_stream)
{
  Stream s ("audio-only");
  s.publish ("video", "videotestsrc is-live=true ! video/x-raw,width=320,height=240,"
      "framerate=30/1 ! vp8enc deadline=1 keyframe-max-dist=15");
  s.publish ("audio", kOpusSource);
  s.start ();
  WhepMedia m = s.wait_media (true, true);
  fail_unless (m.video == "vp8" && m.audio == "opus", "%s %s", m.video.c_str (), m.audio.c_str ());
  std::string error;
  Viewer v (s, s.branch ("a", "video", 96), "rtpvp8depay");
  /* a VP8 keyframe: the frame tag's first bit clear */
  fail_unless (spin_until ([&] {
        for (auto & f : v.got ())
          if (!f.empty () && !(f[0] & 1))
            return true;
        return false;
      }), "no VP8 keyframe reached the viewer");
  fail_unless (v.all_pt (96));
  fail_if (s.finished, "%s", s.reason.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_vp9_to_rtp)
{
  Stream s ("audio-only");
  s.publish ("video", "videotestsrc is-live=true ! video/x-raw,width=320,height=240,"
      "framerate=30/1 ! vp9enc deadline=1 cpu-used=8 keyframe-max-dist=15");
  s.publish ("audio", kOpusSource);
  s.start ();
  WhepMedia m = s.wait_media (true, true);
  fail_unless (m.video == "vp9", "%s", m.video.c_str ());
  Viewer v (s, s.branch ("a", "video", 98), "rtpvp9depay ! vp9dec");
  fail_unless (spin_until ([&] { return v.got ().size () >= 5; }), "no VP9 frame decoded");
  fail_unless (v.all_pt (98));
  fail_unless_equals_int (s.count_ours ("rtpvp9pay"), 1);
  fail_if (s.finished, "%s", s.reason.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_opus_passes_through)
{
  Stream s ("audio-only");
  s.publish ("audio", kOpusSource);
  s.start ();
  WhepMedia m = s.wait_media (false, true);
  fail_unless (m.audio == "opus" && m.video.empty ());
  std::string error;
  Viewer v (s, s.branch ("a", "audio", 111), "rtpopusdepay ! opusdec");
  fail_unless (spin_until ([&] { return v.got ().size () >= 10; }), "no audio decoded");
  fail_unless (v.all_pt (111));
  fail_unless_equals_int (s.count_ours ("opusenc"), 0);
  fail_unless_equals_int (s.count_ours ("rtpopuspay"), 1);
}
GST_END_TEST;

/* RTMP's AAC: one Opus encoder for the stream, whatever its viewers */
GST_START_TEST (test_aac_becomes_opus_once)
{
  Stream s ("audio-only", "aac");
  s.publish ("audio", "audiotestsrc is-live=true ! avenc_aac ! aacparse");
  s.start ();
  WhepMedia m = s.wait_media (false, true);
  fail_unless (m.audio == "opus", "%s", m.audio.c_str ());
  std::string error;
  Viewer a (s, s.branch ("a", "audio", 111), "rtpopusdepay ! opusdec");
  Viewer b (s, s.branch ("b", "audio", 111), "rtpopusdepay ! opusdec");
  fail_unless (spin_until ([&] { return a.got ().size () >= 10 && b.got ().size () >= 10; }),
      "no audio decoded");
  fail_unless (a.all_pt (111) && b.all_pt (111));
  fail_unless_equals_int (s.count_ours ("opusenc"), 1);
  fail_unless_equals_int (s.count_ours ("rtpopuspay"), 1);
  fail_if (s.finished, "%s", s.reason.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_two_payload_types_two_payloaders)
{
  Stream s ("passthrough");
  s.start_h264 ();
  std::string error;
  guint ssrc_a = 0, ssrc_b = 0, ssrc_c = 0, ssrc = 0;
  Viewer a (s, s.branch ("a", "video", 96, &ssrc_a), kH264Depay);
  Viewer b (s, s.branch ("b", "video", 102, &ssrc_b), kH264Depay);
  Viewer c (s, s.branch ("c", "video", 102, &ssrc_c), kH264Depay);
  fail_unless (spin_until ([&] { return a.packets > 20 && b.packets > 20 && c.packets > 20; }));
  fail_unless (a.all_pt (96) && b.all_pt (102) && c.all_pt (102));
  /* each payloader's SSRC, told before its first packet (a viewer's
   * answer names it), is the one its packets carry */
  fail_unless (ssrc_a != 0 && ssrc_b != 0 && ssrc_a != ssrc_b);
  fail_unless_equals_int (ssrc_c, ssrc_b);
  fail_unless (a.all_ssrc (ssrc_a) && b.all_ssrc (ssrc_b) && c.all_ssrc (ssrc_c));
  fail_unless_equals_int (s.count_ours ("rtph264pay"), 2);
  fail_unless_equals_int (s.count_ours ("h264parse"), 1);
  /* a bad payload type, a kind unknown: reasons, no branch */
  error.clear ();
  fail_unless (s.media->add_branch ("d", "data", 111, ssrc, error) == nullptr);
  fail_if (error.empty ());
  error.clear ();
  fail_unless (s.media->add_branch ("d", "video", 300, ssrc, error) == nullptr);
  fail_if (error.empty ());
}
GST_END_TEST;

/* A viewer that never reads (its pad blocked) loses its own packets; the
 * publisher, the HLS and the other viewer go on. */
GST_START_TEST (test_blocked_viewer_blocks_nobody)
{
  PadCount published, entered;
  Stream s ("passthrough");
  s.publish ("video", h264_source ("byte-stream", "num-buffers=150"), &published);
  s.publish ("audio", "audiotestsrc is-live=true num-buffers=250 samplesperbuffer=960 ! opusenc "
      "! opusparse");
  g_autoptr (GstElement) video_in = gst_bin_get_by_name (s.bin (), names::kVideoIn);
  g_autoptr (GstPad) entry = gst_element_get_static_pad (video_in, "sink");
  entered.watch (entry);
  s.start ();
  s.wait_media (true, false);
  std::string error;
  Viewer stuck (s, s.branch ("stuck", "video", 96), "");
  g_autoptr (GstElement) end = gst_bin_get_by_name (GST_BIN (stuck.bin), "end");
  g_autoptr (GstPad) end_pad = gst_element_get_static_pad (end, "sink");
  gulong block = gst_pad_add_probe (end_pad, GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM,
      [] (GstPad *, GstPadProbeInfo *, gpointer) { return GST_PAD_PROBE_OK; }, nullptr, nullptr);
  Viewer other (s, s.branch ("other", "video", 96), kH264Depay);
  /* 5 s of video, then EOS: the HLS finishes */
  fail_unless (spin_until ([&] { return s.finished; }, 40000), "the stream never finished");
  fail_unless (s.finished_ok, "%s", s.reason.c_str ());
  fail_unless (published.eos && entered.eos);
  fail_unless_equals_int (entered.buffers.load (), published.buffers.load ());
  fail_unless_equals_int (published.buffers.load (), 150);
  /* the stuck viewer's sink took nothing: its first push is still blocked */
  fail_unless (stuck.got ().empty (), "%zu", stuck.got ().size ());
  /* the other viewer had the stream to its end (joined after the start) */
  fail_unless (other.got ().size () >= 100, "%zu frames", other.got ().size ());
  gst_pad_remove_probe (end_pad, block);
}
GST_END_TEST;

/* A viewer's webrtcbin flushing (it closes) or failing stays in its
 * branch: the other viewer goes on, the stream does not fail. */
GST_START_TEST (test_failing_viewer_fails_alone)
{
  Stream s ("passthrough");
  s.start_h264 ();
  std::string error;
  guint ssrc = 0;
  std::vector<GstPad *> dead;
  for (GstFlowReturn ret : { GST_FLOW_FLUSHING, GST_FLOW_ERROR }) {
    GstPad *branch = s.media->add_branch (ret == GST_FLOW_ERROR ? "error" : "flushing", "video",
        96, ssrc, error);
    fail_unless (branch != nullptr, "%s", error.c_str ());
    GstPad *sink = gst_pad_new ("sink", GST_PAD_SINK);
    gst_pad_set_event_function (sink, [] (GstPad *, GstObject *, GstEvent * e) -> gboolean {
          gst_event_unref (e);
          return TRUE;
        });
    if (ret == GST_FLOW_ERROR)
      gst_pad_set_chain_function (sink, [] (GstPad *, GstObject *, GstBuffer * b) {
            gst_buffer_unref (b);
            return GST_FLOW_ERROR;
          });
    else
      gst_pad_set_chain_function (sink, [] (GstPad *, GstObject *, GstBuffer * b) {
            gst_buffer_unref (b);
            return GST_FLOW_FLUSHING;
          });
    gst_pad_set_active (sink, TRUE);
    fail_unless_equals_int (gst_pad_link (branch, sink), GST_PAD_LINK_OK);
    gst_object_unref (branch);
    dead.push_back (sink);
  }
  Viewer other (s, s.branch ("other", "video", 96), kH264Depay);
  run_for (1000);
  int before = other.packets;
  run_for (1500);
  fail_unless (other.packets > before + 20, "%d then %d", before, other.packets.load ());
  fail_if (s.finished, "the stream failed: %s", s.reason.c_str ());
  fail_unless (s.media->media ().video == "h264");
  s.media->remove_branches ("error");
  s.media->remove_branches ("flushing");
  for (GstPad *p : dead)
    gst_object_unref (p);
}
GST_END_TEST;

GST_START_TEST (test_remove_branches_while_playing)
{
  Stream s ("passthrough");
  s.start_h264 ();
  std::string error;
  Viewer a (s, s.branch ("a", "video", 96), kH264Depay);
  Viewer b (s, s.branch ("b", "video", 96), kH264Depay);
  fail_unless (spin_until ([&] { return a.packets > 10 && b.packets > 10; }));
  g_autoptr (GstElement) tee = gst_bin_get_by_name (s.bin (), "webrtcmedia_video_rtp96");
  fail_unless (tee != nullptr);
  fail_unless_equals_int (GST_ELEMENT (tee)->numsrcpads, 2);

  s.media->remove_branches ("a");
  fail_unless_equals_int (GST_ELEMENT (tee)->numsrcpads, 1);
  g_autoptr (GstPad) a_sink = gst_element_get_static_pad (a.bin, "sink");
  fail_if (gst_pad_is_linked (a_sink));
  fail_unless_equals_int (s.count_ours ("queue"), 2);      /* the chain's and b's */
  int a_then = a.packets, b_then = b.packets;
  run_for (1500);
  fail_unless_equals_int (a.packets.load (), a_then);
  fail_unless (b.packets > b_then + 10, "%d then %d", b_then, b.packets.load ());
  s.media->remove_branches ("nobody");
  /* the payloader stays for the next viewer */
  Viewer c (s, s.branch ("c", "video", 96), kH264Depay);
  fail_unless (spin_until ([&] { return c.packets > 10; }));
  fail_unless_equals_int (s.count_ours ("rtph264pay"), 1);
  fail_if (s.finished, "%s", s.reason.c_str ());
}
GST_END_TEST;

/* a viewer's PLI (webrtcbin's upstream GstForceKeyUnit) reaches the hook,
 * never the publisher */
GST_START_TEST (test_keyframe_request_goes_to_the_hook)
{
  PadCount published;
  Stream s ("passthrough");
  s.start_h264 (&published);
  std::string error;
  Viewer v (s, s.branch ("a", "video", 96), kH264Depay);
  fail_unless (spin_until ([&] { return v.packets > 10; }));
  g_autoptr (GstElement) end = gst_bin_get_by_name (GST_BIN (v.bin), "end");
  g_autoptr (GstPad) end_pad = gst_element_get_static_pad (end, "sink");
  fail_unless_equals_int (s.keyframes_wanted.load (), 0);
  gst_pad_push_event (end_pad, gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
          TRUE, kViewerRequest));
  fail_unless_equals_int (s.keyframes_wanted.load (), 1);
  run_for (500);
  fail_unless_equals_int (published.keyframe_requests.load (), 0);
}
GST_END_TEST;

/* A chain's element failing takes that chain down (its kind is no longer
 * offered), never the stream: the HLS and the other kind go on. */
GST_START_TEST (test_failing_chain_leaves_the_stream)
{
  PadCount entered;
  Stream s ("passthrough");
  s.publish ("video", h264_source ("byte-stream"));
  s.publish ("audio", kOpusSource);
  g_autoptr (GstElement) video_in = gst_bin_get_by_name (s.bin (), names::kVideoIn);
  g_autoptr (GstPad) entry = gst_element_get_static_pad (video_in, "sink");
  entered.watch (entry);
  s.start ();
  s.wait_media (true, true);
  Viewer seen (s, s.branch ("a", "video", 96), kH264Depay);
  Viewer heard (s, s.branch ("a", "audio", 111), "");
  fail_unless (spin_until ([&] { return seen.packets > 10 && heard.packets > 10; }));
  g_autoptr (GstElement) parse = gst_bin_get_by_name (s.bin (), "webrtcmedia_video_parse");
  fail_unless (parse != nullptr);
  GST_ELEMENT_ERROR (parse, STREAM, DECODE, ("a broken stream"), ("the test says so"));
  fail_unless (spin_until ([&] { return s.media->media ().video.empty (); }),
      "the failed chain is still offered");
  fail_unless_equals_int (s.count_ours ("h264parse"), 0);
  fail_unless_equals_int (s.count_ours ("rtph264pay"), 0);
  int seen_then = seen.packets, heard_then = heard.packets, entered_then = entered.buffers;
  run_for (1500);
  fail_unless_equals_int (seen.packets.load (), seen_then);
  fail_unless (heard.packets > heard_then + 10, "%d then %d", heard_then, heard.packets.load ());
  fail_unless (entered.buffers > entered_then + 10, "the HLS stopped");
  fail_if (s.finished, "the stream failed: %s", s.reason.c_str ());
  fail_unless (s.media->media ().audio == "opus");
  std::string error;
  guint ssrc = 0;
  fail_unless (s.media->add_branch ("b", "video", 96, ssrc, error) == nullptr);
  fail_if (error.empty ());
  s.media->remove_branches ("a");
  fail_unless_equals_int (s.count_ours ("queue"), 1);     /* the audio chain's */
}
GST_END_TEST;

static Suite *
webrtcmedia_suite (void)
{
  Suite *s = suite_create ("webrtcmedia");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_tap_codecs);
  tcase_add_test (tc, test_h264_byte_stream_to_rtp);
  tcase_add_test (tc, test_h264_avc_to_rtp);
  tcase_add_test (tc, test_keyframes_on_request_keep_frames_whole);
  tcase_add_test (tc, test_vp8_of_an_audio_only_stream);
  tcase_add_test (tc, test_vp9_to_rtp);
  tcase_add_test (tc, test_opus_passes_through);
  tcase_add_test (tc, test_aac_becomes_opus_once);
  tcase_add_test (tc, test_two_payload_types_two_payloaders);
  tcase_add_test (tc, test_blocked_viewer_blocks_nobody);
  tcase_add_test (tc, test_failing_viewer_fails_alone);
  tcase_add_test (tc, test_failing_chain_leaves_the_stream);
  tcase_add_test (tc, test_remove_branches_while_playing);
  tcase_add_test (tc, test_keyframe_request_goes_to_the_hook);
  return s;
}

GST_CHECK_MAIN (webrtcmedia);
