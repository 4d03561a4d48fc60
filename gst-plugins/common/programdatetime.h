/* castline: EXT-X-PROGRAM-DATE-TIME for the media playlists hlssink2
 * writes (1.22 writes none).
 *
 * Pure and single-threaded (PlaylistDates, in playlistdates.h, is the
 * thread-safe wrapper s3hlssink and the launcher use): the start
 * running time of each segment goes in, in the order hlssink2 opens them
 * (splitmuxsink-fragment-opened), and a playlist comes out with an
 * #EXT-X-PROGRAM-DATE-TIME line before each segment whose start is known:
 * that running time in real time, through the offset the caller gives
 * (base time + the pipeline clock's offset to real time, known once the
 * pipeline is PLAYING, which a segment may start before).
 * Segments are matched by sequence number: hlssink2 numbers its fragments
 * from 0 and its playlist's #EXT-X-MEDIA-SEQUENCE is the number of the
 * first one it names. Starts of segments the playlist no longer names are
 * forgotten, so memory stays bounded by the playlist's length. */
#pragma once

#include <glib.h>

#include <deque>
#include <string>

namespace castline::common {

class ProgramDateTimeWriter {
 public:
  /* The next segment (0, 1, 2, ...) starts at this running time (ns).
   * Every fragment opened must come in, so that numbers stay matched: one
   * with no valid running time (opened before any buffer, as when a stream
   * ends at once) gets no date. */
  void segment_started (guint64 running_time);

  /* playlist with the dates added: running time + rt_to_unix_ns is ns
   * since 1970, UTC (as it is when it names no known segment) */
  std::string rewrite (const std::string & playlist, gint64 rt_to_unix_ns);

  /* 2026-12-01T08:09:28.123Z; "" before 1970 */
  static std::string format (gint64 unix_us);

  size_t known () const { return starts_.size (); }

 private:
  guint64 first_ = 0;              /* sequence number of starts_.front () */
  std::deque<guint64> starts_;     /* running times */
};

}  // namespace castline::common
