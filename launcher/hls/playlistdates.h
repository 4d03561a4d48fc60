/* castline-launcher: EXT-X-PROGRAM-DATE-TIME in the playlists of an
 * hlssink2 writing into a directory.
 *
 * hlssink2 1.22 writes no dates, so its playlist writing is taken over:
 * its get-playlist-stream signal gets a memory stream, and once hlssink2
 * has written it, the playlist goes to disk atomically (a temporary file
 * renamed over it) with a date before each segment. The dates come from
 * the pipeline's bus: segment_started for every splitmuxsink-fragment-
 * opened the sink's splitmuxsink posts, in order, and set_offset once the
 * pipeline is PLAYING. Any thread (a mutex); s3hlssink does the same
 * itself (its program-date-time property). */
#pragma once

#include "common/programdatetime.h"

#include <gst/gst.h>

#include <memory>
#include <mutex>
#include <string>

namespace castline::launcher {

class PlaylistDates {
 public:
  /* Takes over hlssink2's playlist writing; playlist: the file it names
   * (its playlist-location). The handler holds a reference to this. */
  static std::shared_ptr<PlaylistDates> attach (GstElement * hlssink2, const std::string & playlist);

  /* The next segment starts at this running time (ns). */
  void segment_started (GstClockTime running_time);

  /* running time + rt_to_unix_ns is real time (ns since 1970): the
   * pipeline's base time plus its clock's offset to real time. Until it
   * is set, playlists are written without dates. */
  void set_offset (gint64 rt_to_unix_ns);

 private:
  bool write (GBytes * playlist, GError ** error);

  std::mutex lock_;
  castline::common::ProgramDateTimeWriter writer_;
  std::string path_;
  gint64 rt_to_unix_ns_ = 0;
  bool have_offset_ = false;
};

}  // namespace castline::launcher
