/* castline: EXT-X-PROGRAM-DATE-TIME for one hlssink2's playlists, from
 * any thread.
 *
 * The same bookkeeping serves s3hlssink (program-date-time) and the
 * launcher's hlssink2 outputs written into a directory: segment starts
 * come from the bus (splitmuxsink-fragment-opened, in order), the offset
 * of running time to real time once the pipeline is PLAYING, and
 * playlists are rewritten on hlssink2's streaming thread. One mutex
 * guards it all; no call blocks on anything else. */
#pragma once

#include "common/programdatetime.h"

#include <gst/gst.h>

#include <mutex>
#include <optional>
#include <string>

namespace castline::common {

class PlaylistDates {
 public:
  /* The next segment (0, 1, 2, ...) starts at this running time (ns);
   * GST_CLOCK_TIME_NONE still counts, it gets no date. */
  void segment_started (GstClockTime running_time);

  /* running time + rt_to_unix_ns is real time (ns since 1970): see
   * running_time_to_unix_offset. Until it is set, rewrite adds nothing. */
  void set_offset (gint64 rt_to_unix_ns);

  /* playlist with an #EXT-X-PROGRAM-DATE-TIME before each segment whose
   * start is known; unchanged while the offset is not known */
  std::string rewrite (const std::string & playlist);

 private:
  std::mutex lock_;
  ProgramDateTimeWriter writer_;
  gint64 rt_to_unix_ns_ = 0;
  bool have_offset_ = false;
};

/* The offset of element's running time to real time, for set_offset:
 * base time + g_get_real_time () - clock time. Take it once, when the
 * element (or its pipeline) goes PLAYING, so that dates then follow the
 * pipeline clock and not later jumps of the system time. None when the
 * element has no clock. */
std::optional<gint64> running_time_to_unix_offset (GstElement * element);

}  // namespace castline::common
