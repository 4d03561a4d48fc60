/* Benchmark client: many WHEP viewers in one process, light enough that a
 * hundred of them fit beside the server on one small machine (a Chromium
 * page a viewer would not).
 *
 *   bench/whep_load --url http://127.0.0.1:PORT/whep/ID --viewers N
 *                   [--spread-ms 40] [--seconds 600]
 *   bench/whep_load --janus http://127.0.0.1:PORT/janus --viewers N ...
 *   WHEP_TOKEN in the environment: sent as `Authorization: Bearer` (never
 *   printed)
 *
 * Each viewer is a pipeline of its own holding one webrtcbin (max-bundle)
 * with a recvonly video transceiver (H.264, packetization-mode 1, three
 * profiles) and a recvonly audio one (Opus). It makes its offer, waits for
 * its ICE candidates (at most 3 s: no trickle), POSTs it to the WHEP URL
 * (draft-ietf-wish-whep: `application/sdp`, 201 + the answer + Location)
 * and applies the answer. What arrives is counted, never decoded: each
 * webrtcbin source pad goes to a fakesink, and a probe counts RTP packets
 * and, on video, the marker bits (one a frame: the last packet of an
 * access unit). Viewers start --spread-ms apart.
 *
 * --drop-rtp: count RTP as it comes off the socket (nicesrc; an SRTP
 * header, marker bit included, is in the clear, and the payload type says
 * video or audio) and drop it there, so that SRTP, rtpbin and their threads
 * never see it: a viewer then costs this process about a third of what a
 * full receiver costs (6.5 against 18 thousandths of a core at 2.5 Mb/s),
 * so that the client is not what fills the two cores it shares with the
 * server. RTCP (the viewer's reports), DTLS and ICE go on as before; the
 * server cannot tell. Without it every packet goes through webrtcbin's
 * whole receive path to a fakesink.
 *
 * --janus: the same viewers of a Janus streaming mountpoint (id 1), the
 * comparison bench/whep_viewers.py --janus makes: Janus 1.1 has no WHEP, so
 * each viewer talks its HTTP API instead (create a session, attach
 * janus.plugin.streaming, `watch`, long-poll for Janus's offer, answer it
 * recvonly with its candidates, `start`; `destroy` at the end). The media
 * side is the same.
 *
 * Prints one JSON line a second on stdout:
 *   {"t": s since start, "viewers": N, "started", "answered", "connected",
 *    "failed", "statuses": {"201": n, ...},
 *    "frames": [video frames so far, per viewer],
 *    "video_packets": [...], "audio_packets": [...]}
 * and a reason per failed viewer on stderr. On SIGINT/SIGTERM or after
 * --seconds it DELETEs every session it was given (so its seats are freed
 * at once, not when the server reaps them), waits for the answers (at most
 * 5 s), stops the pipelines and exits 0. bench/whep_viewers.py runs it. */
#include <gst/gst.h>
#include <gst/rtp/rtp.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

/* the viewer's offer; the server picks the format closest to what the
 * stream carries (launcher/whep/whepoffer.h) */
const char *kVideoCaps =
    "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=102,"
    "packetization-mode=(string)1,profile-level-id=(string)42e01f,"
    "level-asymmetry-allowed=(string)1,rtcp-fb-nack-pli=(boolean)true;"
    "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=104,"
    "packetization-mode=(string)1,profile-level-id=(string)4d001f,"
    "level-asymmetry-allowed=(string)1,rtcp-fb-nack-pli=(boolean)true;"
    "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=106,"
    "packetization-mode=(string)1,profile-level-id=(string)64001f,"
    "level-asymmetry-allowed=(string)1,rtcp-fb-nack-pli=(boolean)true";
const char *kAudioCaps =
    "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111,"
    "encoding-params=(string)2";

constexpr guint kGatherTimeoutMs = 3000;
constexpr guint kDeleteTimeoutMs = 5000;
/* RTCP a viewer sends at least this often (ms); rtpsession's default
 * minimum is 5 s, browsers report about every second, and the server takes
 * a viewer silent for kSilentViewerS as gone */
constexpr guint64 kRtcpIntervalMs = 1000;

enum class Phase : int { created, offered, answered, connected, failed };

struct Viewer {
  int index = 0;
  GstElement *pipeline = nullptr;
  GstElement *webrtc = nullptr;
  std::atomic<int> phase{(int) Phase::created};
  std::atomic<bool> posted{false};
  std::atomic<guint64> frames{0};
  std::atomic<guint64> video_packets{0};
  std::atomic<guint64> audio_packets{0};
  /* payload types of the remote description's video m-lines, bit per PT
   * (set before the description is applied, read on nicesrc's thread) */
  std::atomic<guint64> video_pts[2] = {{0}, {0}};
  std::string session_url;             /* main context only: WHEP's Location,
                                        * Janus's session */
  std::string janus_handle;            /* main context only: Janus's handle URL */
};

struct App {
  bool janus = false;                  /* --janus: its API, not WHEP */
  bool drop_rtp = false;               /* --drop-rtp */
  std::string url;
  std::string token;
  int viewers = 0;
  guint spread_ms = 40;
  guint seconds = 600;
  SoupSession *http = nullptr;
  GMainLoop *loop = nullptr;
  std::vector<std::unique_ptr<Viewer>> list;
  std::map<unsigned, int> statuses;    /* main context only */
  gint64 started_at = 0;
  bool stopping = false;
  int deletes_pending = 0;
};

App app;

void
fail (Viewer * v, const std::string & why)
{
  if (v->phase.exchange ((int) Phase::failed) != (int) Phase::failed)
    g_printerr ("viewer %d: %s\n", v->index, why.c_str ());
}

/* ---------------------------------------------------------------- media */

GstPadProbeReturn
count_video (GstPad *, GstPadProbeInfo * info, gpointer data)
{
  auto *v = static_cast<Viewer *> (data);
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (buf && gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp)) {
    v->video_packets++;
    if (gst_rtp_buffer_get_marker (&rtp))
      v->frames++;
    gst_rtp_buffer_unmap (&rtp);
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn
count_audio (GstPad *, GstPadProbeInfo *, gpointer data)
{
  static_cast<Viewer *> (data)->audio_packets++;
  return GST_PAD_PROBE_OK;
}

/* ---------------------------------------------------------------- --drop-rtp */

void
note_video_pts (Viewer * v, const GstSDPMessage * sdp)
{
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);
    if (g_strcmp0 (gst_sdp_media_get_media (m), "video") != 0)
      continue;
    for (guint f = 0; f < gst_sdp_media_formats_len (m); f++) {
      int pt = atoi (gst_sdp_media_get_format (m, f));
      if (pt >= 0 && pt < 128)
        v->video_pts[pt / 64] |= G_GUINT64_CONSTANT (1) << (pt % 64);
    }
  }
}

/* nicesrc's thread: RTP counted and dropped; RTCP (RFC 5761: payload
 * types 64 to 95 with the marker bit), DTLS and STUN (RFC 7983: first
 * byte outside 128..191) go on */
GstPadProbeReturn
count_and_drop_rtp (GstPad *, GstPadProbeInfo * info, gpointer data)
{
  auto *v = static_cast<Viewer *> (data);
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  guint8 head[2];
  if (!buf || gst_buffer_extract (buf, 0, head, 2) != 2 || head[0] < 128 || head[0] > 191)
    return GST_PAD_PROBE_OK;
  guint pt = head[1] & 0x7f;
  if (pt >= 64 && pt <= 95)
    return GST_PAD_PROBE_OK;
  if (v->video_pts[pt / 64] & (G_GUINT64_CONSTANT (1) << (pt % 64))) {
    v->video_packets++;
    if (head[1] & 0x80)
      v->frames++;
  } else {
    v->audio_packets++;
  }
  return GST_PAD_PROBE_DROP;
}

/* any thread, once the remote description is applied (the transports
 * exist): the probe on every nicesrc of the viewer's webrtcbin */
void
drop_rtp_at_socket (Viewer * v)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (v->webrtc));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    auto *e = GST_ELEMENT (g_value_get_object (&item));
    GstElementFactory *f = gst_element_get_factory (e);
    if (f && g_str_equal (GST_OBJECT_NAME (f), "nicesrc")
        && !g_object_get_data (G_OBJECT (e), "whep-load-probe")) {
      g_object_set_data (G_OBJECT (e), "whep-load-probe", GINT_TO_POINTER (1));
      GstPad *pad = gst_element_get_static_pad (e, "src");
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_and_drop_rtp, v, nullptr);
      gst_object_unref (pad);
    }
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
}

/* RTCP about every second, as a browser sends it (see kRtcpIntervalMs) */
void
set_rtcp_interval (GstElement * webrtc)
{
  GstElement *rtpbin = gst_bin_get_by_name (GST_BIN (webrtc), "rtpbin");
  if (!rtpbin)
    return;
  GObject *session = nullptr;
  g_signal_emit_by_name (rtpbin, "get-internal-session", 0u, &session);
  if (session) {
    g_object_set (session, "rtcp-min-interval", kRtcpIntervalMs * GST_MSECOND, nullptr);
    g_object_unref (session);
  }
  gst_object_unref (rtpbin);
}

/* webrtcbin's streaming thread: a track's RTP has come */
void
on_pad_added (GstElement * webrtc, GstPad * pad, gpointer data)
{
  auto *v = static_cast<Viewer *> (data);
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, nullptr);
  const gchar *media = caps && !gst_caps_is_empty (caps)
      ? gst_structure_get_string (gst_caps_get_structure (caps, 0), "media") : nullptr;
  bool video = g_strcmp0 (media, "video") == 0;
  if (caps)
    gst_caps_unref (caps);

  GstElement *sink = gst_element_factory_make ("fakesink", nullptr);
  g_object_set (sink, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add (GST_BIN (v->pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  GstPad *sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, video ? count_video : count_audio, v, nullptr);
  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK)
    fail (v, "could not link a track to its sink");
  gst_object_unref (sinkpad);
  set_rtcp_interval (webrtc);
}

/* webrtcbin's threads */
void
on_connection_state (GstElement * webrtc, GParamSpec *, gpointer data)
{
  auto *v = static_cast<Viewer *> (data);
  GstWebRTCPeerConnectionState state;
  g_object_get (webrtc, "connection-state", &state, nullptr);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
    int answered = (int) Phase::answered;
    v->phase.compare_exchange_strong (answered, (int) Phase::connected);
  } else if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) {
    fail (v, "the connection failed");
  }
}

/* ---------------------------------------------------------------- signalling */

void
on_answer_applied (GstPromise * promise, gpointer data)
{
  auto *v = static_cast<Viewer *> (data);
  bool replied = gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED;
  const GstStructure *reply = replied ? gst_promise_get_reply (promise) : nullptr;
  if (!replied || (reply && gst_structure_has_field (reply, "error"))) {
    fail (v, "webrtcbin refused the answer");
  } else {
    if (app.drop_rtp)
      drop_rtp_at_socket (v);
    int offered = (int) Phase::offered;
    v->phase.compare_exchange_strong (offered, (int) Phase::answered);
    /* a connection that came up before the answer was noted */
    on_connection_state (v->webrtc, nullptr, v);
  }
  gst_promise_unref (promise);
}

/* main context: the POST's answer */
void
on_post_done (GObject * source, GAsyncResult * result, gpointer data)
{
  auto *v = static_cast<Viewer *> (data);
  GError *error = nullptr;
  GBytes *body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  unsigned status = msg ? soup_message_get_status (msg) : 0;
  app.statuses[status]++;
  if (!body) {
    fail (v, std::string ("POST failed: ") + (error ? error->message : "?"));
    g_clear_error (&error);
    return;
  }
  gsize size = 0;
  const char *text = static_cast<const char *> (g_bytes_get_data (body, &size));
  std::string answer (text ? text : "", size);
  g_bytes_unref (body);
  if (status != SOUP_STATUS_CREATED) {
    fail (v, "POST answered " + std::to_string (status) + ": " + answer.substr (0, 200));
    return;
  }
  const char *location = soup_message_headers_get_one (soup_message_get_response_headers (msg),
      "Location");
  if (location) {
    gchar *resolved = g_uri_resolve_relative (app.url.c_str (), location, G_URI_FLAGS_NONE, nullptr);
    if (resolved)
      v->session_url = resolved;
    g_free (resolved);
  }
  GstSDPMessage *sdp = nullptr;
  if (gst_sdp_message_new_from_text (answer.c_str (), &sdp) != GST_SDP_OK) {
    if (sdp)
      gst_sdp_message_free (sdp);
    fail (v, "the answer is not SDP");
    return;
  }
  note_video_pts (v, sdp);
  GstWebRTCSessionDescription *desc =
      gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  g_signal_emit_by_name (v->webrtc, "set-remote-description", desc,
      gst_promise_new_with_change_func (on_answer_applied, v, nullptr));
  gst_webrtc_session_description_free (desc);
}

void janus_send_answer (Viewer * v, const std::string & sdp);

/* main context: WHEP's POST of the offer */
void
whep_post_offer (Viewer * v, const std::string & sdp)
{
  SoupMessage *msg = soup_message_new ("POST", app.url.c_str ());
  GBytes *body = g_bytes_new (sdp.data (), sdp.size ());
  soup_message_set_request_body_from_bytes (msg, "application/sdp", body);
  g_bytes_unref (body);
  if (!app.token.empty ())
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
        ("Bearer " + app.token).c_str ());
  v->phase = (int) Phase::offered;
  soup_session_send_and_read_async (app.http, msg, G_PRIORITY_DEFAULT, nullptr, on_post_done, v);
  g_object_unref (msg);
}

/* main context: the local description (WHEP: the offer; Janus: the
 * answer) with the candidates gathered so far, once */
gboolean
send_local_description (gpointer data)
{
  auto *v = static_cast<Viewer *> (data);
  if (v->posted.exchange (true) || app.stopping)
    return G_SOURCE_REMOVE;
  GstWebRTCSessionDescription *local = nullptr;
  g_object_get (v->webrtc, "local-description", &local, nullptr);
  if (!local) {
    fail (v, "no local description");
    return G_SOURCE_REMOVE;
  }
  gchar *text = gst_sdp_message_as_text (local->sdp);
  std::string sdp = text;
  g_free (text);
  gst_webrtc_session_description_free (local);
  if (app.janus)
    janus_send_answer (v, sdp);
  else
    whep_post_offer (v, sdp);
  return G_SOURCE_REMOVE;
}

/* webrtcbin's threads: gathering done, post now rather than at the time-out */
void
on_gathering_state (GstElement * webrtc, GParamSpec *, gpointer data)
{
  GstWebRTCICEGatheringState state;
  g_object_get (webrtc, "ice-gathering-state", &state, nullptr);
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    g_main_context_invoke (nullptr, send_local_description, data);
}

/* webrtcbin's thread: our offer (WHEP) or answer (Janus) is made; set
 * it, then wait for the candidates (on_gathering_state, or the time-out) */
void
on_description_created (GstPromise * promise, gpointer data)
{
  auto *v = static_cast<Viewer *> (data);
  const char *kind = app.janus ? "answer" : "offer";
  GstWebRTCSessionDescription *desc = nullptr;
  bool replied = gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED;
  const GstStructure *reply = replied ? gst_promise_get_reply (promise) : nullptr;
  if (reply)
    gst_structure_get (reply, kind, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, nullptr);
  gst_promise_unref (promise);
  if (!desc) {
    fail (v, std::string ("webrtcbin made no ") + kind);
    return;
  }
  g_signal_emit_by_name (v->webrtc, "set-local-description", desc, nullptr);
  gst_webrtc_session_description_free (desc);
  g_timeout_add (kGatherTimeoutMs, send_local_description, v);
}

/* ---------------------------------------------------------------- Janus */

void janus_poll (Viewer * v);

/* a Janus API request: {"janus": verb, "transaction", ...fields} */
void
janus_request (Viewer * v, const std::string & url, const char *verb, JsonObject * fields,
    GAsyncReadyCallback done)
{
  JsonObject *o = fields ? json_object_ref (fields) : json_object_new ();
  json_object_set_string_member (o, "janus", verb);
  json_object_set_string_member (o, "transaction", verb);
  JsonNode *node = json_node_init_object (json_node_alloc (), o);
  gchar *text = json_to_string (node, FALSE);
  json_node_unref (node);
  json_object_unref (o);
  SoupMessage *msg = soup_message_new ("POST", url.c_str ());
  GBytes *body = g_bytes_new_take (text, strlen (text));
  soup_message_set_request_body_from_bytes (msg, "application/json", body);
  g_bytes_unref (body);
  soup_session_send_and_read_async (app.http, msg, G_PRIORITY_DEFAULT, nullptr, done, v);
  g_object_unref (msg);
}

/* a Janus answer as a JSON object (a new reference), or nullptr and v failed */
JsonObject *
janus_reply (Viewer * v, GObject * source, GAsyncResult * result, const char *what)
{
  GError *error = nullptr;
  GBytes *body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  if (!body) {
    fail (v, std::string ("Janus ") + what + ": " + (error ? error->message : "?"));
    g_clear_error (&error);
    return nullptr;
  }
  gsize size = 0;
  const char *data = static_cast<const char *> (g_bytes_get_data (body, &size));
  std::string text (data ? data : "", size);
  g_bytes_unref (body);
  JsonNode *node = json_from_string (text.c_str (), nullptr);
  JsonObject *o = node && JSON_NODE_HOLDS_OBJECT (node) ? json_object_ref (json_node_get_object (node))
      : nullptr;
  if (node)
    json_node_unref (node);
  if (!o || json_object_has_member (o, "error")) {
    fail (v, std::string ("Janus ") + what + " refused: " + text.substr (0, 200));
    if (o)
      json_object_unref (o);
    return nullptr;
  }
  return o;
}

std::string
janus_id (JsonObject * o)
{
  JsonObject *data = json_object_get_object_member (o, "data");
  return data && json_object_has_member (data, "id")
      ? std::to_string (json_object_get_int_member (data, "id")) : "";
}

void
on_janus_started (GObject * source, GAsyncResult * result, gpointer data)
{
  auto *v = static_cast<Viewer *> (data);
  JsonObject *o = janus_reply (v, source, result, "start");
  if (!o)
    return;
  app.statuses[200]++;
  int offered = (int) Phase::offered;
  if (v->phase.compare_exchange_strong (offered, (int) Phase::answered))
    on_connection_state (v->webrtc, nullptr, v);
  json_object_unref (o);
}

void
janus_send_answer (Viewer * v, const std::string & sdp)
{
  JsonObject *fields = json_object_new ();
  JsonObject *body = json_object_new ();
  json_object_set_string_member (body, "request", "start");
  json_object_set_object_member (fields, "body", body);
  JsonObject *jsep = json_object_new ();
  json_object_set_string_member (jsep, "type", "answer");
  json_object_set_string_member (jsep, "sdp", sdp.c_str ());
  json_object_set_object_member (fields, "jsep", jsep);
  v->phase = (int) Phase::offered;
  janus_request (v, v->janus_handle, "message", fields, on_janus_started);
  json_object_unref (fields);
}

/* webrtcbin's thread: Janus's offer is set; answer it */
void
on_janus_offer_set (GstPromise * promise, gpointer data)
{
  auto *v = static_cast<Viewer *> (data);
  bool replied = gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED;
  const GstStructure *reply = replied ? gst_promise_get_reply (promise) : nullptr;
  bool ok = replied && !(reply && gst_structure_has_field (reply, "error"));
  gst_promise_unref (promise);
  if (!ok) {
    fail (v, "webrtcbin refused Janus's offer");
    return;
  }
  if (app.drop_rtp)
    drop_rtp_at_socket (v);
  g_signal_emit_by_name (v->webrtc, "create-answer", nullptr,
      gst_promise_new_with_change_func (on_description_created, v, nullptr));
}

/* the session's events (long poll): the one with Janus's offer */
void
on_janus_event (GObject * source, GAsyncResult * result, gpointer data)
{
  auto *v = static_cast<Viewer *> (data);
  JsonObject *o = janus_reply (v, source, result, "event");
  if (!o)
    return;
  JsonObject *jsep = json_object_has_member (o, "jsep") ? json_object_get_object_member (o, "jsep")
      : nullptr;
  const char *sdp_text = jsep && json_object_has_member (jsep, "sdp")
      ? json_object_get_string_member (jsep, "sdp") : nullptr;
  if (!sdp_text) {                     /* an ack, a keepalive: poll on */
    json_object_unref (o);
    janus_poll (v);
    return;
  }
  GstSDPMessage *sdp = nullptr;
  if (gst_sdp_message_new_from_text (sdp_text, &sdp) != GST_SDP_OK) {
    if (sdp)
      gst_sdp_message_free (sdp);
    json_object_unref (o);
    fail (v, "Janus's offer is not SDP");
    return;
  }
  json_object_unref (o);
  note_video_pts (v, sdp);
  GstWebRTCSessionDescription *desc =
      gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  g_signal_emit_by_name (v->webrtc, "set-remote-description", desc,
      gst_promise_new_with_change_func (on_janus_offer_set, v, nullptr));
  gst_webrtc_session_description_free (desc);
}

void
janus_poll (Viewer * v)
{
  if (app.stopping)
    return;
  SoupMessage *msg = soup_message_new ("GET", (v->session_url + "?maxev=1").c_str ());
  soup_session_send_and_read_async (app.http, msg, G_PRIORITY_DEFAULT, nullptr, on_janus_event, v);
  g_object_unref (msg);
}

void
on_janus_watching (GObject * source, GAsyncResult * result, gpointer data)
{
  auto *v = static_cast<Viewer *> (data);
  if (JsonObject *o = janus_reply (v, source, result, "watch")) {
    json_object_unref (o);
    janus_poll (v);
  }
}

void
on_janus_attached (GObject * source, GAsyncResult * result, gpointer data)
{
  auto *v = static_cast<Viewer *> (data);
  JsonObject *o = janus_reply (v, source, result, "attach");
  if (!o)
    return;
  v->janus_handle = v->session_url + "/" + janus_id (o);
  json_object_unref (o);
  JsonObject *fields = json_object_new ();
  JsonObject *body = json_object_new ();
  json_object_set_string_member (body, "request", "watch");
  json_object_set_int_member (body, "id", 1);
  json_object_set_object_member (fields, "body", body);
  janus_request (v, v->janus_handle, "message", fields, on_janus_watching);
  json_object_unref (fields);
}

void
on_janus_created (GObject * source, GAsyncResult * result, gpointer data)
{
  auto *v = static_cast<Viewer *> (data);
  JsonObject *o = janus_reply (v, source, result, "create");
  if (!o)
    return;
  v->session_url = app.url + "/" + janus_id (o);
  json_object_unref (o);
  JsonObject *fields = json_object_new ();
  json_object_set_string_member (fields, "plugin", "janus.plugin.streaming");
  janus_request (v, v->session_url, "attach", fields, on_janus_attached);
  json_object_unref (fields);
}

void
add_transceiver (GstElement * webrtc, const char *caps_text)
{
  GstCaps *caps = gst_caps_from_string (caps_text);
  GstWebRTCRTPTransceiver *t = nullptr;
  g_signal_emit_by_name (webrtc, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY,
      caps, &t);
  gst_caps_unref (caps);
  if (t)
    gst_object_unref (t);
}

/* main context: one more viewer, until there are app.viewers */
gboolean
start_next_viewer (gpointer)
{
  if (app.stopping || (int) app.list.size () >= app.viewers)
    return G_SOURCE_REMOVE;
  auto v = std::make_unique<Viewer> ();
  v->index = (int) app.list.size ();
  v->pipeline = gst_pipeline_new (nullptr);
  v->webrtc = gst_element_factory_make ("webrtcbin", nullptr);
  Viewer *raw = v.get ();
  app.list.push_back (std::move (v));
  if (!raw->webrtc) {
    fail (raw, "no webrtcbin (gstreamer1.0-plugins-bad, gstreamer1.0-nice)");
    return G_SOURCE_CONTINUE;
  }
  g_object_set (raw->webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, nullptr);
  gst_bin_add (GST_BIN (raw->pipeline), raw->webrtc);
  if (!app.janus) {                    /* Janus offers: its m-lines make ours */
    add_transceiver (raw->webrtc, kVideoCaps);
    add_transceiver (raw->webrtc, kAudioCaps);
  }
  g_signal_connect (raw->webrtc, "pad-added", G_CALLBACK (on_pad_added), raw);
  g_signal_connect (raw->webrtc, "notify::connection-state", G_CALLBACK (on_connection_state), raw);
  g_signal_connect (raw->webrtc, "notify::ice-gathering-state", G_CALLBACK (on_gathering_state), raw);
  if (gst_element_set_state (raw->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    fail (raw, "the pipeline did not start");
    return G_SOURCE_CONTINUE;
  }
  if (app.janus)
    janus_request (raw, app.url, "create", nullptr, on_janus_created);
  else
    g_signal_emit_by_name (raw->webrtc, "create-offer", nullptr,
        gst_promise_new_with_change_func (on_description_created, raw, nullptr));
  return (int) app.list.size () < app.viewers ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* ---------------------------------------------------------------- report, stop */

void
append_counts (std::string & out, const char *name, std::atomic<guint64> Viewer::*field)
{
  out += ",\"";
  out += name;
  out += "\":[";
  for (size_t i = 0; i < app.list.size (); i++) {
    if (i)
      out += ",";
    out += std::to_string ((app.list[i].get ()->*field).load ());
  }
  out += "]";
}

gboolean
print_counts (gpointer)
{
  int phases[5] = { 0, 0, 0, 0, 0 };
  for (auto & v : app.list)
    phases[v->phase.load ()]++;
  std::string out = "{\"t\":" + std::to_string ((g_get_monotonic_time () - app.started_at) / 1e6)
      + ",\"viewers\":" + std::to_string (app.viewers)
      + ",\"started\":" + std::to_string (app.list.size ())
      + ",\"answered\":" + std::to_string (phases[(int) Phase::answered] + phases[(int) Phase::connected])
      + ",\"connected\":" + std::to_string (phases[(int) Phase::connected])
      + ",\"failed\":" + std::to_string (phases[(int) Phase::failed]) + ",\"statuses\":{";
  bool first = true;
  for (auto &[status, n] : app.statuses) {
    out += (first ? "\"" : ",\"") + std::to_string (status) + "\":" + std::to_string (n);
    first = false;
  }
  out += "}";
  append_counts (out, "frames", &Viewer::frames);
  append_counts (out, "video_packets", &Viewer::video_packets);
  append_counts (out, "audio_packets", &Viewer::audio_packets);
  out += "}\n";
  fputs (out.c_str (), stdout);
  fflush (stdout);
  return G_SOURCE_CONTINUE;
}

void
on_delete_done (GObject * source, GAsyncResult * result, gpointer)
{
  GBytes *body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, nullptr);
  if (body)
    g_bytes_unref (body);
  if (--app.deletes_pending == 0)
    g_main_loop_quit (app.loop);
}

gboolean
quit_now (gpointer)
{
  g_main_loop_quit (app.loop);
  return G_SOURCE_REMOVE;
}

gboolean
stop (gpointer)
{
  if (app.stopping)
    return G_SOURCE_CONTINUE;
  app.stopping = true;
  for (auto & v : app.list) {
    if (v->session_url.empty ())
      continue;
    app.deletes_pending++;
    if (app.janus) {
      janus_request (v.get (), v->session_url, "destroy", nullptr, on_delete_done);
      continue;
    }
    SoupMessage *msg = soup_message_new ("DELETE", v->session_url.c_str ());
    if (!app.token.empty ())
      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
          ("Bearer " + app.token).c_str ());
    soup_session_send_and_read_async (app.http, msg, G_PRIORITY_DEFAULT, nullptr, on_delete_done,
        nullptr);
    g_object_unref (msg);
  }
  if (app.deletes_pending == 0)
    g_main_loop_quit (app.loop);
  else
    g_timeout_add (kDeleteTimeoutMs, quit_now, nullptr);
  return G_SOURCE_CONTINUE;
}

[[noreturn]] void
usage (const char *why)
{
  g_printerr ("whep_load: %s\nusage: whep_load {--url WHEP_URL | --janus JANUS_API_URL} --viewers N "
      "[--spread-ms MS] [--seconds S] [--drop-rtp]\n", why);
  exit (2);
}

}  // namespace

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--drop-rtp") {
      app.drop_rtp = true;
      continue;
    }
    if (i + 1 >= argc)
      usage (("no value for " + a).c_str ());
    const char *value = argv[++i];
    if (a == "--url") {
      app.url = value;
    } else if (a == "--janus") {
      app.url = value;
      app.janus = true;
    } else if (a == "--viewers")
      app.viewers = atoi (value);
    else if (a == "--spread-ms")
      app.spread_ms = (guint) atoi (value);
    else if (a == "--seconds")
      app.seconds = (guint) atoi (value);
    else
      usage (("unknown option " + a).c_str ());
  }
  if (app.url.empty () || app.viewers <= 0 || app.viewers > 10000 || app.seconds == 0)
    usage ("--url and --viewers (1 to 10000) are needed");
  GUri *uri = g_uri_parse (app.url.c_str (), G_URI_FLAGS_NONE, nullptr);
  if (!uri)
    usage ("--url is not a URL");
  g_uri_unref (uri);
  if (const char *token = g_getenv ("WHEP_TOKEN"))
    app.token = token;

  /* every POST at once if need be: the server answers each after its ICE
   * gathering, and a viewer must not wait behind another's */
  app.http = soup_session_new_with_options ("max-conns", app.viewers + 8,
      "max-conns-per-host", app.viewers + 8, "timeout", 30u, nullptr);
  app.loop = g_main_loop_new (nullptr, FALSE);
  app.started_at = g_get_monotonic_time ();
  g_unix_signal_add (SIGINT, stop, nullptr);
  g_unix_signal_add (SIGTERM, stop, nullptr);
  g_timeout_add_seconds (app.seconds, stop, nullptr);
  g_timeout_add (1000, print_counts, nullptr);
  if (start_next_viewer (nullptr) == G_SOURCE_CONTINUE)
    g_timeout_add (std::max (app.spread_ms, 1u), start_next_viewer, nullptr);
  g_main_loop_run (app.loop);

  print_counts (nullptr);
  for (auto & v : app.list) {
    gst_element_set_state (v->pipeline, GST_STATE_NULL);
    gst_object_unref (v->pipeline);
  }
  g_main_loop_unref (app.loop);
  g_object_unref (app.http);
  return 0;
}
