/* castline: one llhlssink track's samples on their way into fMP4
 * fragments: the codec configuration from the caps (avc H.264 with its
 * avcC codec_data, raw AAC with its AudioSpecificConfig), and each buffer
 * as a sample in the track's timescale, held until the next one gives its
 * duration (the difference of their decode times, so durations never
 * drift from the timestamps).
 *
 * Single-threaded: llhlssink calls it under its lock. */
#pragma once

#include "llhls/fmp4writer.h"

#include <gst/gst.h>

#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace castline::llhls {

struct CollectedSample {
  std::vector<guint8> data;
  guint64 dts = 0;                 /* ticks of the track's timescale */
  guint32 duration = 0;            /* ticks */
  gint32 composition_offset = 0;   /* ticks */
  bool sync = false;
  GstClockTime dts_ns = 0;         /* running time */
  GstClockTime pts_ns = 0;         /* running time */
};

class TrackCollector {
 public:
  /* a sample larger than this is refused (bounded memory) */
  static constexpr size_t kMaxSampleSize = 64 * 1024 * 1024;

  TrackCollector (TrackInfo::Kind kind, guint32 track_id);

  /* New caps: "" when usable (changed: the codec configuration differs from
   * the one before), else what is wrong with them. */
  std::string set_caps (const GstCaps * caps, bool * changed);
  bool has_info () const { return has_info_; }
  const TrackInfo & info () const { return info_; }
  TrackInfo::Kind kind () const { return info_.kind; }

  /* A buffer at these running times (dts NONE: the pts). "" or an error.
   * The sample before it is then complete. */
  std::string push (GstBuffer * buffer, GstClockTime dts_rt, GstClockTime pts_rt);

  /* EOS: the held sample completes with its own duration (or the one
   * before's). */
  void finish ();

  /* Complete samples whose decode time is before `before` (NONE: all). */
  std::vector<CollectedSample> take (GstClockTime before = GST_CLOCK_TIME_NONE);

  /* Drop complete samples from the front while more than max_span of them
   * wait; how many went. */
  size_t drop_older_than (GstClockTime max_span);
  /* Forget every sample (complete and held). */
  void clear ();

  const std::deque<CollectedSample> & ready () const { return ready_; }
  const std::optional<CollectedSample> & held () const { return held_; }
  /* duration to give the held sample, in ns: the buffer's or the last */
  GstClockTime held_duration_estimate () const;

  GstClockTime ticks_to_ns (guint64 ticks) const;

 private:
  void complete_held (guint64 next_dts);

  TrackInfo info_;
  bool has_info_ = false;
  std::deque<CollectedSample> ready_;
  std::optional<CollectedSample> held_;
  GstClockTime held_buffer_duration_ = GST_CLOCK_TIME_NONE;
  guint32 last_duration_ = 0;
};

}  // namespace castline::llhls
