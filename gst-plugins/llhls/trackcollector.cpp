/* castline: one llhlssink track's samples (see the header). */
#include "llhls/trackcollector.h"

#include <algorithm>

namespace castline::llhls {

TrackCollector::TrackCollector (TrackInfo::Kind kind, guint32 track_id)
{
  info_.kind = kind;
  info_.track_id = track_id;
}

static std::vector<guint8>
buffer_bytes (GstBuffer * buffer)
{
  std::vector<guint8> out (gst_buffer_get_size (buffer));
  gst_buffer_extract (buffer, 0, out.data (), out.size ());
  return out;
}

std::string
TrackCollector::set_caps (const GstCaps * caps, bool * changed)
{
  *changed = false;
  if (!caps || gst_caps_get_size (caps) != 1)
    return "caps are not fixed";
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  TrackInfo next = info_;
  const GValue *cd = gst_structure_get_value (s, "codec_data");
  GstBuffer *codec_data = cd && G_VALUE_HOLDS (cd, GST_TYPE_BUFFER) ? gst_value_get_buffer (cd)
      : nullptr;
  if (info_.kind == TrackInfo::Kind::kVideo) {
    if (!gst_structure_has_name (s, "video/x-h264")
        || g_strcmp0 (gst_structure_get_string (s, "stream-format"), "avc") != 0)
      return "not H.264 in avc stream-format";
    if (!codec_data || gst_buffer_get_size (codec_data) < 7)
      return "H.264 caps without an avcC codec_data";
    gint w = 0, h = 0;
    gst_structure_get_int (s, "width", &w);
    gst_structure_get_int (s, "height", &h);
    if (w <= 0 || h <= 0)
      return "H.264 caps without width and height";
    next.width = w;
    next.height = h;
    next.timescale = 90000;
  } else {
    gint version = 0, rate = 0, channels = 0;
    if (!gst_structure_has_name (s, "audio/mpeg")
        || !gst_structure_get_int (s, "mpegversion", &version) || (version != 4 && version != 2)
        || g_strcmp0 (gst_structure_get_string (s, "stream-format"), "raw") != 0)
      return "not raw AAC";
    if (!codec_data || gst_buffer_get_size (codec_data) < 2)
      return "AAC caps without an AudioSpecificConfig codec_data";
    if (!gst_structure_get_int (s, "rate", &rate) || rate <= 0
        || !gst_structure_get_int (s, "channels", &channels) || channels <= 0)
      return "AAC caps without rate and channels";
    next.rate = rate;
    next.channels = channels;
    next.timescale = rate;
  }
  next.codec_data = buffer_bytes (codec_data);
  if (has_info_ && info_.timescale != next.timescale) {
    /* samples held in the old timescale would be misread */
    clear ();
  }
  *changed = has_info_ && (next.codec_data != info_.codec_data || next.width != info_.width
      || next.height != info_.height || next.rate != info_.rate
      || next.channels != info_.channels);
  info_ = std::move (next);
  has_info_ = true;
  return "";
}

GstClockTime
TrackCollector::ticks_to_ns (guint64 ticks) const
{
  return gst_util_uint64_scale (ticks, GST_SECOND, info_.timescale);
}

void
TrackCollector::complete_held (guint64 next_dts)
{
  CollectedSample s = std::move (*held_);
  held_.reset ();
  guint64 d = next_dts > s.dts ? next_dts - s.dts : 0;
  s.duration = (guint32) std::min<guint64> (d, G_MAXUINT32);
  last_duration_ = s.duration;
  ready_.push_back (std::move (s));
}

std::string
TrackCollector::push (GstBuffer * buffer, GstClockTime dts_rt, GstClockTime pts_rt)
{
  if (!has_info_)
    return "a buffer before the caps";
  size_t size = gst_buffer_get_size (buffer);
  if (size == 0)
    return "";
  if (size > kMaxSampleSize)
    return "a sample of " + std::to_string (size) + " bytes, more than "
        + std::to_string (kMaxSampleSize);
  if (!GST_CLOCK_TIME_IS_VALID (pts_rt))
    pts_rt = dts_rt;
  if (!GST_CLOCK_TIME_IS_VALID (dts_rt))
    dts_rt = pts_rt;
  if (!GST_CLOCK_TIME_IS_VALID (dts_rt))
    return "a buffer without timestamps";

  CollectedSample s;
  s.dts = gst_util_uint64_scale (dts_rt, info_.timescale, GST_SECOND);
  /* decode times never go back */
  guint64 last = held_ ? held_->dts : (!ready_.empty () ? ready_.back ().dts : 0);
  if ((held_ || !ready_.empty ()) && s.dts < last)
    s.dts = last;
  guint64 pts = gst_util_uint64_scale (pts_rt, info_.timescale, GST_SECOND);
  gint64 cto = (gint64) pts - (gint64) s.dts;
  s.composition_offset = (gint32) CLAMP (cto, G_MININT32, G_MAXINT32);
  s.sync = info_.kind == TrackInfo::Kind::kAudio
      || !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  s.dts_ns = ticks_to_ns (s.dts);
  s.pts_ns = pts_rt;
  s.data = buffer_bytes (buffer);

  if (held_)
    complete_held (s.dts);
  held_ = std::move (s);
  held_buffer_duration_ = GST_BUFFER_DURATION (buffer);
  return "";
}

GstClockTime
TrackCollector::held_duration_estimate () const
{
  if (GST_CLOCK_TIME_IS_VALID (held_buffer_duration_))
    return held_buffer_duration_;
  return ticks_to_ns (last_duration_);
}

void
TrackCollector::finish ()
{
  if (!held_)
    return;
  guint64 d = GST_CLOCK_TIME_IS_VALID (held_buffer_duration_)
      ? gst_util_uint64_scale (held_buffer_duration_, info_.timescale, GST_SECOND)
      : last_duration_;
  complete_held (held_->dts + d);
}

std::vector<CollectedSample>
TrackCollector::take (GstClockTime before)
{
  std::vector<CollectedSample> out;
  while (!ready_.empty ()
      && (!GST_CLOCK_TIME_IS_VALID (before) || ready_.front ().dts_ns < before)) {
    out.push_back (std::move (ready_.front ()));
    ready_.pop_front ();
  }
  return out;
}

size_t
TrackCollector::drop_older_than (GstClockTime max_span)
{
  size_t n = 0;
  while (ready_.size () > 1 && ready_.back ().dts_ns - ready_.front ().dts_ns > max_span) {
    ready_.pop_front ();
    n++;
  }
  return n;
}

void
TrackCollector::clear ()
{
  ready_.clear ();
  held_.reset ();
}

}  // namespace castline::llhls
