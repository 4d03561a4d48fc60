#include "common/playlistdates.h"

namespace castline::common {

void
PlaylistDates::segment_started (GstClockTime running_time)
{
  std::lock_guard<std::mutex> lk (lock_);
  writer_.segment_started (running_time);
}

void
PlaylistDates::set_offset (gint64 rt_to_unix_ns)
{
  std::lock_guard<std::mutex> lk (lock_);
  rt_to_unix_ns_ = rt_to_unix_ns;
  have_offset_ = true;
}

std::string
PlaylistDates::rewrite (const std::string & playlist)
{
  std::lock_guard<std::mutex> lk (lock_);
  if (!have_offset_)
    return playlist;
  return writer_.rewrite (playlist, rt_to_unix_ns_);
}

std::optional<gint64>
running_time_to_unix_offset (GstElement * element)
{
  g_autoptr (GstClock) clock = gst_element_get_clock (element);
  if (!clock)
    return std::nullopt;
  return (gint64) gst_element_get_base_time (element) + g_get_real_time () * 1000
      - (gint64) gst_clock_get_time (clock);
}

}  // namespace castline::common
