/* castline-launcher: the end (#EXT-X-ENDLIST) of a failed stream's local
 * playlists, written again until it can be. A stream that failed because
 * its disk is full cannot have its playlists ended then: each is
 * rewritten whole (end_local_playlists), which needs room. Its folder is
 * kept and tried again on a timer of the main context (after
 * kFirstWaitS, doubling up to kMaxWaitS) until every playlist in it is
 * ended; the failure is logged once. A daemon that stops forgets them.
 * Main context only. */
#pragma once

#include "streams/retrytimer.h"

#include <set>
#include <string>

namespace castline::launcher {

class PlaylistEndRetry {
 public:
  PlaylistEndRetry () = default;
  PlaylistEndRetry (const PlaylistEndRetry &) = delete;
  PlaylistEndRetry & operator= (const PlaylistEndRetry &) = delete;

  /* Ends the playlists in dir (a failed stream's folder) now, or later. */
  void end (const std::string & dir);
  /* the folders still waiting */
  size_t pending () const { return dirs_.size (); }

  static constexpr unsigned kFirstWaitS = 1;
  static constexpr unsigned kMaxWaitS = 8;

 private:
  /* every folder, once: true when none is left */
  bool retry ();

  std::set<std::string> dirs_;
  RetryTimer retry_ { kFirstWaitS, kMaxWaitS, [this] { return retry (); } };
};

}  // namespace castline::launcher
