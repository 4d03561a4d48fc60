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
  /* an error of flvdemux (tags it cannot read) closes the publisher */
  parts_.watch_ends (pipeline, { "rtmpserversrc-publisher-disconnected",
        { "closed", "timeout", "protocol-error" }, "RTMP publisher", "end-publisher",
        "RTMP stream" });
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

}  // namespace castline::launcher
