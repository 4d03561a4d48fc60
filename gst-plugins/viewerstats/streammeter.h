/* castline: what a viewer of one stream gets, measured buffer by buffer.
 *
 * Plain bookkeeping with the time passed in, so it is tested without a
 * pipeline or a clock. The viewerstats element feeds it from the streaming
 * thread and reads snapshots from its timer and from the stats property;
 * the element serializes those calls. No allocation per buffer: the
 * sliding window is a fixed ring.
 */
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

namespace castline {

struct MeterSnapshot {
  double bitrate = 0;              /* bits/s over the window */
  double fps = 0;                  /* buffers/s over the window */
  double caps_fps = 0;
  int width = 0, height = 0;
  std::string codec;
  double keyframe_interval = 0;    /* seconds between the last two keyframes */
  guint64 keyframe_interval_frames = 0;
  guint64 gaps = 0;
  guint64 discontinuities = 0;
  guint64 stalls = 0;
  bool stalled = false;
  gint64 latency = -1;             /* ns behind the clock, -1: unknown */
  guint64 buffers = 0;
  guint64 bytes = 0;
  guint health = 100;
};

struct MeterLimits {
  gint64 stall_threshold_us = 2 * G_USEC_PER_SEC;
  double max_keyframe_interval = 4.0;      /* seconds */
  GstClockTime latency_threshold = 5 * GST_SECOND;
};

class StreamMeter {
 public:
  explicit StreamMeter (size_t capacity = 8192);

  void reset ();
  void set_window_us (gint64 window_us) { window_us_ = window_us; }
  /* from caps: media type (video/x-h264 -> "h264"), size, framerate */
  void set_caps (const GstCaps * caps);

  void on_buffer (gint64 now_us, GstClockTime pts, GstClockTime duration, gsize size,
      bool keyframe, bool discont);
  void on_gap () { gaps_++; }
  void on_latency (gint64 latency_ns) { latency_ = latency_ns; }

  /* Counts a stall when no buffer came for stall_threshold (once per stall). */
  MeterSnapshot snapshot (gint64 now_us, const MeterLimits & limits);

  /* The health formula (documented in the element). */
  static guint health (const MeterSnapshot & s, const MeterLimits & limits,
      guint64 recent_discontinuities);

 private:
  struct Entry {
    gint64 at_us;
    guint32 size;
  };
  std::vector<Entry> ring_;
  size_t head_ = 0, count_ = 0;
  gint64 window_us_ = 5 * G_USEC_PER_SEC;

  std::string codec_;
  int width_ = 0, height_ = 0;
  double caps_fps_ = 0;
  bool video_ = false;

  gint64 first_arrival_us_ = -1;
  gint64 last_arrival_us_ = -1;
  GstClockTime last_end_ = GST_CLOCK_TIME_NONE;    /* pts + duration of the last buffer */
  GstClockTime last_keyframe_pts_ = GST_CLOCK_TIME_NONE;
  guint64 frames_since_keyframe_ = 0;
  double keyframe_interval_ = 0;
  guint64 keyframe_interval_frames_ = 0;
  guint64 gaps_ = 0, discontinuities_ = 0, stalls_ = 0;
  bool stalled_ = false;
  gint64 latency_ = -1;
  guint64 buffers_ = 0, bytes_ = 0;
  /* discontinuities and gaps seen up to the previous snapshot */
  guint64 troubles_at_last_snapshot_ = 0;
};

}  // namespace castline
