/* castline-launcher's WHEP viewer against a real offering peer: the
 * stream's shared RTP (x264enc ! rtph264pay pt=<the offer's> ! tee !
 * queue, and Opus likewise) sent by a WhepViewer to a second webrtcbin in
 * this process, recvonly like a browser, over loopback ICE. */
#include "whep/whepoffer.h"
#include "whep/whepviewer.h"

#include "../assertions.h"
#include "webrtctest.h"

#include <gst/check/gstcheck.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace castline::launcher;

/* the offer's H.264 payload type: not rtph264pay's default (96) */
constexpr int kVideoPt = 102;
/* the test stream's video SSRC (WebRtcMedia chooses its payloaders') */
constexpr guint kVideoSsrc = 212162833;

/* The stream: test video as H.264 High (x264enc's default, not the
 * offer's constrained baseline) and Opus, each payloaded once and teed,
 * with one leaky queue per viewer track, as WebRtcMedia makes them. */
struct Stream {
  GstElement *pipeline = nullptr;

  explicit Stream (int video_pt = kVideoPt)
  {
    std::string d = "videotestsrc is-live=true ! "
        "video/x-raw,width=320,height=240,framerate=30/1,format=I420 ! "
        "x264enc tune=zerolatency key-int-max=30 ! "
        "h264parse config-interval=-1 ! rtph264pay config-interval=-1 "
        "aggregate-mode=zero-latency ssrc=" + std::to_string (kVideoSsrc) + " pt="
        + std::to_string (video_pt) + " ! "
        "tee name=vt allow-not-linked=true ! queue name=vq leaky=downstream "
        "audiotestsrc is-live=true ! opusenc ! rtpopuspay pt=111 ! "
        "tee name=at allow-not-linked=true ! queue name=aq leaky=downstream";
    GError *error = nullptr;
    pipeline = gst_parse_launch (d.c_str (), &error);
    fail_unless (pipeline, "%s", error ? error->message : "?");
    fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING)
        != GST_STATE_CHANGE_FAILURE);
  }
  ~Stream ()
  {
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (pipeline);
  }
  /* a queue's src pad (ref) */
  GstPad *branch (const char *queue)
  {
    GstElement *q = gst_bin_get_by_name (GST_BIN (pipeline), queue);
    GstPad *pad = gst_element_get_static_pad (q, "src");
    gst_object_unref (q);
    return pad;
  }
  /* errors on the stream's bus, each "source: message" */
  std::vector<std::string> errors ()
  {
    std::vector<std::string> out;
    GstBus *bus = gst_element_get_bus (pipeline);
    while (GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR)) {
      GError *e = nullptr;
      gst_message_parse_error (m, &e, nullptr);
      out.push_back (std::string (GST_OBJECT_NAME (GST_MESSAGE_SRC (m))) + ": " + e->message);
      g_error_free (e);
      gst_message_unref (m);
    }
    gst_object_unref (bus);
    return out;
  }
};

/* A browser: webrtcbin with a recvonly video transceiver (VP8 and H.264
 * constrained baseline in modes 1 and 0, as Chromium offers) and a
 * recvonly Opus one; what it receives is depayloaded, decoded and
 * counted. */
struct Viewer {
  GstElement *pipeline = GST_ELEMENT (gst_object_ref_sink (gst_pipeline_new ("viewer")));
  GstElement *webrtc = nullptr;
  std::atomic<int> frames { 0 };          /* decoded video frames */
  std::atomic<int> audio { 0 };           /* depayloaded Opus packets */
  std::mutex lock;
  std::string video_caps;                 /* the received RTP caps */

  explicit Viewer (bool with_audio = true)
  {
    webrtc = gst_element_factory_make ("webrtcbin", "offerer");
    g_object_set (webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, nullptr);
    gst_bin_add (GST_BIN (pipeline), webrtc);
    g_signal_connect (webrtc, "pad-added", G_CALLBACK (on_pad_added), this);
    fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING)
        != GST_STATE_CHANGE_FAILURE);
    GstCaps *video = gst_caps_from_string (
        "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96;"
        "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=102,"
        "packetization-mode=(string)1,profile-level-id=(string)42e01f,"
        "level-asymmetry-allowed=(string)1,rtcp-fb-nack=(boolean)true,"
        "rtcp-fb-nack-pli=(boolean)true;"
        "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=104,"
        "packetization-mode=(string)0,profile-level-id=(string)42e01f");
    add_recvonly (video);
    if (with_audio)
      add_recvonly (gst_caps_from_string ("application/x-rtp,media=audio,"
              "encoding-name=OPUS,clock-rate=48000,payload=111,encoding-params=(string)2"));
  }
  ~Viewer ()
  {
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (pipeline);
  }

  void add_recvonly (GstCaps * caps)
  {
    GstWebRTCRTPTransceiver *t = nullptr;
    g_signal_emit_by_name (webrtc, "add-transceiver",
        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &t);
    fail_unless (t != nullptr);
    gst_object_unref (t);
    gst_caps_unref (caps);
  }

  static GstPadProbeReturn count (GstPad *, GstPadProbeInfo *, gpointer counter)
  {
    (*static_cast<std::atomic<int> *> (counter))++;
    return GST_PAD_PROBE_OK;
  }

  static void on_pad_added (GstElement *, GstPad * pad, Viewer * self)
  {
    if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
      return;
    GstCaps *caps = gst_pad_get_current_caps (pad);
    const char *media = gst_structure_get_string (gst_caps_get_structure (caps, 0), "media");
    bool video = g_strcmp0 (media, "video") == 0;
    if (video) {
      std::lock_guard<std::mutex> lk (self->lock);
      gchar *text = gst_caps_to_string (caps);
      self->video_caps = text;
      g_free (text);
    }
    gst_caps_unref (caps);
    GstElement *bin = gst_parse_bin_from_description (video
        ? "rtph264depay ! h264parse ! avdec_h264 ! fakesink name=out sync=false async=false"
        : "rtpopusdepay ! fakesink name=out sync=false async=false", TRUE, nullptr);
    fail_unless (bin != nullptr);
    gst_bin_add (GST_BIN (self->pipeline), bin);
    gst_element_sync_state_with_parent (bin);
    GstPad *sink = gst_element_get_static_pad (bin, "sink");
    gst_pad_link (pad, sink);
    gst_object_unref (sink);
    GstElement *out = gst_bin_get_by_name (GST_BIN (bin), "out");
    GstPad *outpad = gst_element_get_static_pad (out, "sink");
    gst_pad_add_probe (outpad, GST_PAD_PROBE_TYPE_BUFFER, count,
        video ? &self->frames : &self->audio, nullptr);
    gst_object_unref (outpad);
    gst_object_unref (out);
  }

  std::string offer () { return gathered_offer (webrtc); }
  void answer (const std::string & sdp) { apply_answer (webrtc, sdp); }
};

/* what negotiate's done and the listener were called with */
struct Calls {
  std::mutex lock;
  int done = 0;
  unsigned status = 0;
  std::string text;
  std::atomic<int> ended { 0 };
  std::atomic<int> connected { 0 };
  std::string reason;

  std::function<void (unsigned, std::string)> callback ()
  {
    return [this] (unsigned s, std::string t) {
      std::lock_guard<std::mutex> lk (lock);
      done++;
      status = s;
      text = std::move (t);
    };
  }
  WhepViewer::Listener listener ()
  {
    WhepViewer::Listener l;
    l.ended = [this] (const std::string & r) {
      std::lock_guard<std::mutex> lk (lock);
      reason = r;
      ended++;
    };
    l.connected = [this] { connected++; };
    return l;
  }
  bool answered ()
  {
    std::lock_guard<std::mutex> lk (lock);
    return done > 0;
  }
};

/* the m-line of `kind` in an SDP, up to the next m-line */
static std::string
mline (const std::string & sdp, const std::string & kind)
{
  size_t at = sdp.find ("m=" + kind);
  if (at == std::string::npos)
    return "";
  size_t end = sdp.find ("\nm=", at);
  return sdp.substr (at, end == std::string::npos ? std::string::npos : end - at);
}

static WhepOfferInfo
inspected (const std::string & offer, const WhepMedia & media)
{
  WhepOfferInfo info;
  unsigned status = 0;
  std::string error;
  fail_unless (inspect_whep_offer (offer, media, info, status, error), "%u %s", status,
      error.c_str ());
  return info;
}

static WhepMedia
h264_opus ()
{
  WhepMedia m;
  m.video = "h264";
  m.audio = "opus";
  m.h264_profile_level_id = "64000d";
  return m;
}

/* the whole way: the answer, media decoded by the viewer, trickle, the
 * viewer killed and told by its silence */
GST_START_TEST (test_viewer_plays_and_is_reaped_when_silent)
{
  Stream stream;
  Viewer viewer;
  std::string offer = viewer.offer ();
  WhepOfferInfo info = inspected (offer, h264_opus ());
  fail_unless_equals_int (info.tracks.size (), 2);
  fail_unless_equals_int (info.tracks[0].pt, kVideoPt);

  Calls calls;
  auto v = std::make_unique<WhepViewer> (GST_PIPELINE (stream.pipeline),
      std::vector<std::string> (), calls.listener ());
  assert_str_eq (v->error (), "");
  fail_unless (v->session ().size () >= 16, "%s", v->session ().c_str ());

  /* before the offer: nothing taken */
  std::string error;
  fail_if (v->add_remote_candidates ("a=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n", error));
  assert_has (error, "no offer");

  GstPad *video = stream.branch ("vq"), *audio = stream.branch ("aq");
  v->negotiate (offer, info, { video, audio }, 5000, calls.callback ());
  fail_unless (wait_for ([&calls] { return calls.answered (); }, 10000), "no answer");
  fail_unless_equals_int (calls.status, 201);
  std::string answer = calls.text;
  std::string vm = mline (answer, "video"), am = mline (answer, "audio");
  assert_has (vm, "m=video 9 UDP/TLS/RTP/SAVPF 102\r\n");
  assert_has (vm, "a=sendonly");
  assert_has (vm, "a=rtpmap:102 H264/90000");
  /* the offer's profile, not the stream's High */
  assert_has (vm, "profile-level-id=42e01f");
  assert_lacks (vm, "64000d");
  assert_has (vm, "a=rtcp-fb:102 nack");
  /* each fmtp parameter once */
  size_t asym = vm.find ("level-asymmetry-allowed=1");
  fail_unless (asym != std::string::npos && vm.find ("level-asymmetry-allowed", asym + 1)
      == std::string::npos, "%s", vm.c_str ());
  assert_has (am, "a=sendonly");
  assert_has (am, "a=rtpmap:111 OPUS/48000/2");
  assert_has (answer, "a=candidate:");
  /* a second offer on the session */
  Calls again;
  v->negotiate (offer, info, { video, audio }, 5000, again.callback ());
  fail_unless (again.answered ());
  fail_unless_equals_int (again.status, 409);

  viewer.answer (answer);
  fail_unless (wait_for ([&viewer] { return viewer.frames > 30 && viewer.audio > 20; }, 20000),
      "frames %d, audio %d", viewer.frames.load (), viewer.audio.load ());
  fail_unless (wait_for ([&calls] { return calls.connected > 0; }, 5000));
  fail_unless_equals_int (calls.connected, 1);
  {
    std::lock_guard<std::mutex> lk (viewer.lock);
    assert_has (viewer.video_caps, "payload=(int)102");
  }

  /* trickle: a candidate taken; a malformed fragment and an ICE restart
   * refused */
  fail_unless (v->add_remote_candidates ("a=mid:video0\r\n"
          "a=candidate:9 1 UDP 2015363327 127.0.0.1 9 typ host\r\n", error), "%s",
      error.c_str ());
  error.clear ();
  fail_if (v->add_remote_candidates ("a=candidate:nonsense\r\n", error));
  fail_if (error.empty ());
  bool restart = false;
  fail_if (v->add_remote_candidates ("a=ice-ufrag:other\r\n"
          "a=candidate:9 1 UDP 2015363327 127.0.0.1 9 typ host\r\n", error, &restart));
  fail_unless (restart);
  fail_unless_equals_int (calls.ended, 0);

  /* still playing past kSilentViewerS: a live viewer is never taken for
   * a silent one (its RTCP reaches us) */
  int before = viewer.frames;
  wait_for ([] { return false; }, (kSilentViewerS + 2) * 1000);
  fail_unless (viewer.frames > before + 30 * (int) kSilentViewerS, "%d frames",
      viewer.frames - before);
  fail_unless_equals_int (calls.ended, 0);

  /* the browser killed: no goodbye, webrtcbin still says connected */
  gst_element_set_state (viewer.pipeline, GST_STATE_NULL);
  gint64 killed = g_get_monotonic_time ();
  fail_unless (wait_for ([&calls] { return calls.ended > 0; }, (kSilentViewerS + 5) * 1000),
      "the viewer was not reaped");
  gint64 took_ms = (g_get_monotonic_time () - killed) / 1000;
  GST_INFO ("silent viewer reaped after %" G_GINT64_FORMAT " ms", took_ms);
  fail_unless_equals_int (calls.ended, 1);
  assert_has (calls.reason, "no packet");

  /* nothing the viewer did failed the stream */
  std::vector<std::string> errors = stream.errors ();
  fail_unless (errors.empty (), "%s", errors.empty () ? "" : errors[0].c_str ());

  v->close ();
  v->close ();
  v.reset ();
  gst_object_unref (video);
  gst_object_unref (audio);
  /* the branches are free for the next viewer */
  video = stream.branch ("vq");
  fail_if (gst_pad_is_linked (video));
  gst_object_unref (video);
  /* no callback after destruction */
  wait_for ([] { return false; }, 1500);
  fail_unless_equals_int (calls.ended, 1);
  fail_unless_equals_int (calls.connected, 1);
}
GST_END_TEST;

/* an audio m-line with nothing to send (a video-only stream) is answered
 * inactive; the video plays */
GST_START_TEST (test_mline_without_track_is_inactive)
{
  Stream stream;
  Viewer viewer;
  std::string offer = viewer.offer ();
  WhepMedia media = h264_opus ();
  media.audio = "";
  WhepOfferInfo info = inspected (offer, media);
  fail_unless_equals_int (info.tracks.size (), 1);

  Calls calls;
  WhepViewer v (GST_PIPELINE (stream.pipeline), {}, calls.listener ());
  GstPad *video = stream.branch ("vq");
  v.negotiate (offer, info, { video }, 5000, calls.callback ());
  fail_unless (wait_for ([&calls] { return calls.answered (); }, 10000), "no answer");
  fail_unless_equals_int (calls.status, 201);
  assert_has (mline (calls.text, "video"), "a=sendonly");
  std::string am = mline (calls.text, "audio");
  fail_unless (am.find ("a=inactive") != std::string::npos
      || am.compare (0, 10, "m=audio 0 ") == 0, "%s", am.c_str ());
  viewer.answer (calls.text);
  fail_unless (wait_for ([&viewer] { return viewer.frames > 10; }, 20000), "frames %d",
      viewer.frames.load ());
  fail_unless_equals_int (viewer.audio, 0);
  v.close ();
  gst_object_unref (video);
}
GST_END_TEST;

/* a viewer of audio alone gets twice kSilentViewerS: a browser sends its
 * audio receiver reports only every 5 s or so */
GST_START_TEST (test_audio_only_viewer_gets_a_longer_silence)
{
  Stream stream;
  Viewer viewer;
  std::string offer = viewer.offer ();
  WhepMedia media = h264_opus ();
  media.video = "";
  WhepOfferInfo info = inspected (offer, media);
  fail_unless_equals_int (info.tracks.size (), 1);
  assert_str_eq (info.tracks[0].kind, "audio");

  Calls calls;
  WhepViewer v (GST_PIPELINE (stream.pipeline), {}, calls.listener ());
  GstPad *audio = stream.branch ("aq");
  v.negotiate (offer, info, { audio }, 5000, calls.callback ());
  fail_unless (wait_for ([&calls] { return calls.answered (); }, 10000), "no answer");
  fail_unless_equals_int (calls.status, 201);
  viewer.answer (calls.text);
  fail_unless (wait_for ([&] { return viewer.audio > 20 && calls.connected > 0; }, 20000),
      "audio %d", viewer.audio.load ());

  gst_element_set_state (viewer.pipeline, GST_STATE_NULL);
  gint64 killed = g_get_monotonic_time ();
  wait_for ([] { return false; }, (kSilentViewerS + 2) * 1000);
  fail_unless_equals_int (calls.ended, 0);
  fail_unless (wait_for ([&calls] { return calls.ended > 0; }, (kSilentViewerS + 3) * 1000),
      "the viewer was not reaped");
  GST_INFO ("silent audio viewer reaped after %" G_GINT64_FORMAT " ms",
      (g_get_monotonic_time () - killed) / 1000);
  assert_has (calls.reason, "no packet");
  v.close ();
  gst_object_unref (audio);
}
GST_END_TEST;

/* the viewer's webrtcbin searches for no UPnP router */
GST_START_TEST (test_upnp_is_off)
{
  Stream stream;
  Calls calls;
  WhepViewer v (GST_PIPELINE (stream.pipeline), {}, calls.listener ());
  g_autoptr (GstElement) webrtc = find_webrtcbin (stream.pipeline);
  fail_unless (webrtc != nullptr);
  fail_unless (upnp_is_off (webrtc));
  v.close ();
}
GST_END_TEST;

/* The answer names the SSRC the branch sends with (WhepTrack::ssrc), even
 * when nothing reached webrtcbin before it answered: webrtcbin alone
 * answered "ssrc-group:FID 0 <rtx>" then, and Chromium showed nothing. */
GST_START_TEST (test_answer_names_the_branch_ssrc)
{
  Stream stream;
  Viewer viewer;
  std::string offer = viewer.offer ();
  WhepOfferInfo info = inspected (offer, h264_opus ());
  info.tracks[0].ssrc = kVideoSsrc;
  Calls calls;
  WhepViewer v (GST_PIPELINE (stream.pipeline), {}, calls.listener ());
  /* nothing leaves the video branch until the answer is made */
  GstPad *video = stream.branch ("vq"), *audio = stream.branch ("aq");
  gulong block = gst_pad_add_probe (video, GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM,
      [] (GstPad *, GstPadProbeInfo *, gpointer) { return GST_PAD_PROBE_OK; }, nullptr, nullptr);
  v.negotiate (offer, info, { video, audio }, 5000, calls.callback ());
  fail_unless (wait_for ([&calls] { return calls.answered (); }, 10000), "no answer");
  fail_unless_equals_int (calls.status, 201);
  std::string vm = mline (calls.text, "video");
  std::string ssrc = std::to_string (kVideoSsrc);
  assert_has (vm, "a=ssrc:" + ssrc + " msid:");
  gst_pad_remove_probe (video, block);
  v.close ();
}
GST_END_TEST;

/* the room tells the viewer's bus messages apart; a bad call is refused */
GST_START_TEST (test_owns_and_refusals)
{
  Stream stream;
  guint children = GST_BIN_NUMCHILDREN (GST_BIN (stream.pipeline));
  Calls calls;
  auto v = std::make_unique<WhepViewer> (GST_PIPELINE (stream.pipeline),
      std::vector<std::string> (), calls.listener ());
  GstElement *webrtc = nullptr;
  GstIterator *it = gst_bin_iterate_elements (GST_BIN (stream.pipeline));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *e = GST_ELEMENT (g_value_get_object (&item));
    if (g_strcmp0 (GST_OBJECT_NAME (gst_element_get_factory (e)), "webrtcbin") == 0)
      webrtc = GST_ELEMENT (gst_object_ref (e));
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  fail_unless (webrtc != nullptr);
  fail_unless (v->owns (GST_OBJECT (webrtc)));
  /* its children too */
  GstIterator *inner = gst_bin_iterate_recurse (GST_BIN (webrtc));
  bool child = false;
  while (gst_iterator_next (inner, &item) == GST_ITERATOR_OK) {
    child = child || v->owns (GST_OBJECT (g_value_get_object (&item)));
    g_value_reset (&item);
  }
  gst_iterator_free (inner);
  g_value_unset (&item);
  fail_unless (child);
  fail_if (v->owns (GST_OBJECT (stream.pipeline)));
  GstElement *vq = gst_bin_get_by_name (GST_BIN (stream.pipeline), "vq");
  fail_if (v->owns (GST_OBJECT (vq)));
  fail_if (v->owns (nullptr));
  gst_object_unref (vq);

  /* one source per track */
  Viewer viewer;
  std::string offer = viewer.offer ();
  WhepOfferInfo info = inspected (offer, h264_opus ());
  GstPad *video = stream.branch ("vq");
  v->negotiate (offer, info, { video }, 5000, calls.callback ());
  fail_unless (calls.answered ());
  fail_unless_equals_int (calls.status, 500);

  /* destroyed while negotiating: answered 503, once */
  Calls pending;
  auto w = std::make_unique<WhepViewer> (GST_PIPELINE (stream.pipeline),
      std::vector<std::string> (), pending.listener ());
  GstPad *audio = stream.branch ("aq");
  w->negotiate (offer, info, { video, audio }, 5000, pending.callback ());
  w.reset ();
  fail_unless (pending.answered ());
  fail_unless (pending.status == 503 || pending.status == 201, "%u", pending.status);
  fail_unless_equals_int (pending.done, 1);
  fail_if (gst_pad_is_linked (video));
  fail_if (gst_pad_is_linked (audio));

  v.reset ();
  /* the viewers' webrtcbins are gone from the stream */
  fail_unless_equals_int (GST_BIN_NUMCHILDREN (GST_BIN (stream.pipeline)), children);
  gst_object_unref (webrtc);
  gst_object_unref (video);
  gst_object_unref (audio);
  wait_for ([] { return false; }, 500);
  fail_unless_equals_int (pending.done, 1);
}
GST_END_TEST;

static Suite *
whepviewer_suite (void)
{
  Suite *s = suite_create ("whepviewer");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 90);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_viewer_plays_and_is_reaped_when_silent);
  tcase_add_test (tc, test_mline_without_track_is_inactive);
  tcase_add_test (tc, test_audio_only_viewer_gets_a_longer_silence);
  tcase_add_test (tc, test_owns_and_refusals);
  tcase_add_test (tc, test_upnp_is_off);
  tcase_add_test (tc, test_answer_names_the_branch_ssrc);
  return s;
}

GST_CHECK_MAIN (whepviewer);
