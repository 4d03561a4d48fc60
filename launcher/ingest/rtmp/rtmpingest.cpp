#include "ingest/rtmp/rtmpingest.h"

#include <utility>

namespace castline::launcher {

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
  parts_.lose_on_message (msg, "rtmpserversrc-publisher-disconnected",
      { "closed", "timeout", "protocol-error" }, "RTMP publisher");
}

/* An error of the demuxer (tags it cannot read) or of rtmpserversrc: the
 * publisher is closed and lost, the stream finalized as it is. The
 * element's warnings (a lost publisher) are left to on_message. */
bool
RtmpIngest::on_problem (GstMessage * msg)
{
  return parts_.lose_on_error (msg, "end-publisher", "RTMP stream");
}

}  // namespace castline::launcher
