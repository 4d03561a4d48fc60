#include "ingest/srt/srtadmission.h"

#include <srt/access_control.h>

namespace castline::launcher {

using castline::srt::Verdict;

Verdict
srt_verdict_of (const Refusal & refusal, const StreamRecord * stream)
{
  switch (refusal.status) {
    case 0:
      return Verdict::accept ();
    /* the key is no stream's (check_publisher says so for a wrong key too,
     * which an SRT caller cannot have: its key names the stream) */
    case 401:
      return { SRT_REJX_UNAUTHORIZED, "unknown stream key" };
    case 409:
      if (stream && (stream->state == StreamState::ended || stream->state == StreamState::failed))
        return { SRT_REJX_NOTFOUND, refusal.reason };
      return { SRT_REJX_CONFLICT, refusal.reason };
    case 503:
      return { SRT_REJX_OVERLOAD, refusal.reason };
    case 406:
      return { SRT_REJX_UNACCEPTABLE, refusal.reason };
    default:
      return { SRT_REJX_ISE, refusal.reason };
  }
}

Verdict
check_srt_caller (const StreamManager & manager, const std::string & key, std::string & stream_id)
{
  stream_id.clear ();
  auto r = key.empty () ? std::nullopt : manager.find_by_key (key);
  if (!r)
    return srt_verdict_of ({ manager.unknown_key_status (), "" }, nullptr);
  stream_id = r->id;
  return srt_verdict_of (manager.check_publisher (r->id, key), &*r);
}

PublisherMedia
media_of_srt_codecs (const std::string & video, const std::string & audio)
{
  return media_of_codecs (video, audio);
}

}  // namespace castline::launcher
