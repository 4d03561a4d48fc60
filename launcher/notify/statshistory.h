/* castline-launcher: the last 15 minutes of each stream as the pages chart
 * them. A sample every kIntervalMs of a live stream's ingest bitrate (every
 * branch), frame rate, keyframe interval, health (the worst branch) and
 * viewers, and the moments its state changed (live, interrupted, ended,
 * failed). Bounded: at most kMaxSamples samples and kMaxMarks marks per
 * stream, none older than kWindowMs, and a stream with nothing left in the
 * window is forgotten. The event streams send a stream's history() as the
 * `history` event when a client connects (EventStream), then the live
 * `stats`, `viewers` and `state` events, which the pages append.
 * Plain data, times given by the caller (unix ms); main context. */
#pragma once

#include "store/streamstore.h"

#include <gst/gst.h>

#include <cmath>
#include <deque>
#include <map>
#include <string>

namespace castline::launcher {

struct StatsSample {
  gint64 time_ms = 0;                  /* unix ms */
  /* NAN: not known (no such branch, nothing measured yet) */
  double bitrate = NAN;                /* bits/s, video and audio */
  double fps = NAN;
  double keyframe_interval = NAN;      /* s */
  double health = NAN;                 /* 0-100, the worst branch */
  double viewers = NAN;
};

struct StateMark {
  gint64 time_ms = 0;                  /* unix ms */
  StreamState state = StreamState::live;
  std::string reason;
};

/* A sample of live_stats () ({"video", "audio"} viewerstats) and the
 * viewer count at time_ms. */
StatsSample stats_sample (const GstStructure * stats, unsigned viewers, gint64 time_ms);

class StatsHistory {
 public:
  static constexpr gint64 kWindowMs = 15 * 60 * 1000;
  static constexpr gint64 kIntervalMs = 5000;
  static constexpr size_t kMaxSamples = kWindowMs / kIntervalMs + 1;
  static constexpr size_t kMaxMarks = 64;

  /* a sample of a stream (the oldest goes past kMaxSamples) */
  void add (const std::string & id, const StatsSample & sample);
  /* A state change of a stream: live, interrupted, ended and failed are
   * marked (others, and the state it is already marked in, are not). A
   * stream that stops being live gets an empty sample there too, so its
   * lines break instead of joining across the gap. */
  void mark (const std::string & id, gint64 time_ms, StreamState state,
      const std::string & reason = "");
  /* drops what is older than the window, and streams left with nothing */
  void prune (gint64 now_ms);

  bool has (const std::string & id) const { return streams_.count (id) > 0; }
  size_t streams () const { return streams_.size (); }
  size_t samples (const std::string & id) const;
  size_t marks (const std::string & id) const;

  /* The `history` event's data (one line of JSON; times in unix seconds):
   *   {"id", "now", "window" (s), "interval" (s),
   *    "series": {"t": [...], "bitrate": [...] (bits/s), "fps": [...],
   *               "keyframe_interval": [...] (s), "health": [...],
   *               "viewers": [...]},     (null where not known)
   *    "marks": [{"t", "state", "reason"}]}
   * empty series and marks for a stream it does not know. */
  std::string json (const std::string & id, gint64 now_ms) const;

 private:
  struct Stream {
    std::deque<StatsSample> samples;
    std::deque<StateMark> marks;
  };
  std::map<std::string, Stream> streams_;
};

}  // namespace castline::launcher
