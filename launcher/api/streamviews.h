/* castline-launcher: what the HTTP API shows of a stream, as JSON text.
 *   stream_json   the admin view (GET /api/streams/{id}, the event
 *                 streams): the record, its ingest and playback URLs,
 *                 the key once (when created), viewers and live stats
 *   status_json   the public view (/api/streams/{id}/status, what the
 *                 pages poll): never the key, its hash, the pipeline or
 *                 the ingest URLs
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

  /* key: given out once, when the stream is created; else "" */
  std::string stream_json (const StreamRecord & r, const std::string & key = "") const;
  std::string status_json (const StreamRecord & r) const;

 private:
  /* "viewers", and "stats" while live: what both views share */
  void add_audience (JsonBuilder * b, const StreamRecord & r) const;

  const StreamManager & manager_;
  const ViewerCounter & viewers_;
};

}  // namespace castline::launcher
