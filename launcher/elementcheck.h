/* castline-launcher: at start (and with --check), whether every GStreamer
 * element the daemon's own parts make at run time is installed: the HLS
 * sink of the configured output, the WHIP, WebSocket and RTMP ingests,
 * WebRTC playback (WHEP) and the MP4 remux of recordings (record_mp4). The pipeline descriptions and the
 * abr ladder are checked by the catalog as they load.
 *
 * A missing element does not stop the daemon: an ingest or the HLS output
 * that needs it fails each stream that uses it, with a reason naming the
 * element (streams/elementfactory.h), and the other streams go on; RTMP
 * and WHEP stay off, recordings get no MP4. */
#pragma once

#include "config/config.h"

#include <string>
#include <vector>

namespace castline::launcher {

/* One sentence per part that lacks elements, with what that does: "the
 * WebSocket ingest: missing GStreamer element 'webmwssrc' (...); its
 * streams will fail"; empty when all are there. */
std::vector<std::string> check_daemon_elements (const Config & config);

}  // namespace castline::launcher
