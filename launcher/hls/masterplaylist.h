/* castline-launcher: where an abr stream's master playlist goes, once its
 * rungs are known (AbrBuilder renders it): next to the rungs' folders in
 * the stream's directory, or uploaded to <key_prefix><id>/index.m3u8.
 * Main context: the local write is a few hundred bytes, the upload is
 * asynchronous. */
#pragma once

#include "hls/hlsoutputs.h"

#include <string>

namespace castline::launcher {

void publish_master_playlist (const OutputSettings & out, const std::string & stream_id,
    const std::string & text);

}  // namespace castline::launcher
