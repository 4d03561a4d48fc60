#include "whep/viewertracks.h"

#include "webrtc/sdputil.h"
#include "whep/whepdebug.h"

#include <gst/webrtc/webrtc.h>

#include <cstdlib>

namespace castline::launcher::whep {

namespace {

/* The branch's caps made to agree with the transceiver's: webrtcbin 1.22
 * takes on a sink pad only caps that fit the codec-preferences, and builds
 * the answer from them. rtph264pay names the stream's own profile
 * (profile-level-id, profile, sprop-parameter-sets), which may differ from
 * the format the offer chose (a High stream sent as 42e01f, which every
 * browser decodes): every field of the offer's format is set over the
 * branch's, and `profile` and sprop-parameter-sets are dropped (SPS/PPS go
 * in band: h264parse config-interval=-1). Caller owns the result. */
GstCaps *
agreed_caps (GstCaps * branch, const GstCaps * offered)
{
  GstCaps *caps = gst_caps_copy (branch);
  if (gst_caps_is_empty (caps) || gst_caps_is_any (caps) || gst_caps_is_empty (offered))
    return caps;
  GstStructure *s = gst_caps_get_structure (caps, 0);
  const GstStructure *o = gst_caps_get_structure (offered, 0);
  gst_structure_remove_fields (s, "profile", "sprop-parameter-sets", nullptr);
  for (int i = 0; i < gst_structure_n_fields (o); i++) {
    const char *f = gst_structure_nth_field_name (o, i);
    gst_structure_set_value (s, f, gst_structure_get_value (o, f));
  }
  return caps;
}

/* On a branch's src pad, linked to our webrtcbin: its caps events
 * rewritten (agreed_caps), and the caps and accept-caps queries from
 * upstream answered here, so that one viewer's codec-preferences never
 * narrow what the shared payloader may send to the others. Streaming
 * thread; data: the offer's caps. */
GstPadProbeReturn
on_branch_data (GstPad *, GstPadProbeInfo * info, gpointer data)
{
  const GstCaps *offered = static_cast<const GstCaps *> (data);
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM) {
    GstQuery *q = GST_PAD_PROBE_INFO_QUERY (info);
    if (GST_QUERY_TYPE (q) == GST_QUERY_CAPS) {
      GstCaps *filter = nullptr;
      gst_query_parse_caps (q, &filter);
      GstCaps *any = filter ? gst_caps_ref (filter) : gst_caps_new_any ();
      gst_query_set_caps_result (q, any);
      gst_caps_unref (any);
      return GST_PAD_PROBE_HANDLED;
    }
    if (GST_QUERY_TYPE (q) == GST_QUERY_ACCEPT_CAPS) {
      gst_query_set_accept_caps_result (q, TRUE);
      return GST_PAD_PROBE_HANDLED;
    }
    return GST_PAD_PROBE_OK;
  }
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  GstCaps *caps = nullptr;
  gst_event_parse_caps (event, &caps);
  GstCaps *agreed = agreed_caps (caps, offered);
  GST_DEBUG ("branch caps %" GST_PTR_FORMAT " sent as %" GST_PTR_FORMAT, caps, agreed);
  GST_PAD_PROBE_INFO_DATA (info) = gst_event_new_caps (agreed);
  gst_caps_unref (agreed);
  gst_event_unref (event);
  return GST_PAD_PROBE_OK;
}

void
unref_caps (gpointer data)
{
  gst_caps_unref (static_cast<GstCaps *> (data));
}

}  // namespace

bool
link_track (GstElement * webrtc, const WhepTrack & track, GstPad * source,
    WhepViewerState::Source & out, std::string & error)
{
  GstCaps *offered = gst_caps_from_string (track.caps.c_str ());
  if (!offered || gst_caps_is_empty (offered) || !gst_caps_is_fixed (offered)) {
    if (offered)
      gst_caps_unref (offered);
    error = "the offer's " + track.kind + " format is not usable caps";
    return false;
  }
  /* the answer names the SSRC the branch sends with. Without it, webrtcbin
   * names the SSRC of the caps the branch has sent by then; before the
   * first packet, none, and with retransmissions "FID 0 <rtx>": Chromium
   * then takes the track to be SSRC 0, decodes what comes on the real
   * SSRC, and gives the track none of it (the <video> stays empty). */
  if (track.ssrc)
    gst_caps_set_simple (offered, "ssrc", G_TYPE_UINT, track.ssrc, nullptr);
  g_autofree gchar *name = g_strdup_printf ("sink_%u", track.mline);
  GstPad *sink = gst_element_request_pad_simple (webrtc, name);
  if (!sink) {
    gst_caps_unref (offered);
    error = "webrtcbin gives no pad for m-line " + std::to_string (track.mline);
    return false;
  }
  GstWebRTCRTPTransceiver *trans = nullptr;
  g_object_get (sink, "transceiver", &trans, nullptr);
  if (trans) {
    gboolean nack = FALSE;
    gst_structure_get_boolean (gst_caps_get_structure (offered, 0), "rtcp-fb-nack", &nack);
    g_object_set (trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
        "codec-preferences", offered, nullptr);
    /* retransmissions kept for the browser's NACKs */
    if (track.kind == "video" && nack)
      g_object_set (trans, "do-nack", TRUE, nullptr);
    gst_object_unref (trans);
  }
  out.pad = GST_PAD (gst_object_ref (source));
  out.probe = gst_pad_add_probe (source, GstPadProbeType (GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM
          | GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM), on_branch_data, offered, unref_caps);
  GstPadLinkReturn linked = gst_pad_link (source, sink);
  gst_object_unref (sink);
  if (linked != GST_PAD_LINK_OK) {
    error = std::string ("cannot link the ") + track.kind + " branch to webrtcbin: "
        + gst_pad_link_get_name (linked);
    return false;
  }
  GST_INFO ("m-line %u: %s %s pt %d", track.mline, track.kind.c_str (), track.codec.c_str (),
      track.pt);
  return true;
}

void
add_inactive (GstElement * webrtc, const GstSDPMedia * media)
{
  GstCaps *caps = gst_caps_new_empty ();
  for (guint f = 0; f < gst_sdp_media_formats_len (media); f++) {
    GstCaps *c = webrtc::rtp_caps (media, atoi (gst_sdp_media_get_format (media, f)));
    if (c)
      gst_caps_append (caps, c);
  }
  GstWebRTCRTPTransceiver *trans = nullptr;
  g_signal_emit_by_name (webrtc, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE,
      gst_caps_is_empty (caps) ? nullptr : caps, &trans);
  gst_caps_unref (caps);
  if (trans)
    gst_object_unref (trans);
}

void
unlink_track (WhepViewerState::Source & source)
{
  if (!source.pad)
    return;
  if (source.probe)
    gst_pad_remove_probe (source.pad, source.probe);
  GstPad *peer = gst_pad_get_peer (source.pad);
  if (peer) {
    gst_pad_unlink (source.pad, peer);
    gst_object_unref (peer);
  }
  gst_object_unref (source.pad);
  source = WhepViewerState::Source ();
}

}  // namespace castline::launcher::whep
