/* castline-launcher: what an llhlssink hands over, kept in memory and served
 * from there (never read back from disk): its init segment, the parts and
 * segments its playlist names, its playlist and delta playlist, and the
 * playlist requests parked until the part they ask for exists (blocking
 * playlist reload, RFC 8216bis 6.2.5.2 and 6.3.x):
 *   GET index.m3u8?_HLS_msn=M[&_HLS_part=P][&_HLS_skip=YES|v2]
 * waits until segment M (part P of it) is in the playlist, or answers at
 * once when it is; parked without a thread (the server's deferred answer),
 * answered by the next playlist-ready that satisfies it, or after three
 * target durations (503, as the spec asks); bad _HLS_ values get 400
 * (and an M more than two segments ahead of the playlist's last, as the
 * spec asks). Parts and live segments are served immutable; playlists
 * no-cache.
 *
 * One store per LL-HLS output (the stream's own, or one per abr rung),
 * registered in LiveHlsRegistry under (stream id, rung). Thread-safe: fed
 * on streaming threads (follow: llhlssink's signals), read on the HTTP
 * server's threads. */
#pragma once

#include "api/hlsfiles.h"
#include "common/http/message.h"

#include <gst/gst.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace castline::launcher {

/* The _HLS_ directives of a playlist request (RFC 8216bis 6.2.5). */
struct BlockingRequest {
  std::optional<guint64> msn;      /* _HLS_msn */
  std::optional<guint> part;       /* _HLS_part (only with _HLS_msn) */
  bool skip = false;               /* _HLS_skip=YES or v2 */
};

/* Parses req's _HLS_msn, _HLS_part, _HLS_skip; false with a reason for a
 * value that is not a plain decimal number, a part without msn, a skip
 * value other than YES/v2. */
bool parse_blocking_request (const http::Request & req, BlockingRequest & out, std::string & error);

class LiveHlsStore {
 public:
  /* target_duration: the output's, in seconds (how long a request may park).
   * The store's one timer (a GSource whose ready time is the earliest
   * parked deadline) runs on the thread-default main context of the
   * thread that makes the store: make it on the launcher's main context. */
  explicit LiveHlsStore (double target_duration);
  ~LiveHlsStore ();
  LiveHlsStore (const LiveHlsStore &) = delete;
  LiveHlsStore & operator= (const LiveHlsStore &) = delete;

  /* Connects to sink's signals (an llhlssink, before it gets data); the
   * handlers call the feeding calls below. */
  void follow (GstElement * llhlssink);

  /* Feeding (what llhlssink's signals carry; see gstllhlssink.h). Any thread. */
  void put_init (const std::string & uri, GBytes * init);
  void put_part (guint64 msn, guint part, const std::string & uri, GBytes * data);
  void segment_done (guint64 msn, const std::string & uri);
  void put_playlist (const std::string & playlist, const std::string & delta, guint64 msn,
      guint part, bool ended);
  void drop_segment (guint64 msn);
  /* The output is gone (its pipeline stopped): parked requests get the last
   * playlist; serve() answers false from now on (the disk has the rest). */
  void close ();

  /* Answers a GET or HEAD of name (its playlist with the request's _HLS_
   * directives, an init, a part, a live segment) from memory; false when
   * the store does not hold name (the caller serves the disk). Any thread
   * (the HTTP server's). */
  bool serve (const http::Request & req, http::Response & res, const std::string & name,
      const HlsServeOptions & options);

  /* requests parked now */
  size_t parked () const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

/* Every live LL-HLS output's store, by stream id and rung ("" for the
 * stream's own output). Thread-safe. */
class LiveHlsRegistry {
 public:
  void add (const std::string & stream_id, const std::string & rung,
      std::shared_ptr<LiveHlsStore> store);
  /* closes and forgets the stream's stores */
  void remove_stream (const std::string & stream_id);
  std::shared_ptr<LiveHlsStore> find (const std::string & stream_id, const std::string & rung) const;

 private:
  mutable std::mutex lock_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<LiveHlsStore>> stores_;
};

}  // namespace castline::launcher
