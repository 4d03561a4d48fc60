#include "webrtc/negotiation.h"

#include "ingest/whip/trickleice.h"
#include "webrtc/webrtcdebug.h"

#include <gst/webrtc/webrtc.h>

#include <utility>

namespace castline::launcher::webrtc {

namespace {

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
 * `func`, unless the peer is closed. Under call_lock, so close_peer either
 * sees the promise or the emission sees `closed`. Any thread. */
void
emit_with_promise (const PeerPtr & st, const char *signal, gpointer arg,
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
answer_if_gathered (const PeerPtr & st)
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
  PeerPtr st = held (data);
  bool answered;
  {
    std::lock_guard<std::mutex> lk (st->lock);
    answered = st->answer_set;
  }
  GstElement *webrtc = answered ? webrtc_of (st) : nullptr;
  if (webrtc) {
    GST_INFO ("%s: ICE gathering not complete in time: answering with the candidates so far",
        st->name.c_str ());
    finish_negotiation (st, 201, local_description (webrtc));
    gst_object_unref (webrtc);
  } else {
    finish_negotiation (st, 500, "webrtcbin did not answer the offer in time");
  }
  return G_SOURCE_REMOVE;
}

/* true when some audio/video m-line of the answer has direction `dir` */
bool
answer_has (const GstSDPMessage * answer, const std::string & dir)
{
  for (guint i = 0; i < gst_sdp_message_medias_len (answer); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (answer, i);
    std::string kind = lower (gst_sdp_media_get_media (m));
    if ((kind == "audio" || kind == "video") && gst_sdp_media_get_port (m) != 0
        && direction (answer, m) == dir)
      return true;
  }
  return false;
}

void
on_local_set (GstPromise * promise, gpointer data)
{
  PeerPtr st = held (data);
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
  PeerPtr st = held (data);
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
  if (!answer_has (answer->sdp, st->answer_direction)) {
    gst_webrtc_session_description_free (answer);
    finish_negotiation (st, 406, st->answer_direction == "recvonly"
        ? "nothing in the offer can be received" : "nothing in the offer can be sent");
    return;
  }
  emit_with_promise (st, "set-local-description", answer, on_local_set);
  gst_webrtc_session_description_free (answer);
}

void
on_remote_set (GstPromise * promise, gpointer data)
{
  PeerPtr st = held (data);
  std::string error;
  if (promise_failed (promise, error)) {
    finish_negotiation (st, 400, "the offer cannot be applied: " + error);
    return;
  }
  emit_with_promise (st, "create-answer", nullptr, on_answer_created);
}

}  // namespace

void
finish_negotiation (const PeerPtr & st, unsigned status, std::string text)
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
    GST_INFO ("answering the %s's offer", st->name.c_str ());
  else
    GST_WARNING ("%s's offer refused (%u): %s", st->name.c_str (), status, text.c_str ());
  done (status, std::move (text));
}

void
on_ice_gathering_state (GObject *, GParamSpec *, gpointer data)
{
  answer_if_gathered (held (data));
}

SdpMessagePtr
begin_negotiation (const PeerPtr & st, const std::string & offer, unsigned timeout_ms,
    std::function<void (unsigned, std::string)> done, GstElement *& webrtc_out)
{
  webrtc_out = nullptr;
  SdpMessagePtr msg = parse_sdp (offer);
  if (!msg) {
    done (400, "the offer is not SDP");
    return nullptr;
  }
  GstElement *webrtc = webrtc_of (st);
  if (!webrtc) {
    done (503, "the " + st->name + " is closed or has no webrtcbin");
    return nullptr;
  }
  bool again;
  {
    std::lock_guard<std::mutex> lk (st->lock);
    again = st->negotiation_started;
  }
  if (again) {
    gst_object_unref (webrtc);
    done (409, "the session has an answer already");
    return nullptr;
  }
  {
    std::lock_guard<std::mutex> lk (st->lock);
    st->negotiation_started = true;
    st->done = std::move (done);
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
    return nullptr;
  }
  webrtc_out = webrtc;
  return msg;
}

void
apply_offer (const PeerPtr & st, SdpMessagePtr offer)
{
  GstWebRTCSessionDescription *desc =
      gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, offer.release ());
  emit_with_promise (st, "set-remote-description", desc, on_remote_set);
  gst_webrtc_session_description_free (desc);
}

bool
add_remote_candidates (const PeerPtr & st, const std::string & sdpfrag, std::string & error,
    bool *ice_restart)
{
  if (ice_restart)
    *ice_restart = false;
  std::vector<std::string> mids;
  std::string ufrag;
  {
    std::lock_guard<std::mutex> lk (st->lock);
    if (!st->negotiation_started) {
      /* webrtcbin would drop them: it takes nothing before READY */
      error = "the " + st->name + "'s session has no offer yet";
      return false;
    }
    mids = st->mids;
    ufrag = st->ice_ufrag;
  }
  whip::TrickleIce frag;
  if (!whip::parse_trickle_ice (sdpfrag, mids, ufrag, frag, error)) {
    if (ice_restart)
      *ice_restart = frag.ice_restart;
    return false;
  }
  GstElement *webrtc = webrtc_of (st);
  if (!webrtc) {
    error = "the " + st->name + "'s session is closed";
    return false;
  }
  for (auto & c : frag.candidates)
    g_signal_emit_by_name (webrtc, "add-ice-candidate", c.first, c.second.c_str ());
  gst_object_unref (webrtc);
  return true;
}

}  // namespace castline::launcher::webrtc
