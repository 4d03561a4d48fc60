#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_S3_HLS_SINK (gst_s3_hls_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstS3HlsSink, gst_s3_hls_sink, GST, S3_HLS_SINK, GstBin)

G_END_DECLS
