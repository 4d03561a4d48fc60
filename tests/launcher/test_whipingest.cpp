/* castline-launcher's WHIP ingest against a real publisher: a second
 * webrtcbin in this process, over loopback ICE. */
#include "ingest/whip/whipingest.h"

#include "webrtctest.h"

#include <gst/check/gstcheck.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <cstring>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace castline::launcher;

enum class Video { vp8, h264 };

/* A publisher: webrtcbin sending test video and Opus (and PCMA, which we
 * cannot take, when asked), sendonly like a WHIP client. */
static GstElement *
make_sender (Video video, bool with_pcma = false)
{
  std::string d = "webrtcbin name=send bundle-policy=max-bundle "
      "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! ";
  if (video == Video::vp8)
    d += "vp8enc deadline=1 ! rtpvp8pay ! "
        "application/x-rtp,media=video,encoding-name=VP8,payload=96 ! send. ";
  else
    d += "x264enc tune=zerolatency key-int-max=30 ! "
        "rtph264pay config-interval=-1 aggregate-mode=zero-latency ! "
        "application/x-rtp,media=video,encoding-name=H264,payload=96 ! send. ";
  d += "audiotestsrc is-live=true ! opusenc ! rtpopuspay ! "
      "application/x-rtp,media=audio,encoding-name=OPUS,payload=97 ! send. ";
  if (with_pcma)
    d += "audiotestsrc is-live=true ! alawenc ! rtppcmapay ! "
        "application/x-rtp,media=audio,encoding-name=PCMA,payload=8,clock-rate=8000 ! send. ";
  GError *error = nullptr;
  GstElement *pipeline = gst_parse_launch (d.c_str (), &error);
  fail_unless (pipeline, "%s", error ? error->message : "?");
  GstElement *send = gst_bin_get_by_name (GST_BIN (pipeline), "send");
  GArray *transceivers = nullptr;
  g_signal_emit_by_name (send, "get-transceivers", &transceivers);
  fail_unless (transceivers && transceivers->len == (with_pcma ? 3u : 2u));
  for (guint i = 0; i < transceivers->len; i++)
    g_object_set (g_array_index (transceivers, GstWebRTCRTPTransceiver *, i), "direction",
        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, nullptr);
  g_array_unref (transceivers);
  gst_object_unref (send);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  return pipeline;
}

static GstElement *
sender_webrtc (GstElement * pipeline)
{
  return gst_bin_get_by_name (GST_BIN (pipeline), "send");
}

/* the sender's offer, set locally, with all its candidates (no trickle) */
static std::string
take_offer (GstElement * pipeline)
{
  GstElement *send = sender_webrtc (pipeline);
  std::string offer = gathered_offer (send);
  gst_object_unref (send);
  return offer;
}

static void
set_answer (GstElement * pipeline, const std::string & answer)
{
  GstElement *send = sender_webrtc (pipeline);
  apply_answer (send, answer);
  gst_object_unref (send);
}

static void
stop_pipeline (GstElement * pipeline)
{
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

/* the offer of a sender made for it alone, and stopped */
static std::string
offer_of_a_sender (Video video, bool with_pcma = false)
{
  GstElement *sender = make_sender (video, with_pcma);
  std::string offer = take_offer (sender);
  stop_pipeline (sender);
  return offer;
}

/* what negotiate's done was called with */
struct Outcome {
  std::mutex lock;
  int calls = 0;
  unsigned status = 0;
  std::string text;

  std::function<void (unsigned, std::string)> callback ()
  {
    return [this] (unsigned s, std::string t) {
      std::lock_guard<std::mutex> lk (lock);
      calls++;
      status = s;
      text = std::move (t);
    };
  }
  bool called ()
  {
    std::lock_guard<std::mutex> lk (lock);
    return calls > 0;
  }
};

/* what the listener saw; the tracks end in fakesinks counting buffers */
struct Receiver {
  GstElement *pipeline = GST_ELEMENT (gst_object_ref_sink (gst_pipeline_new ("receiver")));
  std::mutex lock;
  std::vector<std::string> tracks;       /* "video/vp8" */
  std::atomic<int> video_buffers { 0 };
  std::atomic<int> audio_buffers { 0 };
  std::atomic<int> ended { 0 };
  GstCaps *video_caps = nullptr;         /* the last video buffer's */

  ~Receiver () { gst_clear_caps (&video_caps); }

  WhipIngest::Listener listener ()
  {
    WhipIngest::Listener l;
    l.media_pad = [this] (const std::string & kind, const std::string & codec, GstPad * pad) {
      {
        std::lock_guard<std::mutex> lk (lock);
        tracks.push_back (kind + "/" + codec);
      }
      GstElement *sink = gst_element_factory_make ("fakesink", nullptr);
      g_object_set (sink, "sync", FALSE, "async", FALSE, nullptr);
      gst_bin_add (GST_BIN (pipeline), sink);
      gst_element_sync_state_with_parent (sink);
      GstPad *sinkpad = gst_element_get_static_pad (sink, "sink");
      if (kind == "video")
        gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER,
            [] (GstPad * pad, GstPadProbeInfo *, gpointer self) {
              auto *r = static_cast<Receiver *> (self);
              std::lock_guard<std::mutex> lk (r->lock);
              gst_clear_caps (&r->video_caps);
              r->video_caps = gst_pad_get_current_caps (pad);
              r->video_buffers++;
              return GST_PAD_PROBE_OK;
            }, this, nullptr);
      else
        gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER,
            [] (GstPad *, GstPadProbeInfo *, gpointer self) {
              static_cast<Receiver *> (self)->audio_buffers++;
              return GST_PAD_PROBE_OK;
            }, this, nullptr);
      gst_pad_link (pad, sinkpad);
      gst_object_unref (sinkpad);
    };
    l.ended = [this] (const std::string &) { ended++; };
    return l;
  }
  bool has_track (const std::string & t)
  {
    std::lock_guard<std::mutex> lk (lock);
    return std::find (tracks.begin (), tracks.end (), t) != tracks.end ();
  }
};

GST_START_TEST (test_offer_inspection)
{
  GstElement *sender = make_sender (Video::vp8);
  std::string offer = take_offer (sender);
  OfferInfo info;
  std::string error;
  fail_unless (inspect_whip_offer (offer, info, error), "%s", error.c_str ());
  fail_unless (info.has_video && info.has_audio);
  fail_unless (info.video_codecs == std::vector<std::string> { "vp8" });
  fail_unless (info.audio_codecs == std::vector<std::string> { "opus" });

  const char *garbage[] = { "", "hello world", "v=0\r\n", "\x01\x02\x03" };
  for (const char *g : garbage) {
    error.clear ();
    fail_if (inspect_whip_offer (g, info, error), "accepted '%s'", g);
    fail_if (error.empty ());
  }

  error.clear ();
  fail_if (inspect_whip_offer (replace_lines (offer, "a=fingerprint:"), info, error));
  fail_unless (error.find ("fingerprint") != std::string::npos, "%s", error.c_str ());
  error.clear ();
  fail_if (inspect_whip_offer (replace_lines (offer, "a=ice-pwd:"), info, error));
  fail_unless (error.find ("ice-pwd") != std::string::npos, "%s", error.c_str ());

  std::string recvonly = offer;
  for (size_t at; (at = recvonly.find ("a=sendonly")) != std::string::npos;)
    recvonly.replace (at, 10, "a=recvonly");
  error.clear ();
  fail_if (inspect_whip_offer (recvonly, info, error));
  fail_unless (error.find ("sends nothing") != std::string::npos, "%s", error.c_str ());

  const char *datachannel_only =
      "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
      "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
      "a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
      "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n"
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
      "a=mid:0\r\na=sctp-port:5000\r\na=setup:actpass\r\n";
  error.clear ();
  fail_if (inspect_whip_offer (datachannel_only, info, error));
  fail_unless (error.find ("no audio or video") != std::string::npos, "%s", error.c_str ());

  std::string av1_only = std::string (datachannel_only).substr (0,
      std::string (datachannel_only).find ("m=application"))
      + "m=video 9 UDP/TLS/RTP/SAVPF 45\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\n"
      "a=setup:actpass\r\na=rtpmap:45 AV1/90000\r\n";
  error.clear ();
  fail_if (inspect_whip_offer (av1_only, info, error));
  fail_unless (error.find ("can receive") != std::string::npos, "%s", error.c_str ());
  stop_pipeline (sender);
}
GST_END_TEST;

/* publisher -> WhipIngest -> fakesinks; playing_first: the receiving
 * pipeline is PLAYING before negotiate (as the launcher does), otherwise
 * right after it */
static void
check_loopback (Video video, bool playing_first)
{
  GstElement *sender = make_sender (video);
  std::string offer = take_offer (sender);
  OfferInfo info;
  std::string error;
  fail_unless (inspect_whip_offer (offer, info, error), "%s", error.c_str ());
  std::string codec = video == Video::vp8 ? "vp8" : "h264";
  fail_unless (info.video_codecs == std::vector<std::string> { codec });

  Receiver r;
  auto ingest = std::make_unique<WhipIngest> (GST_PIPELINE (r.pipeline),
      std::vector<std::string> (), r.listener ());
  if (playing_first)
    fail_unless (gst_element_set_state (r.pipeline, GST_STATE_PLAYING)
        != GST_STATE_CHANGE_FAILURE);
  Outcome o;
  ingest->negotiate (offer, 5000, o.callback ());
  if (!playing_first)
    fail_unless (gst_element_set_state (r.pipeline, GST_STATE_PLAYING)
        != GST_STATE_CHANGE_FAILURE);
  fail_unless (wait_for ([&o] { return o.called (); }, 10000), "no answer");
  fail_unless_equals_int (o.status, 201);
  fail_unless (o.text.find ("a=recvonly") != std::string::npos, "%s", o.text.c_str ());
  fail_unless (o.text.find ("a=sendrecv") == std::string::npos, "%s", o.text.c_str ());
  fail_unless (o.text.find ("a=candidate:") != std::string::npos, "%s", o.text.c_str ());
  set_answer (sender, o.text);

  /* trickle: the sender's candidates once more, as a WHIP client PATCHes */
  GstSDPMessage *sdp = nullptr;
  gst_sdp_message_new_from_text (offer.c_str (), &sdp);
  const GstSDPMedia *m0 = gst_sdp_message_get_media (sdp, 0);
  std::string frag = std::string ("a=ice-ufrag:") + gst_sdp_media_get_attribute_val (m0,
      "ice-ufrag") + "\r\na=ice-pwd:" + gst_sdp_media_get_attribute_val (m0, "ice-pwd")
      + "\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:" + gst_sdp_media_get_attribute_val (m0, "mid")
      + "\r\n";
  for (guint i = 0; i < gst_sdp_media_attributes_len (m0); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (m0, i);
    if (g_str_equal (a->key, "candidate"))
      frag += std::string ("a=candidate:") + a->value + "\r\n";
  }
  frag += "a=end-of-candidates\r\n";
  gst_sdp_message_free (sdp);
  fail_unless (ingest->add_remote_candidates (frag, error), "%s: %s", error.c_str (),
      frag.c_str ());

  fail_unless (wait_for ([&r] { return r.video_buffers > 10 && r.audio_buffers > 10; }, 15000),
      "%d video and %d audio buffers", r.video_buffers.load (), r.audio_buffers.load ());
  fail_unless (r.has_track ("video/" + codec));
  fail_unless (r.has_track ("audio/opus"));
  if (video == Video::h264) {
    std::lock_guard<std::mutex> lk (r.lock);
    GstCaps *want = gst_caps_from_string ("video/x-h264, stream-format=byte-stream, alignment=au");
    fail_unless (r.video_caps && gst_caps_is_subset (r.video_caps, want), "%" GST_PTR_FORMAT,
        r.video_caps);
    gst_caps_unref (want);
  }
  fail_unless_equals_int (r.ended, 0);
  fail_unless_equals_int (o.calls, 1);

  /* the ingest goes first, with everything still running */
  ingest.reset ();
  stop_pipeline (sender);
  stop_pipeline (r.pipeline);
  fail_unless_equals_int (o.calls, 1);
}

GST_START_TEST (test_loopback_vp8_opus)
{
  check_loopback (Video::vp8, false);
}
GST_END_TEST;

GST_START_TEST (test_loopback_h264_opus)
{
  check_loopback (Video::h264, true);
}
GST_END_TEST;

/* the answer's m-lines: whether each receives */
static std::vector<bool>
receiving_mlines (const std::string & answer)
{
  GstSDPMessage *sdp = nullptr;
  fail_unless (gst_sdp_message_new_from_text (answer.c_str (), &sdp) == GST_SDP_OK);
  std::vector<bool> ret;
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);
    ret.push_back (gst_sdp_media_get_port (m) != 0
        && gst_sdp_media_get_attribute_val (m, "recvonly"));
  }
  gst_sdp_message_free (sdp);
  return ret;
}

GST_START_TEST (test_codec_we_cannot_take_is_answered_inactive)
{
  std::string offer = offer_of_a_sender (Video::vp8, true);
  Receiver r;
  WhipIngest ingest (GST_PIPELINE (r.pipeline), { "stun:127.0.0.1:3478" }, r.listener ());
  fail_unless (gst_element_set_state (r.pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  Outcome o;
  ingest.negotiate (offer, 5000, o.callback ());
  fail_unless (wait_for ([&o] { return o.called (); }, 10000), "no answer");
  fail_unless_equals_int (o.status, 201);
  fail_unless (receiving_mlines (o.text) == std::vector<bool> ({ true, true, false }), "%s",
      o.text.c_str ());
  stop_pipeline (r.pipeline);
}
GST_END_TEST;

GST_START_TEST (test_only_restricted_codecs_are_answered)
{
  std::string offer = offer_of_a_sender (Video::vp8);
  Receiver r;
  WhipIngest ingest (GST_PIPELINE (r.pipeline), {}, r.listener ());
  ingest.restrict_codecs ({ "h264" }, {});
  fail_unless (gst_element_set_state (r.pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  Outcome o;
  ingest.negotiate (offer, 5000, o.callback ());
  fail_unless (wait_for ([&o] { return o.called (); }, 10000), "no answer");
  fail_unless_equals_int (o.status, 201);
  /* VP8 video answered inactive, Opus taken */
  fail_unless (receiving_mlines (o.text) == std::vector<bool> ({ false, true }), "%s",
      o.text.c_str ());
  stop_pipeline (r.pipeline);
}
GST_END_TEST;

GST_START_TEST (test_slow_gathering_answers_at_the_timeout)
{
  std::string offer = offer_of_a_sender (Video::vp8);
  /* nothing answers there: gathering takes libnice's STUN/TURN time-outs */
  Receiver r;
  WhipIngest ingest (GST_PIPELINE (r.pipeline),
      { "stun:127.0.0.1:9", "turn:user:secret@127.0.0.1:9", "bogus:x" }, r.listener ());
  gst_element_set_state (r.pipeline, GST_STATE_PLAYING);
  Outcome o;
  ingest.negotiate (offer, 500, o.callback ());
  fail_unless (wait_for ([&o] { return o.called (); }, 10000), "no answer");
  GstElement *webrtc = find_webrtcbin (r.pipeline);
  fail_unless (webrtc != nullptr);
  GstWebRTCICEGatheringState gathering;
  g_object_get (webrtc, "ice-gathering-state", &gathering, nullptr);
  fail_unless (gathering != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE,
      "gathering was quick: the test proves nothing");
  gst_object_unref (webrtc);
  fail_unless_equals_int (o.status, 201);
  fail_unless (o.text.find ("a=candidate:") != std::string::npos, "%s", o.text.c_str ());
  ingest.close ();
  stop_pipeline (r.pipeline);
}
GST_END_TEST;

/* the ingest's webrtcbin searches for no UPnP router */
GST_START_TEST (test_upnp_is_off)
{
  Receiver r;
  WhipIngest ingest (GST_PIPELINE (r.pipeline), {}, r.listener ());
  g_autoptr (GstElement) webrtc = find_webrtcbin (r.pipeline);
  fail_unless (webrtc != nullptr);
  fail_unless (upnp_is_off (webrtc));
  ingest.close ();
}
GST_END_TEST;

GST_START_TEST (test_unusable_offer_is_refused)
{
  std::string offer = offer_of_a_sender (Video::vp8);

  /* not SDP: refused at once */
  {
    Receiver r;
    WhipIngest ingest (GST_PIPELINE (r.pipeline), {}, r.listener ());
    Outcome o;
    ingest.negotiate ("nonsense", 5000, o.callback ());
    fail_unless (o.called ());
    fail_unless_equals_int (o.status, 400);
    gst_object_unref (r.pipeline);
  }
  /* passes our inspection, but webrtcbin wants a=setup */
  std::string no_setup = replace_lines (offer, "a=setup:");
  OfferInfo info;
  std::string error;
  fail_unless (inspect_whip_offer (no_setup, info, error), "%s", error.c_str ());
  for (bool playing : { false, true }) {
    Receiver r;
    WhipIngest ingest (GST_PIPELINE (r.pipeline), {}, r.listener ());
    if (playing)
      gst_element_set_state (r.pipeline, GST_STATE_PLAYING);
    Outcome o;
    ingest.negotiate (no_setup, 5000, o.callback ());
    fail_unless (wait_for ([&o] { return o.called (); }, 10000), "no answer");
    fail_unless (o.status >= 400 && o.status < 600, "status %u", o.status);
    fail_unless (o.text.find ("setup") != std::string::npos, "%s", o.text.c_str ());
    /* a second offer on the same session */
    Outcome again;
    ingest.negotiate (offer, 5000, again.callback ());
    fail_unless (again.called () && again.status == 409);
    ingest.close ();
    ingest.close ();
    stop_pipeline (r.pipeline);
    fail_unless_equals_int (o.calls, 1);
  }
}
GST_END_TEST;

GST_START_TEST (test_destroyed_during_negotiation_answers_once)
{
  std::string offer = offer_of_a_sender (Video::vp8);
  Receiver r;
  auto ingest = std::make_unique<WhipIngest> (GST_PIPELINE (r.pipeline),
      std::vector<std::string> (), r.listener ());
  Outcome o;
  ingest->negotiate (offer, 5000, o.callback ());
  ingest.reset ();
  fail_unless_equals_int (o.calls, 1);
  fail_unless (o.status >= 500, "status %u", o.status);
  /* nothing comes later, from webrtcbin's threads or the main context */
  wait_for ([] { return false; }, 300);
  fail_unless_equals_int (o.calls, 1);
  stop_pipeline (r.pipeline);
}
GST_END_TEST;

GST_START_TEST (test_bad_candidates_are_refused)
{
  std::string offer = offer_of_a_sender (Video::vp8);
  Receiver r;
  WhipIngest ingest (GST_PIPELINE (r.pipeline), {}, r.listener ());
  std::string error;
  size_t at = offer.find ("a=mid:");
  fail_unless (at != std::string::npos);
  std::string mid = offer.substr (at + 6, offer.find_first_of ("\r\n", at) - at - 6);
  std::string good = "a=mid:" + mid
      + "\r\na=candidate:1 1 UDP 2122252543 192.0.2.1 54321 typ host\r\na=end-of-candidates\r\n";
  fail_if (ingest.add_remote_candidates (good, error), "taken before negotiate");

  gst_element_set_state (r.pipeline, GST_STATE_PLAYING);
  Outcome o;
  ingest.negotiate (offer, 5000, o.callback ());
  fail_unless (wait_for ([&o] { return o.called (); }, 10000), "no answer");
  fail_unless_equals_int (o.status, 201);

  fail_unless (ingest.add_remote_candidates (good, error), "%s", error.c_str ());
  fail_unless (ingest.add_remote_candidates ("a=end-of-candidates\r\n", error), "%s",
      error.c_str ());
  fail_unless (ingest.add_remote_candidates (
          "a=candidate:2 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active\n", error), "%s",
      error.c_str ());
  const char *bad[] = {
    "", "garbage", "\x01\x02 = 3", "a=candidate:garbage\r\n",
    "a=candidate:1 1 UDP 2122252543 192.0.2.1 99999 typ host\r\n",
    "a=candidate:1 1 SCTP 2122252543 192.0.2.1 5000 typ host\r\n",
    "a=candidate:1 1 UDP 2122252543 192.0.2.1 5000 type host\r\n",
    "a=mid:nope\r\na=candidate:1 1 UDP 2122252543 192.0.2.1 54321 typ host\r\n",
    "a=ice-ufrag:restart\r\na=candidate:1 1 UDP 2122252543 192.0.2.1 54321 typ host\r\n",
  };
  for (const char *b : bad) {
    error.clear ();
    bool restart = true;
    fail_if (ingest.add_remote_candidates (b, error, &restart), "accepted '%s'", b);
    fail_if (error.empty ());
    /* only the new ufrag is an ICE restart (422), the rest malformed (400) */
    fail_unless (restart == (strstr (b, "ice-ufrag:restart") != nullptr), "'%s'", b);
  }
  ingest.close ();
  fail_if (ingest.add_remote_candidates (good, error), "taken after close");
  stop_pipeline (r.pipeline);
}
GST_END_TEST;

GST_START_TEST (test_ice_failure_is_reported_once)
{
  std::string offer = offer_of_a_sender (Video::vp8);
  /* the publisher's candidates replaced by one nobody answers on */
  std::string unreachable = replace_lines (offer, "a=candidate:",
      "a=candidate:1 1 UDP 2122252543 192.0.2.1 9 typ host\r\n");
  Receiver r;
  auto ingest = std::make_unique<WhipIngest> (GST_PIPELINE (r.pipeline),
      std::vector<std::string> (), r.listener ());
  gst_element_set_state (r.pipeline, GST_STATE_PLAYING);
  Outcome o;
  ingest->negotiate (unreachable, 5000, o.callback ());
  fail_unless (wait_for ([&o] { return o.called (); }, 10000), "no answer");
  fail_unless_equals_int (o.status, 201);
  /* libnice gives up on its checks after about 7 s */
  fail_unless (wait_for ([&r] { return r.ended > 0; }, 30000), "ICE failure not reported");
  wait_for ([] { return false; }, 500);
  fail_unless_equals_int (r.ended, 1);
  ingest.reset ();
  stop_pipeline (r.pipeline);
}
GST_END_TEST;

static Suite *
whipingest_suite (void)
{
  Suite *s = suite_create ("whipingest");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_offer_inspection);
  tcase_add_test (tc, test_loopback_vp8_opus);
  tcase_add_test (tc, test_loopback_h264_opus);
  tcase_add_test (tc, test_codec_we_cannot_take_is_answered_inactive);
  tcase_add_test (tc, test_only_restricted_codecs_are_answered);
  tcase_add_test (tc, test_slow_gathering_answers_at_the_timeout);
  tcase_add_test (tc, test_unusable_offer_is_refused);
  tcase_add_test (tc, test_upnp_is_off);
  tcase_add_test (tc, test_destroyed_during_negotiation_answers_once);
  tcase_add_test (tc, test_bad_candidates_are_refused);
  tcase_add_test (tc, test_ice_failure_is_reported_once);
  return s;
}

GST_CHECK_MAIN (whipingest);
