/* castline-launcher: EXT-X-PROGRAM-DATE-TIME in the playlists of an
 * hlssink2 writing into a directory.
 *
 * hlssink2 1.22 writes no dates, so its playlist writing is taken over:
 * its get-playlist-stream signal gets a memory stream, and once hlssink2
 * has written it, the playlist goes to disk atomically (a temporary file
 * renamed over it) with a date before each segment. The dates themselves
 * are castline::common::PlaylistDates's (the same as s3hlssink's
 * program-date-time): segment_started for every splitmuxsink-fragment-
 * opened the sink's splitmuxsink posts, in order, and set_offset once the
 * pipeline is PLAYING, from any thread. */
#pragma once

#include "common/playlistdates.h"

#include <gst/gst.h>

#include <memory>
#include <string>

namespace castline::launcher {

class PlaylistDates {
 public:
  /* Takes over hlssink2's playlist writing; playlist: the file it names
   * (its playlist-location). The handler holds a reference to this. */
  static std::shared_ptr<PlaylistDates> attach (GstElement * hlssink2, const std::string & playlist);

  void segment_started (GstClockTime running_time) { dates_.segment_started (running_time); }
  void set_offset (gint64 rt_to_unix_ns) { dates_.set_offset (rt_to_unix_ns); }

 private:
  bool write (GBytes * playlist, GError ** error);

  castline::common::PlaylistDates dates_;
  std::string path_;
};

}  // namespace castline::launcher
