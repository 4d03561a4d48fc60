/* castline-launcher: what the HTTP API shows of a stream, as JSON text.
 *   stream_json   the admin view (GET /api/streams/{id}, the event
 *                 streams): the record, its ingest and playback URLs
 *                 (WHIP, WebSocket, the RTMP servers, the SRT port), the
 *                 key once (when created, with the RTMP and SRT publish
 *                 URLs that hold it),
 *                 the audience and live stats
 *   status_json   the public view (/api/streams/{id}/status, what the
 *                 pages poll): never the key, its hash, the pipeline or
 *                 the ingest URLs; its recordings that play (their
 *                 files are public under /live/ or the bucket anyway),
 *                 for the watch page's recording mode
 * Both give the audience: viewers (HLS viewers, ViewerCounter, plus
 * WebRTC viewers), whep_url (null while WHEP is off), webrtc_viewers and
 * webrtc_seats (0 while off).
 * Main context. */
#pragma once

#include "notify/viewercounter.h"
#include "streams/streammanager.h"

#include <json-glib/json-glib.h>

#include <string>

namespace castline::launcher {

class StreamViews {
 public:
  StreamViews (const StreamManager & manager, const ViewerCounter & viewers)
      : manager_ (manager), viewers_ (viewers) {}

  /* The RTMP servers listening (rtmp_server_url), "" for one that is not:
   * stream_json gives rtmp_server / rtmps_server, and with the key the
   * publish URLs rtmp_url / rtmps_url. */
  void set_rtmp_servers (std::string plain, std::string tls)
  {
    rtmp_server_ = std::move (plain);
    rtmps_server_ = std::move (tls);
  }

  /* The SRT port listening (srt_server_url), "" when it is not:
   * stream_json gives srt_server, and with the key srt_url. */
  void set_srt_server (std::string server) { srt_server_ = std::move (server); }

  /* key: given out once, when the stream is created; else "" */
  std::string stream_json (const StreamRecord & r, const std::string & key = "") const;
  std::string status_json (const StreamRecord & r) const;

 private:
  /* "viewers", the WebRTC seats, and "stats" while live: what both
   * views share; the S3 upload stats ("stats.s3": bucket, keys, S3's
   * error text) only with uploads, not in the public status */
  void add_audience (JsonBuilder * b, const StreamRecord & r, bool uploads) const;

  const StreamManager & manager_;
  const ViewerCounter & viewers_;
  std::string rtmp_server_, rtmps_server_;
  std::string srt_server_;
};

}  // namespace castline::launcher
