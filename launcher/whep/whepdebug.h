/* castline-launcher: the WHEP viewers' debug category, "castline-whep", as
 * GST_CAT_DEFAULT of whepviewer's .cpp files. whepviewer.cpp defines it;
 * the first WhepViewer registers it. */
#pragma once

#include <gst/gst.h>

GST_DEBUG_CATEGORY_EXTERN (castline_whepviewer_debug);
#define GST_CAT_DEFAULT castline_whepviewer_debug
