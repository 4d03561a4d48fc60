#include "ingest/rtmp/rtmpadmission.h"

namespace castline::launcher {

RtmpStatus
rtmp_status_of (const Refusal & refusal)
{
  if (!refusal.status)
    return {};
  /* 401: the key is no stream's (check_publisher says so for a wrong key
   * too, which an RTMP publisher cannot have: its key names the stream) */
  if (refusal.status == 401)
    return { kRtmpBadName, "unknown stream key" };
  return { kRtmpRejected, refusal.reason };
}

RtmpStatus
check_rtmp_publisher (const StreamManager & manager, const std::string & key,
    std::string & stream_id)
{
  stream_id.clear ();
  auto r = key.empty () ? std::nullopt : manager.find_by_key (key);
  if (!r)
    return rtmp_status_of ({ manager.unknown_key_status (), "" });
  stream_id = r->id;
  return rtmp_status_of (manager.check_publisher (r->id, key));
}

PublisherMedia
media_of_rtmp_codecs (const std::string & video, const std::string & audio)
{
  return media_of_codecs (video, audio);
}

}  // namespace castline::launcher
