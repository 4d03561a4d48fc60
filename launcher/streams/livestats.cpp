#include "streams/livestats.h"

namespace castline::launcher {

GstStructure *
live_stats (const LiveStream & ls)
{
  GstStructure *stats = ls.pipeline->stats ();
  g_autoptr (GstStructure) link = ls.ingest ? ls.ingest->link_stats () : nullptr;
  /* no caller yet (an empty structure): nothing to show */
  if (link && gst_structure_n_fields (link) > 0)
    gst_structure_set (stats, gst_structure_get_name (link), GST_TYPE_STRUCTURE, link, nullptr);
  /* S3 output: how its uploads are doing (outage, pending, lag) */
  g_autoptr (GstStructure) out = ls.pipeline->output_stats ();
  if (out && gst_structure_has_name (out, "s3hlssink-stats"))
    gst_structure_set (stats, "s3", GST_TYPE_STRUCTURE, out, nullptr);
  return stats;
}

}  // namespace castline::launcher
