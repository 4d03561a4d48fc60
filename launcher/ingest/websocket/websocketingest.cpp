#include "ingest/websocket/websocketingest.h"

#include "webmws/trackcodecs.h"

namespace castline::launcher {

namespace {

/* RFC 6455 7.4.1: a normal closure, what a publisher that stopped sends */
constexpr guint kWebSocketCloseNormal = 1000;
/* 1003: what the publisher sent cannot be taken */
constexpr guint kWebSocketCloseUnsupportedData = 1003;

}  // namespace

PublisherMedia
media_of_mime_type (const castline::webmws::MimeType & m)
{
  PublisherMedia media;
  g_auto (GStrv) parts = g_strsplit (m.codecs.c_str (), ",", -1);
  for (char **p = parts; *p; p++) {
    std::string c = *p;
    std::string name = castline::webmws::codec_of_mime_codec (c);
    if (name == "opus" || name == "aac" || name == "vorbis")
      media.audio_codecs.push_back (name);
    else if (!name.empty ())
      media.video_codecs.push_back (name);
    else if (!c.empty ())
      media.video_codecs.push_back (c);     /* unknown: no pipeline will take it */
  }
  if (m.codecs.empty () && g_str_has_prefix (m.media_type.c_str (), "audio/"))
    media.audio_codecs.push_back ("opus");
  return media;
}

WebSocketIngest::WebSocketIngest (PublisherMedia media, unsigned idle_timeout_s)
    : media_ (std::move (media)), idle_timeout_s_ (idle_timeout_s)
{
}

bool
WebSocketIngest::attach (StreamPipeline & pipeline, const std::string &, const std::string &,
    Hooks hooks, std::string & error)
{
  if (!parts_.attach (pipeline, "webmwssrc", "matroskademux", idle_timeout_s_, std::move (hooks),
          error))
    return false;
  pipeline.add_element_message_handler ([this] (GstMessage * msg) { on_message (msg); });
  pipeline.add_problem_handler ([this] (GstMessage * msg) { return on_problem (msg); });
  return true;
}

void
WebSocketIngest::add_connection (http::WebSocket * connection, const std::string & mime_type,
    GBytes * first_bytes)
{
  gboolean ok = FALSE;
  g_signal_emit_by_name (parts_.source (), "add-connection-full", connection,
      mime_type.empty () ? nullptr : mime_type.c_str (), first_bytes, &ok);
}

/* webmwssrc's: 1000 is a publisher that stopped (stop-stream, or its own
 * normal close); any other code, one that went away (lost, closed with
 * 1001 going away, idle, or cut off by us) */
void
WebSocketIngest::on_message (GstMessage * msg)
{
  const GstStructure *s = gst_message_get_structure (msg);
  guint code = 0;
  if (GST_MESSAGE_SRC (msg) != GST_OBJECT (parts_.source ()) || !s
      || !gst_structure_has_name (s, "webmwssrc-publisher-disconnected")
      || !gst_structure_get_uint (s, "close-code", &code) || code == kWebSocketCloseNormal)
    return;
  const char *why = gst_structure_get_string (s, "reason");
  parts_.lose ("the publisher's WebSocket closed with " + std::to_string (code)
      + (why && *why ? std::string (" (") + why + ")" : std::string ()), true);
}

/* A warning of webmwssrc with a close code: it closed the publisher (a
 * message over max-message-size, idle, cut off) and ends its media; it
 * comes before that end, so the stream is interrupted, not ended. An
 * error of webmwssrc or the demuxer (garbage in the recording, and then
 * the source's own flow error): the publisher is closed with 1003 and
 * lost, the stream finalized as it is. */
bool
WebSocketIngest::on_problem (GstMessage * msg)
{
  GstObject *from = GST_MESSAGE_SRC (msg);
  if (!parts_.posted (msg))
    return false;
  g_autoptr (GError) e = nullptr;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
    const GstStructure *details = nullptr;
    guint code = 0;
    gst_message_parse_warning (msg, &e, nullptr);
    gst_message_parse_warning_details (msg, &details);
    if (from == GST_OBJECT (parts_.source ()) && details
        && gst_structure_get_uint (details, "close-code", &code) && code != kWebSocketCloseNormal)
      parts_.lose ("the publisher's WebSocket closed with " + std::to_string (code) + " ("
          + (e ? e->message : "") + ")", true);
    return false;
  }
  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ERROR)
    return false;
  gst_message_parse_error (msg, &e, nullptr);
  std::string what = e ? e->message : "unknown error";
  if (!parts_.lost ()) {
    std::string reason = "the recording cannot be read: " + what;
    g_signal_emit_by_name (parts_.source (), "end-publisher",
        (guint) kWebSocketCloseUnsupportedData, reason.c_str ());
    parts_.lose (reason + " (closed with 1003)", false);
  }
  return true;
}

}  // namespace castline::launcher
