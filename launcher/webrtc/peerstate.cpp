#include "webrtc/peerstate.h"

#include "ingest/whip/iceservers.h"
#include "streams/elementfactory.h"
#include "webrtc/negotiation.h"
#include "webrtc/peerconnection.h"
#include "webrtc/webrtcdebug.h"

#include <gst/webrtc/webrtc.h>

#include <utility>

GST_DEBUG_CATEGORY (castline_webrtc_debug);

namespace castline::launcher::webrtc {

void
init_debug ()
{
  static std::once_flag once;
  std::call_once (once, [] {
        GST_DEBUG_CATEGORY_INIT (castline_webrtc_debug, "castline-webrtc", 0,
            "castline webrtcbin peers (WHIP ingest, WHEP viewers)");
      });
}

namespace {

/* libnice's UPnP off on webrtcbin's ICE agent (GstWebRTCNice's NiceAgent):
 * a server has no router to open a port in; the search only filled the log
 * with gupnp warnings */
void
turn_off_upnp (GstElement * webrtc)
{
  g_autoptr (GObject) ice = nullptr;
  g_object_get (webrtc, "ice-agent", &ice, nullptr);
  if (!ice || !g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "agent"))
    return;
  g_autoptr (GObject) agent = nullptr;
  g_object_get (ice, "agent", &agent, nullptr);
  if (agent && g_object_class_find_property (G_OBJECT_GET_CLASS (agent), "upnp"))
    g_object_set (agent, "upnp", FALSE, nullptr);
}

}  // namespace

bool
add_webrtcbin (const PeerPtr & st, GstPipeline * pipeline,
    const std::vector<std::string> & ice_servers, std::string & error)
{
  {
    std::lock_guard<std::mutex> lk (st->lock);
    st->pipeline = GST_PIPELINE (gst_object_ref (pipeline));
  }
  GstElement *webrtc = make_element ("webrtcbin", nullptr, error);
  if (!webrtc) {
    GST_ERROR ("%s: %s", st->name.c_str (), error.c_str ());
    return false;
  }
  {
    std::lock_guard<std::mutex> lk (st->lock);
    st->webrtc = GST_ELEMENT (gst_object_ref_sink (webrtc));
  }
  g_object_set (webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, nullptr);
  turn_off_upnp (webrtc);
  whip::set_ice_servers (webrtc, ice_servers);

  struct {
    const char *signal;
    GCallback callback;
  } const handlers[] = {
    { "notify::ice-gathering-state", G_CALLBACK (on_ice_gathering_state) },
    { "notify::ice-connection-state", G_CALLBACK (on_ice_connection_state) },
    { "notify::connection-state", G_CALLBACK (on_connection_state) },
  };
  for (auto & h : handlers)
    connect_handler (st, h.signal, h.callback);

  gst_bin_add (GST_BIN (pipeline), webrtc);
  gst_element_sync_state_with_parent (webrtc);
  return true;
}

void
connect_handler (const PeerPtr & st, const char *signal, GCallback handler)
{
  std::lock_guard<std::mutex> lk (st->lock);
  if (st->closed || !st->webrtc)
    return;
  st->handlers.push_back (g_signal_connect_data (st->webrtc, signal, handler, hold (st),
          release_closure, GConnectFlags (0)));
}

void
close_peer (const PeerPtr & st)
{
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
  GST_INFO ("%s closed", st->name.c_str ());
}

}  // namespace castline::launcher::webrtc
