/* castline: the Low-Latency HLS media playlist llhlssink writes (version
 * 9, Apple's HLS 2nd edition / RFC 8216bis), as a model of segments and
 * their parts that renders the full and the delta (_HLS_skip=YES)
 * playlist.
 *
 * Pure and single-threaded: llhlssink holds it under its lock. Times are
 * nanoseconds (GstClockTime), so that sums of parts are exact; the text
 * shows them in seconds with up to three decimals (five for the part
 * target). Memory stays bounded by playlist-length: segments that leave
 * the window are handed back to the caller (trim) and forgotten. */
#pragma once

#include <gst/gst.h>

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace castline::llhls {

struct PlaylistPart {
  GstClockTime duration = 0;
  std::string uri;                 /* as written: prefix included */
  bool independent = false;
};

struct PlaylistSegment {
  guint64 msn = 0;
  std::string uri;
  std::string map_uri;             /* the init segment its samples need */
  bool discontinuity = false;      /* the caps changed before it */
  GstClockTime running_time = GST_CLOCK_TIME_NONE;   /* of its first sample: the date */
  std::vector<PlaylistPart> parts;
  bool complete = false;

  GstClockTime duration () const;  /* the sum of its parts */
};

class LlHlsPlaylist {
 public:
  struct Config {
    GstClockTime target_duration = 2 * GST_SECOND;
    GstClockTime part_target = 300 * GST_MSECOND;
    guint playlist_length = 6;     /* complete segments named */
    /* the URI of part `part` of segment `msn`, for EXT-X-PRELOAD-HINT */
    std::function<std::string (guint64 msn, guint part)> part_uri;
  };

  explicit LlHlsPlaylist (Config config);

  /* A new segment, numbered one after the last (0 first); the one before
   * must be complete. */
  guint64 begin_segment (std::string uri, std::string map_uri, bool discontinuity,
      GstClockTime running_time);
  /* The next part of the open segment: its number. */
  guint add_part (GstClockTime duration, std::string uri, bool independent);
  /* The open segment is complete. */
  void end_segment ();
  /* Segments beyond playlist-length leave the window: returned, oldest
   * first, for delete-fragment. */
  std::vector<PlaylistSegment> trim ();
  /* EOS: EXT-X-ENDLIST, no preload hint. */
  void end () { ended_ = true; }

  /* The playlist; with delta, the delta playlist (EXT-X-SKIP), or nullopt
   * when nothing can be skipped. rt_to_unix_ns (running time + it = ns
   * since 1970) dates the segments; nullopt: no dates yet. */
  std::optional<std::string> render (bool delta,
      std::optional<gint64> rt_to_unix_ns = std::nullopt) const;

  /* how many leading segments a delta playlist skips */
  size_t skippable () const;

  const std::deque<PlaylistSegment> & segments () const { return segments_; }
  bool ended () const { return ended_; }

  /* "0.3", "2", "1.967": seconds as a decimal-floating-point with up to
   * `decimals` digits after the point */
  static std::string seconds (GstClockTime t, int decimals = 3);

 private:
  GstClockTime target_duration_value () const;

  Config config_;
  std::deque<PlaylistSegment> segments_;
  guint64 next_msn_ = 0;
  guint64 discontinuity_sequence_ = 0;   /* discontinuities trimmed away */
  GstClockTime longest_segment_ = 0;     /* ever: TARGETDURATION never shrinks */
  bool ended_ = false;
};

}  // namespace castline::llhls
