/* castline: every element the castline plugin registers. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

GST_ELEMENT_REGISTER_DECLARE (keyframegate);
GST_ELEMENT_REGISTER_DECLARE (llhlssink);
GST_ELEMENT_REGISTER_DECLARE (rtmpserversrc);
GST_ELEMENT_REGISTER_DECLARE (s3hlssink);
GST_ELEMENT_REGISTER_DECLARE (s3sink);
GST_ELEMENT_REGISTER_DECLARE (srtingestsrc);
GST_ELEMENT_REGISTER_DECLARE (viewerstats);
GST_ELEMENT_REGISTER_DECLARE (webmwssrc);

G_END_DECLS
