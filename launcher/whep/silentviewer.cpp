#include "whep/silentviewer.h"

#include "webrtc/peerconnection.h"
#include "whep/whepdebug.h"
#include "whep/whepviewer.h"

#include <utility>

namespace castline::launcher::whep {

namespace {

constexpr guint kSilenceCheckMs = 1000;

WhepViewerPtr
viewer_of (gpointer data)
{
  return std::static_pointer_cast<WhepViewerState> (webrtc::held (data));
}

/* a packet from the browser: RTCP, DTLS, RTP. webrtcbin's network
 * threads. */
GstPadProbeReturn
on_packet (GstPad *, GstPadProbeInfo *, gpointer data)
{
  /* no shared_ptr copy per packet: the probe's data holds the state */
  static_cast<WhepViewerState *> (webrtc::held (data).get ())->last_packet_us.store (
      g_get_monotonic_time ());
  return GST_PAD_PROBE_OK;
}

/* a probe on the src pad of every nicesrc in webrtcbin; false when there
 * is none */
bool
add_packet_probes (const WhepViewerPtr & st, GstElement * webrtc)
{
  bool any = false;
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (webrtc));
  GValue item = G_VALUE_INIT;
  bool done = false;
  while (!done) {
    switch (gst_iterator_next (it, &item)) {
      case GST_ITERATOR_OK: {
        GstElement *e = GST_ELEMENT (g_value_get_object (&item));
        GstElementFactory *f = gst_element_get_factory (e);
        if (f && g_strcmp0 (GST_OBJECT_NAME (f), "nicesrc") == 0) {
          GstPad *src = gst_element_get_static_pad (e, "src");
          if (src) {
            gst_pad_add_probe (src, GstPadProbeType (GST_PAD_PROBE_TYPE_BUFFER
                    | GST_PAD_PROBE_TYPE_BUFFER_LIST), on_packet, webrtc::hold (st),
                webrtc::release);
            gst_object_unref (src);
            any = true;
          }
        }
        g_value_reset (&item);
        break;
      }
      case GST_ITERATOR_RESYNC:
        gst_iterator_resync (it);
        break;
      default:
        done = true;
        break;
    }
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return any;
}

/* Default main context, every kSilenceCheckMs while watching. */
gboolean
on_silence_check (gpointer data)
{
  WhepViewerPtr st = viewer_of (data);
  gint64 silent_us = g_get_monotonic_time () - st->last_packet_us.load ();
  if (silent_us < (gint64) kSilentViewerS * G_USEC_PER_SEC) {
    if (silent_us > 2 * G_USEC_PER_SEC)
      GST_DEBUG ("%s: no packet for %" G_GINT64_FORMAT " ms", st->name.c_str (),
          silent_us / 1000);
    return G_SOURCE_CONTINUE;
  }
  GSource *timer;
  {
    std::lock_guard<std::mutex> lk (st->lock);
    timer = std::exchange (st->silence_timer, nullptr);
  }
  if (!timer)
    return G_SOURCE_REMOVE;            /* stopped meanwhile */
  g_source_unref (timer);              /* returning REMOVE destroys it */
  webrtc::end_peer (st, "no packet from the viewer for "
      + std::to_string (silent_us / G_USEC_PER_SEC) + " s");
  return G_SOURCE_REMOVE;
}

}  // namespace

void
watch_silence (const WhepViewerPtr & st)
{
  GstElement *webrtc = webrtc::webrtc_of (st);
  if (!webrtc)
    return;
  /* the clock starts now: packets before the connection count too */
  st->last_packet_us.store (g_get_monotonic_time ());
  bool probes = false;
  {
    std::lock_guard<std::mutex> lk (st->lock);
    probes = st->packet_probes;
    st->packet_probes = true;
  }
  if (!probes && !add_packet_probes (st, webrtc))
    GST_WARNING ("%s: webrtcbin has no nicesrc: a silent viewer is not told",
        st->name.c_str ());
  gst_object_unref (webrtc);

  std::lock_guard<std::mutex> lk (st->lock);
  if (!st->alive || st->closed || st->silence_timer)
    return;
  st->silence_timer = g_timeout_source_new (kSilenceCheckMs);
  g_source_set_callback (st->silence_timer, on_silence_check, webrtc::hold (st),
      webrtc::release);
  g_source_attach (st->silence_timer, nullptr);
}

void
stop_watching_silence (const WhepViewerPtr & st)
{
  GSource *timer;
  {
    std::lock_guard<std::mutex> lk (st->lock);
    timer = std::exchange (st->silence_timer, nullptr);
  }
  webrtc::drop_source (timer);
}

}  // namespace castline::launcher::whep
