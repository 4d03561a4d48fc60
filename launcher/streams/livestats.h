/* castline-launcher: what a live stream's `stats` holds in the API and
 * the event streams: each branch's viewerstats ("video", "audio") and,
 * when its ingest measures one, the publisher's link under the ingest's
 * name for it ("srt": Ingest::link_stats) and, with S3 output, s3hlssink's
 * upload stats ("s3"). Main context. */
#pragma once

#include "streams/livestream.h"

#include <gst/gst.h>

namespace castline::launcher {

/* a new structure; empty before any stats came */
GstStructure *live_stats (const LiveStream & ls);

}  // namespace castline::launcher
