#include "ingest/whip/whipnegotiation.h"

#include "ingest/whip/whipdebug.h"
#include "ingest/whip/whipoffer.h"

#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace castline::launcher::whip {

using namespace webrtc;

namespace {

/* codec-preferences of a receiving transceiver, one structure per codec */
GstCaps *
preferences (const std::string & kind, const std::vector<std::string> & codecs)
{
  GstCaps *caps = gst_caps_new_empty ();
  for (auto & c : codecs) {
    g_autofree gchar *enc = g_ascii_strup (c.c_str (), -1);
    gst_caps_append_structure (caps, gst_structure_new ("application/x-rtp",
            "media", G_TYPE_STRING, kind.c_str (), "encoding-name", G_TYPE_STRING, enc,
            "clock-rate", G_TYPE_INT, kind == "audio" ? 48000 : 90000, nullptr));
  }
  return caps;
}

/* the error a promise was answered with, or why it was not answered */
bool
promise_failed (GstPromise * promise, std::string & error)
{
  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED) {
    error = "webrtcbin did not answer";
    return true;
  }
  const GstStructure *reply = gst_promise_get_reply (promise);
  GError *e = nullptr;
  if (reply && gst_structure_has_field (reply, "error")) {
    gst_structure_get (reply, "error", G_TYPE_ERROR, &e, nullptr);
    error = e ? e->message : "unknown error";
    g_clear_error (&e);
    return true;
  }
  return false;
}

/* Emits `signal` (arg, promise) on the webrtcbin, the promise calling
 * `func`, unless the ingest is closed. Under call_lock, so close() either
 * sees the promise or the emission sees `closed`. Any thread. */
void
emit_with_promise (const StatePtr & st, const char *signal, gpointer arg,
    GstPromiseChangeFunc func)
{
  std::lock_guard<std::recursive_mutex> call (st->call_lock);
  GstElement *webrtc = webrtc_of (st);
  if (!webrtc)
    return;
  GstPromise *p = gst_promise_new_with_change_func (func, hold (st), release);
  GstPromise *previous;
  {
    std::lock_guard<std::mutex> lk (st->lock);
    previous = std::exchange (st->promise, gst_promise_ref (p));
  }
  if (previous)
    gst_promise_unref (previous);
  g_signal_emit_by_name (webrtc, signal, arg, p);
  gst_promise_unref (p);
  gst_object_unref (webrtc);
}

std::string
local_description (GstElement * webrtc)
{
  GstWebRTCSessionDescription *desc = nullptr;
  g_object_get (webrtc, "local-description", &desc, nullptr);
  if (!desc)
    return "";
  g_autofree gchar *text = gst_sdp_message_as_text (desc->sdp);
  gst_webrtc_session_description_free (desc);
  return text ? text : "";
}

/* The answer is final once ICE gathering is complete. Any thread. */
void
answer_if_gathered (const StatePtr & st)
{
  {
    std::lock_guard<std::mutex> lk (st->lock);
    if (!st->answer_set || !st->done)
      return;
  }
  GstElement *webrtc = webrtc_of (st);
  if (!webrtc)
    return;
  GstWebRTCICEGatheringState gathering = GST_WEBRTC_ICE_GATHERING_STATE_NEW;
  g_object_get (webrtc, "ice-gathering-state", &gathering, nullptr);
  if (gathering == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    finish_negotiation (st, 201, local_description (webrtc));
  gst_object_unref (webrtc);
}

/* the time-out: the answer with the candidates so far, or a 500 when there
 * is none. Default main context. */
gboolean
on_answer_timeout (gpointer data)
{
  StatePtr st = held (data);
  bool answered;
  {
    std::lock_guard<std::mutex> lk (st->lock);
    answered = st->answer_set;
  }
  GstElement *webrtc = answered ? webrtc_of (st) : nullptr;
  if (webrtc) {
    GST_INFO ("ICE gathering not complete in time: answering with the candidates so far");
    finish_negotiation (st, 201, local_description (webrtc));
    gst_object_unref (webrtc);
  } else {
    finish_negotiation (st, 500, "webrtcbin did not answer the offer in time");
  }
  return G_SOURCE_REMOVE;
}

/* true when some audio/video m-line of the answer receives */
bool
answer_receives (const GstSDPMessage * answer)
{
  for (guint i = 0; i < gst_sdp_message_medias_len (answer); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (answer, i);
    std::string kind = lower (gst_sdp_media_get_media (m));
    if ((kind == "audio" || kind == "video") && gst_sdp_media_get_port (m) != 0
        && direction (answer, m) == "recvonly")
      return true;
  }
  return false;
}

void
on_local_set (GstPromise * promise, gpointer data)
{
  StatePtr st = held (data);
  std::string error;
  if (promise_failed (promise, error)) {
    finish_negotiation (st, 500, "the answer cannot be applied: " + error);
    return;
  }
  {
    std::lock_guard<std::mutex> lk (st->lock);
    st->answer_set = true;
  }
  /* gathering may have completed before answer_set was set */
  answer_if_gathered (st);
}

void
on_answer_created (GstPromise * promise, gpointer data)
{
  StatePtr st = held (data);
  std::string error;
  if (promise_failed (promise, error)) {
    finish_negotiation (st, 500, "no answer to the offer: " + error);
    return;
  }
  GstWebRTCSessionDescription *answer = nullptr;
  gst_structure_get (gst_promise_get_reply (promise), "answer",
      GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, nullptr);
  if (!answer) {
    finish_negotiation (st, 500, "webrtcbin made no answer");
    return;
  }
  if (!answer_receives (answer->sdp)) {
    gst_webrtc_session_description_free (answer);
    finish_negotiation (st, 406, "nothing in the offer can be received");
    return;
  }
  emit_with_promise (st, "set-local-description", answer, on_local_set);
  gst_webrtc_session_description_free (answer);
}

void
on_remote_set (GstPromise * promise, gpointer data)
{
  StatePtr st = held (data);
  std::string error;
  if (promise_failed (promise, error)) {
    finish_negotiation (st, 400, "the offer cannot be applied: " + error);
    return;
  }
  emit_with_promise (st, "create-answer", nullptr, on_answer_created);
}

}  // namespace

void
finish_negotiation (const StatePtr & st, unsigned status, std::string text)
{
  std::lock_guard<std::recursive_mutex> call (st->call_lock);
  std::function<void (unsigned, std::string)> done;
  GSource *timer;
  {
    std::lock_guard<std::mutex> lk (st->lock);
    if (!st->done)
      return;
    done = std::move (st->done);
    st->done = nullptr;
    timer = std::exchange (st->answer_timer, nullptr);
  }
  drop_source (timer);
  if (status == 201)
    GST_INFO ("answering the WHIP offer");
  else
    GST_WARNING ("WHIP offer refused (%u): %s", status, text.c_str ());
  done (status, std::move (text));
}

void
on_ice_gathering_state (GObject *, GParamSpec *, gpointer data)
{
  answer_if_gathered (held (data));
}

void
start_negotiation (const StatePtr & st, const std::string & offer, unsigned timeout_ms,
    std::function<void (unsigned, std::string)> done)
{
  SdpMessagePtr msg = parse_sdp (offer);
  if (!msg) {
    done (400, "the offer is not SDP");
    return;
  }
  GstElement *webrtc = webrtc_of (st);
  if (!webrtc) {
    done (503, "the WHIP ingest is closed or has no webrtcbin");
    return;
  }
  bool again;
  {
    std::lock_guard<std::mutex> lk (st->lock);
    again = st->negotiation_started;
  }
  if (again) {
    gst_object_unref (webrtc);
    done (409, "the session has an answer already");
    return;
  }
  std::vector<std::string> allowed_video, allowed_audio;
  {
    std::lock_guard<std::mutex> lk (st->lock);
    st->negotiation_started = true;
    st->done = std::move (done);
    allowed_video = st->allowed_video;
    allowed_audio = st->allowed_audio;
    for (guint i = 0; i < gst_sdp_message_medias_len (msg.get ()); i++) {
      const GstSDPMedia *media = gst_sdp_message_get_media (msg.get (), i);
      const char *mid = gst_sdp_media_get_attribute_val (media, "mid");
      st->mids.push_back (mid ? mid : "");
      const char *ufrag = gst_sdp_media_get_attribute_val (media, "ice-ufrag");
      if (!ufrag)
        ufrag = gst_sdp_message_get_attribute_val (msg.get (), "ice-ufrag");
      if (st->ice_ufrag.empty () && ufrag)
        st->ice_ufrag = ufrag;
    }
    st->answer_timer = g_timeout_source_new (timeout_ms);
    g_source_set_callback (st->answer_timer, on_answer_timeout, hold (st), release);
    g_source_attach (st->answer_timer, nullptr);
  }

  /* webrtcbin does nothing below READY; the pipeline may still be NULL */
  GstState current = GST_STATE_NULL;
  gst_element_get_state (webrtc, &current, nullptr, 0);
  if (current == GST_STATE_NULL) {
    gst_element_sync_state_with_parent (webrtc);
    gst_element_get_state (webrtc, &current, nullptr, 0);
  }
  if (current == GST_STATE_NULL
      && gst_element_set_state (webrtc, GST_STATE_READY) == GST_STATE_CHANGE_FAILURE) {
    gst_object_unref (webrtc);
    finish_negotiation (st, 500, "webrtcbin does not start");
    return;
  }

  /* One receive-only transceiver per m-line, in order, so webrtcbin pairs
   * them up and answers recvonly with the codecs we take (by default it
   * would copy the offer's direction and take every codec). An m-line with
   * nothing for us gets an inactive one that matches its own codecs. */
  for (guint i = 0; i < gst_sdp_message_medias_len (msg.get ()); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (msg.get (), i);
    std::string kind = lower (gst_sdp_media_get_media (media));
    if (kind != "video" && kind != "audio")
      continue;
    GstWebRTCRTPTransceiverDirection dir = GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY;
    std::vector<std::string> codecs = takeable_codecs (media);
    const auto & allowed = kind == "video" ? allowed_video : allowed_audio;
    if (!allowed.empty ())
      codecs.erase (std::remove_if (codecs.begin (), codecs.end (), [&allowed] (auto & c) {
            return std::find (allowed.begin (), allowed.end (), c) == allowed.end ();
          }), codecs.end ());
    GstCaps *caps;
    if (!codecs.empty ()) {
      caps = preferences (kind, codecs);
    } else {
      dir = GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE;
      caps = gst_caps_new_empty ();
      for (guint f = 0; f < gst_sdp_media_formats_len (media); f++) {
        GstCaps *c = rtp_caps (media, atoi (gst_sdp_media_get_format (media, f)));
        if (c)
          gst_caps_append (caps, c);
      }
      GST_INFO ("m-line %u (%s) has no codec we take: answered inactive", i, kind.c_str ());
    }
    GstWebRTCRTPTransceiver *trans = nullptr;
    g_signal_emit_by_name (webrtc, "add-transceiver", dir,
        gst_caps_is_empty (caps) ? nullptr : caps, &trans);
    gst_caps_unref (caps);
    if (trans) {
      if (kind == "video" && dir == GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY)
        g_object_set (trans, "do-nack", TRUE, nullptr);
      gst_object_unref (trans);
    }
  }

  gst_object_unref (webrtc);
  GstWebRTCSessionDescription *desc =
      gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, msg.release ());
  emit_with_promise (st, "set-remote-description", desc, on_remote_set);
  gst_webrtc_session_description_free (desc);
}

}  // namespace castline::launcher::whip
