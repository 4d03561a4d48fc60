/* castline-launcher: recordings.retention_days. Recordings written more
 * than that long ago are removed (Recordings::remove, reason "retention":
 * logged, and a "recording.deleted" webhook): a first pass once the main
 * loop runs, then one every hour, or every 1/24 of the retention when that
 * is shorter (at least a second apart), so that a recording outlives its
 * retention by at most that period. 0 (the default): kept forever.
 *
 * Only the recordings of streams this node ran last (with local output
 * their files are here; in a cluster each node prunes its own). A stream
 * live or interrupted, or whose recording is being written, is left for
 * a later pass. One pass at a time, of at most kBatch recordings (the
 * oldest); the next pass takes the rest. Main context. */
#pragma once

#include "config/config.h"
#include "recording/recordings.h"
#include "store/streamstore.h"

#include <glib.h>

namespace castline::launcher {

class RecordingRetention {
 public:
  static constexpr size_t kBatch = 1000;

  RecordingRetention (const Config & config, StreamStore & store, Recordings & recordings);
  ~RecordingRetention ();
  RecordingRetention (const RecordingRetention &) = delete;
  RecordingRetention & operator= (const RecordingRetention &) = delete;

  /* Starts the passes (nothing when retention_days is 0). */
  void start ();
  /* ms between passes for a retention of days (> 0) */
  static guint period_ms (double days);

 private:
  void pass ();

  const Config & config_;
  StreamStore & store_;
  Recordings & recordings_;
  guint first_ = 0;
  guint timer_ = 0;
  size_t pending_ = 0;             /* streams of the pass still being removed */
  std::shared_ptr<bool> alive_ = std::make_shared<bool> (true);
};

}  // namespace castline::launcher
