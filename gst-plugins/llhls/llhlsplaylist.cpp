/* castline: the LL-HLS media playlist, full and delta (see the header). */
#include "llhls/llhlsplaylist.h"

#include "common/programdatetime.h"

#include <algorithm>
#include <utility>

namespace castline::llhls {

GstClockTime
PlaylistSegment::duration () const
{
  GstClockTime d = 0;
  for (const auto & p : parts)
    d += p.duration;
  return d;
}

LlHlsPlaylist::LlHlsPlaylist (Config config)
  : config_ (std::move (config))
{
  if (config_.playlist_length == 0)
    config_.playlist_length = 1;
}

guint64
LlHlsPlaylist::begin_segment (std::string uri, std::string map_uri, bool discontinuity,
    GstClockTime running_time)
{
  g_return_val_if_fail (segments_.empty () || segments_.back ().complete, next_msn_);
  PlaylistSegment s;
  s.msn = next_msn_++;
  s.uri = std::move (uri);
  s.map_uri = std::move (map_uri);
  s.discontinuity = discontinuity;
  s.running_time = running_time;
  segments_.push_back (std::move (s));
  return segments_.back ().msn;
}

guint
LlHlsPlaylist::add_part (GstClockTime duration, std::string uri, bool independent)
{
  g_return_val_if_fail (!segments_.empty () && !segments_.back ().complete, 0);
  auto & parts = segments_.back ().parts;
  parts.push_back (PlaylistPart {duration, std::move (uri), independent});
  return parts.size () - 1;
}

void
LlHlsPlaylist::end_segment ()
{
  g_return_if_fail (!segments_.empty ());
  auto & s = segments_.back ();
  s.complete = true;
  longest_segment_ = std::max (longest_segment_, s.duration ());
}

std::vector<PlaylistSegment>
LlHlsPlaylist::trim ()
{
  std::vector<PlaylistSegment> gone;
  size_t complete = 0;
  for (const auto & s : segments_)
    complete += s.complete ? 1 : 0;
  while (complete > config_.playlist_length) {
    if (segments_.front ().discontinuity)
      discontinuity_sequence_++;
    gone.push_back (std::move (segments_.front ()));
    segments_.pop_front ();
    complete--;
  }
  return gone;
}

std::string
LlHlsPlaylist::seconds (GstClockTime t, int decimals)
{
  /* round to the last digit shown, then drop trailing zeros */
  guint64 scale = 1;
  for (int i = 0; i < decimals; i++)
    scale *= 10;
  guint64 units = gst_util_uint64_scale_round (t, scale, GST_SECOND);
  std::string out = std::to_string (units / scale);
  guint64 frac = units % scale;
  if (frac) {
    std::string digits = std::to_string (frac);
    digits.insert (0, decimals - digits.size (), '0');
    digits.erase (digits.find_last_not_of ('0') + 1);
    out += "." + digits;
  }
  return out;
}

GstClockTime
LlHlsPlaylist::target_duration_value () const
{
  /* whole seconds: the configured target rounded up, and never below a
   * segment's duration rounded to the nearest second (the spec's rule) */
  guint64 secs = (config_.target_duration + GST_SECOND - 1) / GST_SECOND;
  guint64 longest = (longest_segment_ + GST_SECOND / 2) / GST_SECOND;
  return std::max<guint64> (std::max (secs, longest), 1);
}

size_t
LlHlsPlaylist::skippable () const
{
  /* segments that end at least CAN-SKIP-UNTIL (6 target durations) before
   * the playlist's end */
  GstClockTime skip_until = 6 * target_duration_value () * GST_SECOND;
  GstClockTime total = 0;
  for (const auto & s : segments_)
    total += s.duration ();
  size_t n = 0;
  GstClockTime end = 0;
  for (const auto & s : segments_) {
    end += s.duration ();
    if (!s.complete || total - end < skip_until)
      break;
    n++;
  }
  return n;
}

std::optional<std::string>
LlHlsPlaylist::render (bool delta, std::optional<gint64> rt_to_unix_ns) const
{
  size_t skip = delta ? skippable () : 0;
  if (delta && skip == 0)
    return std::nullopt;

  GstClockTime td = target_duration_value ();
  std::string p = "#EXTM3U\n#EXT-X-VERSION:9\n";
  p += "#EXT-X-TARGETDURATION:" + std::to_string (td) + "\n";
  p += "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK="
      + seconds (3 * config_.part_target, 5) + ",CAN-SKIP-UNTIL="
      + std::to_string (6 * td) + "\n";
  p += "#EXT-X-PART-INF:PART-TARGET=" + seconds (config_.part_target, 5) + "\n";
  guint64 first = segments_.empty () ? next_msn_ : segments_.front ().msn;
  p += "#EXT-X-MEDIA-SEQUENCE:" + std::to_string (first) + "\n";
  if (discontinuity_sequence_)
    p += "#EXT-X-DISCONTINUITY-SEQUENCE:" + std::to_string (discontinuity_sequence_) + "\n";

  /* parts are listed for the segments that end within three target
   * durations of the playlist's end, and for the open one; not once the
   * stream ended: a player then goes by the segments (hls.js ends a
   * stream with parts only once the middle of the last part is buffered
   * in every track, which a track's tail past the other's end never is) */
  GstClockTime total = 0;
  for (const auto & s : segments_)
    total += s.duration ();
  GstClockTime parts_from = total > 3 * td * GST_SECOND ? total - 3 * td * GST_SECOND : 0;

  std::string map;
  if (skip)
    p += "#EXT-X-SKIP:SKIPPED-SEGMENTS=" + std::to_string (skip) + "\n";
  GstClockTime end = 0;
  for (size_t i = 0; i < segments_.size (); i++) {
    const auto & s = segments_[i];
    end += s.duration ();
    if (i < skip)
      continue;                 /* a delta playlist names its map anyway */
    if (!s.complete && s.parts.empty ())
      continue;                 /* opened, nothing to name yet */
    if (s.discontinuity)
      p += "#EXT-X-DISCONTINUITY\n";
    if (s.map_uri != map) {
      p += "#EXT-X-MAP:URI=\"" + s.map_uri + "\"\n";
      map = s.map_uri;
    }
    if (rt_to_unix_ns && GST_CLOCK_TIME_IS_VALID (s.running_time)) {
      std::string date = common::ProgramDateTimeWriter::format (
          ((gint64) s.running_time + *rt_to_unix_ns) / 1000);
      if (!date.empty ())
        p += "#EXT-X-PROGRAM-DATE-TIME:" + date + "\n";
    }
    if (!ended_ && (!s.complete || end > parts_from)) {
      for (const auto & part : s.parts) {
        p += "#EXT-X-PART:DURATION=" + seconds (part.duration) + ",URI=\"" + part.uri + "\"";
        p += part.independent ? ",INDEPENDENT=YES\n" : "\n";
      }
    }
    if (s.complete)
      p += "#EXTINF:" + seconds (s.duration ()) + ",\n" + s.uri + "\n";
  }

  if (ended_) {
    p += "#EXT-X-ENDLIST\n";
  } else if (config_.part_uri) {
    guint64 msn = next_msn_;
    guint part = 0;
    if (!segments_.empty () && !segments_.back ().complete) {
      msn = segments_.back ().msn;
      part = segments_.back ().parts.size ();
    }
    p += "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"" + config_.part_uri (msn, part) + "\"\n";
  }
  return p;
}

}  // namespace castline::llhls
