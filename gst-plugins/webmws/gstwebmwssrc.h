#pragma once

#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

#define GST_TYPE_WEBM_WS_SRC (gst_webm_ws_src_get_type ())
G_DECLARE_FINAL_TYPE (GstWebmWsSrc, gst_webm_ws_src, GST, WEBM_WS_SRC, GstPushSrc)

G_END_DECLS
