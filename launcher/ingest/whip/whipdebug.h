/* castline-launcher: the WHIP ingest's debug category, "castline-whip", as
 * GST_CAT_DEFAULT of its .cpp files. whipingest.cpp defines it and the
 * first WhipIngest registers it, before any code that logs can run. */
#pragma once

#include <gst/gst.h>

GST_DEBUG_CATEGORY_EXTERN (castline_whip_debug);
#define GST_CAT_DEFAULT castline_whip_debug
