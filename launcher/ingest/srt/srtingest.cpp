#include "ingest/srt/srtingest.h"

#include <utility>

namespace castline::launcher {

SrtIngest::SrtIngest (PublisherMedia media, unsigned idle_timeout_s)
    : media_ (std::move (media)), idle_timeout_s_ (idle_timeout_s)
{
}

bool
SrtIngest::attach (StreamPipeline & pipeline, const std::string &, const std::string &,
    Hooks hooks, std::string & error)
{
  if (!parts_.attach (pipeline, "srtingestsrc", "tsdemux", idle_timeout_s_, std::move (hooks),
          error))
    return false;
  /* every end but "ended" (end-caller, ours) loses the caller: SRT has
   * no unpublish; an error of tsdemux closes the caller */
  parts_.watch_ends (pipeline, { "srtserversrc-caller-disconnected",
        { "closed", "timeout", "not-ts" }, "SRT caller", "end-caller", "SRT stream" });
  return true;
}

bool
SrtIngest::add_caller (castline::srt::Caller && caller)
{
  /* the socket goes to the element only when it takes it; else it stays
   * in the Caller, which closes it */
  castline::srt::Caller c = std::move (caller);
  gboolean ok = FALSE;
  g_signal_emit_by_name (parts_.source (), "add-caller", (gint) c.socket.get (), c.replay,
      c.request.remote_address.c_str (), &ok);
  if (ok)
    c.socket.release ();
  return ok;
}

GstStructure *
SrtIngest::link_stats () const
{
  GstStructure *stats = nullptr;
  g_object_get (parts_.source (), "stats", &stats, nullptr);
  if (!stats)
    return gst_structure_new_empty ("srt");
  gst_structure_set_name (stats, "srt");
  /* the stats are shown in the public status too: the link, not who */
  gst_structure_remove_field (stats, "remote-address");
  return stats;
}

}  // namespace castline::launcher
