#include "ingest/whip/whipingest.h"

#include "ingest/whip/iceservers.h"
#include "ingest/whip/trickleice.h"
#include "ingest/whip/whipdebug.h"
#include "ingest/whip/whipingeststate.h"
#include "ingest/whip/whipnegotiation.h"
#include "ingest/whip/whippeer.h"
#include "ingest/whip/whiptracks.h"
#include "streams/elementfactory.h"

#include <gst/webrtc/webrtc.h>

#include <mutex>
#include <utility>

GST_DEBUG_CATEGORY (castline_whip_debug);

namespace castline::launcher {

using namespace whip;

namespace {

void
init_debug ()
{
  static std::once_flag once;
  std::call_once (once, [] {
        GST_DEBUG_CATEGORY_INIT (castline_whip_debug, "castline-whip", 0,
            "castline WHIP ingest");
      });
}

}  // namespace

WhipIngest::WhipIngest (GstPipeline * pipeline, std::vector<std::string> ice_servers,
    Listener listener) : state_ (std::make_shared<WhipIngestState> ())
{
  init_debug ();
  WhipIngestState & st = *state_;
  st.listener = std::move (listener);
  st.pipeline = GST_PIPELINE (gst_object_ref (pipeline));
  GstElement *webrtc = make_element ("webrtcbin", nullptr, error_);
  if (!webrtc) {
    GST_ERROR ("%s", error_.c_str ());
    return;
  }
  st.webrtc = GST_ELEMENT (gst_object_ref_sink (webrtc));
  g_object_set (webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, nullptr);

  set_ice_servers (webrtc, ice_servers);

  struct {
    const char *signal;
    GCallback callback;
  } const handlers[] = {
    { "pad-added", G_CALLBACK (on_pad_added) },
    { "notify::ice-gathering-state", G_CALLBACK (on_ice_gathering_state) },
    { "notify::ice-connection-state", G_CALLBACK (on_ice_connection_state) },
    { "notify::connection-state", G_CALLBACK (on_connection_state) },
  };
  for (auto & h : handlers)
    st.handlers.push_back (g_signal_connect_data (webrtc, h.signal, h.callback, hold (state_),
            release_closure, GConnectFlags (0)));

  gst_bin_add (GST_BIN (pipeline), webrtc);
  gst_element_sync_state_with_parent (webrtc);
}

std::vector<std::string>
WhipIngest::required_elements ()
{
  return whip::required_elements ();
}

WhipIngest::~WhipIngest ()
{
  {
    std::lock_guard<std::recursive_mutex> call (state_->call_lock);
    std::lock_guard<std::mutex> lk (state_->lock);
    state_->alive = false;
  }
  close ();
}

void
WhipIngest::restrict_codecs (std::vector<std::string> video, std::vector<std::string> audio)
{
  std::lock_guard<std::mutex> lk (state_->lock);
  state_->allowed_video = std::move (video);
  state_->allowed_audio = std::move (audio);
}

void
WhipIngest::negotiate (const std::string & offer, unsigned timeout_ms,
    std::function<void (unsigned status, std::string answer_or_error)> done)
{
  start_negotiation (state_, offer, timeout_ms, std::move (done));
}

bool
WhipIngest::add_remote_candidates (const std::string & sdpfrag, std::string & error,
    bool *ice_restart)
{
  if (ice_restart)
    *ice_restart = false;
  std::vector<std::string> mids;
  std::string ufrag;
  {
    std::lock_guard<std::mutex> lk (state_->lock);
    if (!state_->negotiation_started) {
      /* webrtcbin would drop them: it takes nothing before READY */
      error = "the WHIP session has no offer yet";
      return false;
    }
    mids = state_->mids;
    ufrag = state_->ice_ufrag;
  }
  TrickleIce frag;
  if (!parse_trickle_ice (sdpfrag, mids, ufrag, frag, error)) {
    if (ice_restart)
      *ice_restart = frag.ice_restart;
    return false;
  }
  GstElement *webrtc = webrtc_of (state_);
  if (!webrtc) {
    error = "the WHIP session is closed";
    return false;
  }
  for (auto & c : frag.candidates)
    g_signal_emit_by_name (webrtc, "add-ice-candidate", c.first, c.second.c_str ());
  gst_object_unref (webrtc);
  return true;
}

void
WhipIngest::close ()
{
  StatePtr st = state_;
  GstPipeline *pipeline;
  GstElement *webrtc;
  std::vector<GstElement *> elements;
  std::vector<gulong> handlers;
  GSource *timer;
  GstPromise *promise;
  {
    std::lock_guard<std::recursive_mutex> call (st->call_lock);
    std::lock_guard<std::mutex> lk (st->lock);
    if (st->closed)
      return;
    st->closed = true;
    promise = std::exchange (st->promise, nullptr);
    pipeline = std::exchange (st->pipeline, nullptr);
    webrtc = std::exchange (st->webrtc, nullptr);
    elements = std::move (st->elements);
    st->elements.clear ();
    handlers = std::move (st->handlers);
    st->handlers.clear ();
    timer = std::exchange (st->disconnect_timer, nullptr);
  }
  drop_source (timer);
  finish_negotiation (st, 503, "the stream ended before the offer was answered");
  /* no-op when answered; its callback finds `done` gone */
  if (promise)
    gst_promise_interrupt (promise);

  /* not under call_lock: the streaming threads the state change joins may
   * be waiting for it */
  if (webrtc) {
    for (gulong id : handlers)
      g_signal_handler_disconnect (webrtc, id);
    gst_element_set_state (webrtc, GST_STATE_NULL);
  }
  for (GstElement *e : elements)
    gst_element_set_state (e, GST_STATE_NULL);
  if (webrtc) {
    if (GST_OBJECT_PARENT (webrtc) == GST_OBJECT (pipeline))
      gst_bin_remove (GST_BIN (pipeline), webrtc);
    gst_object_unref (webrtc);
  }
  for (GstElement *e : elements) {
    if (GST_OBJECT_PARENT (e) == GST_OBJECT (pipeline))
      gst_bin_remove (GST_BIN (pipeline), e);
    gst_object_unref (e);
  }
  if (pipeline)
    gst_object_unref (pipeline);
  if (promise)
    gst_promise_unref (promise);
  GST_INFO ("WHIP ingest closed");
}

}  // namespace castline::launcher
