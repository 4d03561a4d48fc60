#include "common/programdatetime.h"

#include <sstream>

namespace castline::common {

void
ProgramDateTimeWriter::segment_started (guint64 running_time)
{
  starts_.push_back (running_time);
}

std::string
ProgramDateTimeWriter::format (gint64 unix_us)
{
  if (unix_us < 0)
    return "";
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (unix_us / G_USEC_PER_SEC);
  if (!dt)
    return "";
  g_autofree gchar *base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  char ms[8];
  g_snprintf (ms, sizeof ms, ".%03d", (int) ((unix_us % G_USEC_PER_SEC) / 1000));
  return std::string (base) + ms + "Z";
}

std::string
ProgramDateTimeWriter::rewrite (const std::string & playlist, gint64 rt_to_unix_ns)
{
  const std::string kSeq = "#EXT-X-MEDIA-SEQUENCE:";
  guint64 seq = 0;
  size_t at = playlist.find (kSeq);
  if (at != std::string::npos)
    seq = g_ascii_strtoull (playlist.c_str () + at + kSeq.size (), nullptr, 10);

  /* what the playlist no longer names is never asked for again */
  while (!starts_.empty () && first_ < seq) {
    starts_.pop_front ();
    first_++;
  }

  std::string out;
  out.reserve (playlist.size () + 48 * starts_.size ());
  std::istringstream in (playlist);
  std::string line;
  guint64 n = seq;
  while (std::getline (in, line)) {
    if (line.rfind ("#EXT-X-PROGRAM-DATE-TIME:", 0) == 0)
      continue;                    /* ours replace any already there */
    if (line.rfind ("#EXTINF:", 0) == 0) {
      guint64 start = n >= first_ && n - first_ < starts_.size () ? starts_[n - first_]
          : G_MAXUINT64;
      /* a GstClockTime, or a GstClockTimeDiff's "none" read as one */
      std::string date = start <= (guint64) G_MAXINT64
          ? format (((gint64) start + rt_to_unix_ns) / 1000) : "";
      if (!date.empty ())
        out += "#EXT-X-PROGRAM-DATE-TIME:" + date + "\n";
      n++;
    }
    out += line + "\n";
  }
  /* keep a final newline as it was (hlssink2 ends #EXT-X-ENDLIST without one) */
  if (!out.empty () && (playlist.empty () || playlist.back () != '\n'))
    out.pop_back ();
  return out;
}

}  // namespace castline::common
