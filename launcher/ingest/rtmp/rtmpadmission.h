/* castline-launcher: what an RTMP publisher is told, in RTMP's words, from
 * what the stream manager says (the one admission path of every ingest).
 *
 * An RTMP publisher names no stream id: its publish name is the stream
 * key, so the stream is found from the key (StreamManager::find_by_key),
 * then checked as any publisher (check_publisher). An unknown key is
 * NetStream.Publish.BadName; every other refusal (ended, live already,
 * the limits, shutting down, no pipeline for the codecs) is
 * NetStream.Publish.Rejected with the refusal's reason, which OBS and
 * ffmpeg show. Main context. */
#pragma once

#include "ingest/ingest.h"
#include "streams/streammanager.h"

#include <string>

namespace castline::launcher {

inline constexpr char kRtmpBadName[] = "NetStream.Publish.BadName";
inline constexpr char kRtmpRejected[] = "NetStream.Publish.Rejected";

/* An onStatus answer; an empty code: the publisher may go on. */
struct RtmpStatus {
  std::string code;
  std::string description;

  bool refused () const { return !code.empty (); }
};

/* A refusal of the manager (Refusal::status 0: none) as an onStatus. */
RtmpStatus rtmp_status_of (const Refusal & refusal);

/* Whether the publisher of key may go live now; stream_id: the stream it
 * publishes to when its key is known (also when refused for another
 * reason), else "". */
RtmpStatus check_rtmp_publisher (const StreamManager & manager, const std::string & key,
    std::string & stream_id);

/* What a publisher sends, from the codecs the RTMP session saw ("": none). */
PublisherMedia media_of_rtmp_codecs (const std::string & video, const std::string & audio);

}  // namespace castline::launcher
