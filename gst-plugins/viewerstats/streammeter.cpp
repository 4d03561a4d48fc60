#include "viewerstats/streammeter.h"

#include <algorithm>
#include <cmath>

namespace castline {

/* a timestamp jump larger than this past the previous buffer's end is a gap */
static constexpr GstClockTime kGapThreshold = GST_SECOND / 2;

StreamMeter::StreamMeter (size_t capacity) : ring_ (capacity ? capacity : 1) {}

void
StreamMeter::reset ()
{
  gint64 window = window_us_;
  *this = StreamMeter (ring_.size ());
  window_us_ = window;
}

void
StreamMeter::set_caps (const GstCaps * caps)
{
  if (!caps || gst_caps_get_size (caps) == 0)
    return;
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  std::string name = gst_structure_get_name (s);
  video_ = g_str_has_prefix (name.c_str (), "video/") || g_str_has_prefix (name.c_str (), "image/");
  auto slash = name.find ('/');
  std::string sub = slash == std::string::npos ? name : name.substr (slash + 1);
  if (g_str_has_prefix (sub.c_str (), "x-"))
    sub = sub.substr (2);
  if (sub == "mpeg") {
    gint version = 0;
    if (gst_structure_get_int (s, "mpegversion", &version))
      sub = version == 4 ? (video_ ? "mpeg4" : "aac") : (version == 1 && !video_ ? "mp3" : "mpeg");
  }
  codec_ = sub;
  gst_structure_get_int (s, "width", &width_);
  gst_structure_get_int (s, "height", &height_);
  gint num = 0, den = 1;
  if (gst_structure_get_fraction (s, "framerate", &num, &den) && den > 0)
    caps_fps_ = (double) num / den;
}

void
StreamMeter::on_buffer (gint64 now_us, GstClockTime pts, GstClockTime duration, gsize size,
    bool keyframe, bool discont)
{
  buffers_++;
  bytes_ += size;
  if (discont && buffers_ > 1)
    discontinuities_++;

  ring_[head_] = Entry { now_us, (guint32) std::min<gsize> (size, G_MAXUINT32) };
  head_ = (head_ + 1) % ring_.size ();
  count_ = std::min (count_ + 1, ring_.size ());
  if (first_arrival_us_ < 0)
    first_arrival_us_ = now_us;
  last_arrival_us_ = now_us;
  stalled_ = false;

  if (GST_CLOCK_TIME_IS_VALID (pts)) {
    if (GST_CLOCK_TIME_IS_VALID (last_end_) && pts > last_end_ + kGapThreshold)
      gaps_++;
    last_end_ = pts + (GST_CLOCK_TIME_IS_VALID (duration) ? duration : 0);
  }

  if (video_) {
    if (keyframe) {
      if (GST_CLOCK_TIME_IS_VALID (last_keyframe_pts_) && GST_CLOCK_TIME_IS_VALID (pts)
          && pts > last_keyframe_pts_) {
        keyframe_interval_ = (double) (pts - last_keyframe_pts_) / GST_SECOND;
        keyframe_interval_frames_ = frames_since_keyframe_;
      }
      if (GST_CLOCK_TIME_IS_VALID (pts))
        last_keyframe_pts_ = pts;
      frames_since_keyframe_ = 0;
    }
    frames_since_keyframe_++;
  }
}

MeterSnapshot
StreamMeter::snapshot (gint64 now_us, const MeterLimits & limits)
{
  MeterSnapshot s;
  /* buffers that arrived within the window, newest first */
  guint64 bytes = 0;
  size_t n = 0;
  for (size_t i = 0; i < count_; i++) {
    const Entry & e = ring_[(head_ + ring_.size () - 1 - i) % ring_.size ()];
    if (now_us - e.at_us > window_us_)
      break;
    bytes += e.size;
    n++;
  }
  /* over the window, or over the time the stream has lived if shorter
   * (at least 100 ms, so a first buffer does not read as a huge rate) */
  gint64 lived = first_arrival_us_ >= 0 ? now_us - first_arrival_us_ : 0;
  double span = std::max<gint64> (std::min (window_us_, lived), G_USEC_PER_SEC / 10) / 1e6;
  s.bitrate = n ? bytes * 8.0 / span : 0;
  s.fps = n ? n / span : 0;

  if (last_arrival_us_ >= 0 && now_us - last_arrival_us_ > limits.stall_threshold_us) {
    if (!stalled_)
      stalls_++;
    stalled_ = true;
  }

  s.caps_fps = caps_fps_;
  s.width = width_;
  s.height = height_;
  s.codec = codec_;
  s.keyframe_interval = keyframe_interval_;
  s.keyframe_interval_frames = keyframe_interval_frames_;
  s.gaps = gaps_;
  s.discontinuities = discontinuities_;
  s.stalls = stalls_;
  s.stalled = stalled_;
  s.latency = latency_;
  s.buffers = buffers_;
  s.bytes = bytes_;
  guint64 troubles = gaps_ + discontinuities_;
  s.health = health (s, limits, troubles - troubles_at_last_snapshot_);
  troubles_at_last_snapshot_ = troubles;
  return s;
}

guint
StreamMeter::health (const MeterSnapshot & s, const MeterLimits & limits,
    guint64 recent_troubles)
{
  if (s.buffers == 0)
    return 0;
  double h = 100;
  if (s.stalled)
    h -= 60;
  if (s.caps_fps > 0 && s.fps < s.caps_fps)
    h -= 40 * (1 - s.fps / s.caps_fps);
  if (s.keyframe_interval > limits.max_keyframe_interval)
    h -= 15;
  if (s.latency >= 0 && (GstClockTime) s.latency > limits.latency_threshold)
    h -= 15;
  h -= std::min<double> (30, 10.0 * recent_troubles);
  return (guint) std::clamp (std::lround (h), 0L, 100L);
}

}  // namespace castline
