#include "elementcheck.h"

#include "hls/hlsoutputs.h"
#include "ingest/rtmp/rtmpingest.h"
#include "ingest/srt/srtingest.h"
#include "ingest/websocket/websocketingest.h"
#include "ingest/whip/whipingest.h"
#include "recording/mp4remux.h"
#include "streams/elementfactory.h"
#include "thumbnail/thumbnailbranch.h"
#include "whep/webrtcroom.h"

namespace castline::launcher {

std::vector<std::string>
check_daemon_elements (const Config & config)
{
  struct Part {
    const char *what;
    std::vector<std::string> needs;
    const char *then;                /* what a missing element does */
  };
  constexpr char kFails[] = "its streams will fail";
  std::vector<Part> parts = {
    { "the HLS output", { hls_sink_factory (config.s3.enabled (), config.low_latency ()) },
      kFails },
    { "the WHIP ingest", WhipIngest::required_elements (), kFails },
    { "the WebSocket ingest", WebSocketIngest::required_elements (), kFails },
  };
  if (config.rtmp.enabled ())
    parts.push_back ({ "the RTMP ingest", RtmpIngest::required_elements (), "RTMP stays off" });
  if (config.srt.enabled ())
    parts.push_back ({ "the SRT ingest", SrtIngest::required_elements (), "SRT stays off" });
  if (config.webrtc.enabled ())
    parts.push_back ({ "WebRTC playback (WHEP)", WebRtcRoom::required_elements (),
        "WHEP stays off: viewers get HLS" });
  if (config.record_mp4)
    parts.push_back ({ "the MP4 of recordings (record_mp4)", Mp4Remux::required_elements (),
        "recordings get no MP4" });
  if (config.thumbnails.interval > 0)
    parts.push_back ({ "thumbnails (thumbnails.interval)", thumbnail_elements (),
        "streams get no thumbnail" });
  std::vector<std::string> problems;
  for (const Part & p : parts) {
    std::vector<std::string> missing = missing_factories (p.needs);
    if (!missing.empty ())
      problems.push_back (std::string (p.what) + ": " + missing_elements_reason (missing)
          + "; " + p.then);
  }
  return problems;
}

}  // namespace castline::launcher
