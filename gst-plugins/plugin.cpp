/* castline: the GStreamer plugin that registers every castline element. */
#include "castlineelements.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (keyframegate, plugin);
  ret |= GST_ELEMENT_REGISTER (llhlssink, plugin);
  ret |= GST_ELEMENT_REGISTER (rtmpserversrc, plugin);
  ret |= GST_ELEMENT_REGISTER (s3hlssink, plugin);
  ret |= GST_ELEMENT_REGISTER (s3sink, plugin);
  ret |= GST_ELEMENT_REGISTER (srtingestsrc, plugin);
  ret |= GST_ELEMENT_REGISTER (viewerstats, plugin);
  ret |= GST_ELEMENT_REGISTER (webmwssrc, plugin);

  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, castline,
    "castline live-streaming elements: S3 storage for HLS and whole objects, "
    "Low-Latency HLS, "
    "WebM-over-WebSocket, RTMP and SRT ingest, viewer statistics, a keyframe gate "
    "for thumbnails",
    plugin_init, VERSION, "LGPL", "castline", "https://castline.invalid/")
