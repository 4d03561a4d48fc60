#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_VIEWER_STATS (gst_viewer_stats_get_type ())
G_DECLARE_FINAL_TYPE (GstViewerStats, gst_viewer_stats, GST, VIEWER_STATS, GstBaseTransform)

G_END_DECLS
