/* castline-launcher: a live stream's thumbnail, a JPEG of its picture at
 * most every `thumbnails.interval` seconds, made inside its pipeline
 * without a decoder per viewer.
 *
 * A graph that decodes the video (an abr ladder's, a transcoding one's:
 * its `video_raw` tee) gives its decoded pictures; a passthrough graph
 * gets its keyframes decoded, and only those: the branch hangs off the
 * stream's video tap (StreamPipeline::media_tap) when the tap's caps say
 * the codec, parses (h264parse), keeps one key unit per interval
 * (keyframegate, which makes the decoder output it at once) and decodes
 * it (avdec_h264, vp8dec, vp9dec). Both then scale to `thumbnails.width`
 * (the aspect kept), encode JPEG and hand it to a ThumbnailStore.
 *
 * The branch never stalls the stream: it starts with a leaky queue behind
 * a guarded pad (whep/flowguard.h), so a slow or failed branch drops its
 * own buffers, and its elements' errors are taken (logged) rather than
 * failing the stream. A graph without video (audio-only) gets no branch. */
#pragma once

#include "config/config.h"
#include "streams/streampipeline.h"
#include "thumbnail/thumbnailstore.h"

#include <memory>
#include <string>
#include <vector>

namespace castline::launcher {

/* Sets up pipeline's thumbnail branch (now, or at the video tap's first
 * caps), which lives and goes with the pipeline. Main context, before
 * start(). */
void add_thumbnail_branch (StreamPipeline & pipeline, const ThumbnailSettings & settings,
    std::shared_ptr<ThumbnailStore> store);

/* the elements the branch is made of, for --check (a stream without them
 * runs without thumbnails) */
std::vector<std::string> thumbnail_elements ();

}  // namespace castline::launcher
