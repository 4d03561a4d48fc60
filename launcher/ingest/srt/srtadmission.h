/* castline-launcher: what an SRT caller is told, in SRT's reject reasons
 * (SRT_REJX_*, which the caller's libsrt reports: ffmpeg prints it, OBS
 * logs it), from what the stream manager says (the one admission path of
 * every ingest).
 *
 * An SRT caller names no stream id of castline's: its stream id's key is
 * the stream key, so the stream is found from it
 * (StreamManager::find_by_key), then checked as any publisher
 * (check_publisher):
 *   unknown key                         SRT_REJX_UNAUTHORIZED (1401)
 *   ended or failed stream              SRT_REJX_NOTFOUND (1404)
 *   live already                        SRT_REJX_CONFLICT (1409)
 *   limits, shutting down, finalizing   SRT_REJX_OVERLOAD (1402)
 *   no pipeline for the codecs          SRT_REJX_UNACCEPTABLE (1406)
 * Main context. */
#pragma once

#include "ingest/ingest.h"
#include "srt/srtlistener.h"
#include "streams/streammanager.h"

#include <string>

namespace castline::launcher {

/* A refusal of the manager (Refusal::status 0: none) as a Verdict;
 * state: the stream's, for telling 409 "live" from "ended" apart. */
castline::srt::Verdict srt_verdict_of (const Refusal & refusal, const StreamRecord * stream);

/* Whether the caller with key may go live now; stream_id: the stream it
 * publishes to when its key is known (also when refused for another
 * reason), else "". */
castline::srt::Verdict check_srt_caller (const StreamManager & manager, const std::string & key,
    std::string & stream_id);

/* What a caller sends, from TsProbe's codec names ("": none). */
PublisherMedia media_of_srt_codecs (const std::string & video, const std::string & audio);

}  // namespace castline::launcher
