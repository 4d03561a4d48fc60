#include "ingest/rtmp/rtmpingest.h"

#include <cstring>
#include <utility>

namespace castline::launcher {

namespace {

/* rtmpserversrc's disconnected reasons that lose the publisher (not a stop) */
bool
is_lost (const char *reason)
{
  for (const char *r : { "closed", "timeout", "protocol-error" })
    if (reason && strcmp (reason, r) == 0)
      return true;
  return false;
}

}  // namespace

RtmpIngest::RtmpIngest (PublisherMedia media, bool tls, unsigned idle_timeout_s)
    : media_ (std::move (media)), tls_ (tls), idle_timeout_s_ (idle_timeout_s)
{
}

bool
RtmpIngest::attach (StreamPipeline & pipeline, const std::string &, const std::string &,
    Hooks hooks, std::string & error)
{
  if (!parts_.attach (pipeline, "rtmpserversrc", "flvdemux", idle_timeout_s_, std::move (hooks),
          error))
    return false;
  pipeline.add_element_message_handler ([this] (GstMessage * msg) { on_message (msg); });
  pipeline.add_problem_handler ([this] (GstMessage * msg) { return on_problem (msg); });
  return true;
}

bool
RtmpIngest::add_connection (castline::rtmp::Publisher && publisher)
{
  /* the element takes refs of its own; the connection leaves the
   * Publisher, which would close it */
  castline::rtmp::Publisher p = std::move (publisher);
  GIOStream *connection = std::exchange (p.connection, nullptr);
  gboolean ok = FALSE;
  g_signal_emit_by_name (parts_.source (), "add-connection", connection, p.replay,
      p.request.remote_address.c_str (), &ok);
  if (!ok)
    g_io_stream_close_async (connection, G_PRIORITY_DEFAULT, nullptr, nullptr, nullptr);
  g_object_unref (connection);
  return ok;
}

void
RtmpIngest::on_message (GstMessage * msg)
{
  const GstStructure *s = gst_message_get_structure (msg);
  if (GST_MESSAGE_SRC (msg) != GST_OBJECT (parts_.source ()) || !s
      || !gst_structure_has_name (s, "rtmpserversrc-publisher-disconnected"))
    return;
  const char *reason = gst_structure_get_string (s, "reason");
  if (!is_lost (reason))
    return;
  const char *description = gst_structure_get_string (s, "description");
  parts_.lose (std::string ("the RTMP publisher was lost (") + reason + ")"
      + (description && *description ? std::string (": ") + description : std::string ()),
      true);
}

/* An error of the demuxer (tags it cannot read) or of rtmpserversrc: the
 * publisher is closed and lost, the stream finalized as it is. The
 * element's warnings (a lost publisher) are left to on_message. */
bool
RtmpIngest::on_problem (GstMessage * msg)
{
  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ERROR || !parts_.posted (msg))
    return false;
  g_autoptr (GError) e = nullptr;
  gst_message_parse_error (msg, &e, nullptr);
  if (!parts_.lost ()) {
    std::string reason = std::string ("the RTMP stream cannot be read: ")
        + (e ? e->message : "unknown error");
    g_signal_emit_by_name (parts_.source (), "end-publisher", reason.c_str ());
    parts_.lose (reason, false);
  }
  return true;
}

}  // namespace castline::launcher
