/* castline launcher tests with a webrtcbin peer of their own (a WHIP
 * publisher, a WHEP viewer): waiting on the default main context, editing
 * SDP text, the peer's offer and the answer it is given. */
#pragma once

#include <gst/check/gstcheck.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <string>

/* the first webrtcbin directly in pipeline (ref), or nullptr */
static inline GstElement *
find_webrtcbin (GstElement * pipeline)
{
  GstIterator *it = gst_bin_iterate_elements (GST_BIN (pipeline));
  GValue v = G_VALUE_INIT;
  GstElement *found = nullptr;
  while (!found && gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    auto *e = GST_ELEMENT (g_value_get_object (&v));
    if (g_str_equal (GST_OBJECT_NAME (gst_element_get_factory (e)), "webrtcbin"))
      found = GST_ELEMENT (gst_object_ref (e));
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  return found;
}

/* webrtcbin's ICE agent (libnice's NiceAgent under GstWebRTCNice) has
 * UPnP off */
static inline bool
upnp_is_off (GstElement * webrtc)
{
  GObject *ice = nullptr, *agent = nullptr;
  g_object_get (webrtc, "ice-agent", &ice, nullptr);
  fail_unless (ice != nullptr);
  g_object_get (ice, "agent", &agent, nullptr);
  fail_unless (agent != nullptr);
  gboolean upnp = TRUE;
  g_object_get (agent, "upnp", &upnp, nullptr);
  g_object_unref (agent);
  g_object_unref (ice);
  return !upnp;
}

/* iterates the default main context until pred () or timeout_ms */
template <typename Pred>
static bool
wait_for (Pred pred, unsigned timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  while (!pred ()) {
    if (g_get_monotonic_time () > end)
      return false;
    if (!g_main_context_iteration (nullptr, FALSE))
      g_usleep (2000);
  }
  return true;
}

/* `text` with each line starting with `prefix` replaced (removed by
 * default); the replacement ends its own lines */
static inline std::string
replace_lines (const std::string & text, const std::string & prefix,
    const std::string & replacement = "")
{
  std::string out;
  size_t pos = 0;
  while (pos < text.size ()) {
    size_t end = text.find ('\n', pos);
    end = end == std::string::npos ? text.size () : end + 1;
    std::string line = text.substr (pos, end - pos);
    out += line.compare (0, prefix.size (), prefix) == 0 ? replacement : line;
    pos = end;
  }
  return out;
}

/* webrtcbin's offer, set locally, with all its candidates (no trickle) */
static inline std::string
gathered_offer (GstElement * webrtc)
{
  GstPromise *p = gst_promise_new ();
  g_signal_emit_by_name (webrtc, "create-offer", nullptr, p);
  fail_unless (gst_promise_wait (p) == GST_PROMISE_RESULT_REPLIED);
  GstWebRTCSessionDescription *offer = nullptr;
  gst_structure_get (gst_promise_get_reply (p), "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
      &offer, nullptr);
  gst_promise_unref (p);
  fail_unless (offer != nullptr);
  p = gst_promise_new ();
  g_signal_emit_by_name (webrtc, "set-local-description", offer, p);
  fail_unless (gst_promise_wait (p) == GST_PROMISE_RESULT_REPLIED);
  gst_promise_unref (p);
  gst_webrtc_session_description_free (offer);

  fail_unless (wait_for ([webrtc] {
            GstWebRTCICEGatheringState s;
            g_object_get (webrtc, "ice-gathering-state", &s, nullptr);
            return s == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE;
          }, 10000), "the peer did not gather its candidates");
  GstWebRTCSessionDescription *local = nullptr;
  g_object_get (webrtc, "local-description", &local, nullptr);
  gchar *text = gst_sdp_message_as_text (local->sdp);
  std::string ret = text;
  g_free (text);
  gst_webrtc_session_description_free (local);
  return ret;
}

/* gives webrtcbin the answer to its offer; the test fails if it is refused */
static inline void
apply_answer (GstElement * webrtc, const std::string & answer)
{
  GstSDPMessage *sdp = nullptr;
  fail_unless (gst_sdp_message_new_from_text (answer.c_str (), &sdp) == GST_SDP_OK);
  GstWebRTCSessionDescription *desc =
      gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  GstPromise *p = gst_promise_new ();
  g_signal_emit_by_name (webrtc, "set-remote-description", desc, p);
  fail_unless (gst_promise_wait (p) == GST_PROMISE_RESULT_REPLIED);
  const GstStructure *reply = gst_promise_get_reply (p);
  fail_if (reply && gst_structure_has_field (reply, "error"), "the peer refuses the answer");
  gst_promise_unref (p);
  gst_webrtc_session_description_free (desc);
}
