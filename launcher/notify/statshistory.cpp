#include "notify/statshistory.h"

#include <json-glib/json-glib.h>

#include <algorithm>

namespace castline::launcher {

namespace {

const GstStructure *
branch (const GstStructure * stats, const char *name)
{
  const GValue *v = stats ? gst_structure_get_value (stats, name) : nullptr;
  return v && GST_VALUE_HOLDS_STRUCTURE (v) ? gst_value_get_structure (v) : nullptr;
}

double
field (const GstStructure * s, const char *name)
{
  double d;
  guint u;
  if (gst_structure_get_double (s, name, &d))
    return d;
  if (gst_structure_get_uint (s, name, &u))
    return u;
  return NAN;
}

/* what mark () adds where a stream stops being live */
bool
is_gap (const StatsSample & x)
{
  return !std::isfinite (x.bitrate) && !std::isfinite (x.fps) && !std::isfinite (x.keyframe_interval)
      && !std::isfinite (x.health) && !std::isfinite (x.viewers);
}

bool
markable (StreamState s)
{
  return s == StreamState::live || s == StreamState::interrupted || s == StreamState::ended
      || s == StreamState::failed;
}

/* a number with at most `decimals` decimals and no trailing zeros
 * (json-glib writes 17 digits: 29.97 as 29.969999999999999); null when
 * not known */
void
append_number (std::string & out, double v, int decimals)
{
  if (!std::isfinite (v)) {
    out += "null";
    return;
  }
  char format[8], buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_snprintf (format, sizeof (format), "%%.%df", decimals);
  std::string text = g_ascii_formatd (buf, sizeof (buf), format, v);
  if (text.find ('.') != std::string::npos) {
    text.erase (text.find_last_not_of ('0') + 1);
    if (text.back () == '.')
      text.pop_back ();
  }
  out += text == "-0" ? "0" : text;
}

std::string
quoted (const std::string & s)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_VALUE);
  json_node_set_string (node, s.c_str ());
  g_autofree gchar *text = json_to_string (node, FALSE);
  return text;
}

template <typename Get>
void
append_series (std::string & out, const char *name, const std::deque<StatsSample> & samples,
    int decimals, Get get)
{
  out += quoted (name) + ":[";
  for (size_t i = 0; i < samples.size (); i++) {
    if (i)
      out += ',';
    append_number (out, get (samples[i]), decimals);
  }
  out += ']';
}

double
seconds (gint64 ms)
{
  return ms / 1000.0;
}

}  // namespace

StatsSample
stats_sample (const GstStructure * stats, unsigned viewers, gint64 time_ms)
{
  StatsSample s;
  s.time_ms = time_ms;
  s.viewers = viewers;
  const GstStructure *video = branch (stats, "video"), *audio = branch (stats, "audio");
  for (const GstStructure *b : { video, audio }) {
    if (!b)
      continue;
    double bitrate = field (b, "bitrate"), health = field (b, "health");
    if (std::isfinite (bitrate))
      s.bitrate = (std::isfinite (s.bitrate) ? s.bitrate : 0) + bitrate;
    if (std::isfinite (health))
      s.health = std::isfinite (s.health) ? std::min (s.health, health) : health;
  }
  if (video) {
    s.fps = field (video, "fps");
    /* 0 until two keyframes came */
    double kf = field (video, "keyframe-interval");
    s.keyframe_interval = kf > 0 ? kf : NAN;
  }
  return s;
}

void
StatsHistory::add (const std::string & id, const StatsSample & sample)
{
  auto & samples = streams_[id].samples;
  samples.push_back (sample);
  /* a chart's x values must rise: a wall clock stepped back keeps the last time */
  if (samples.size () > 1)
    samples.back ().time_ms = std::max (sample.time_ms, samples[samples.size () - 2].time_ms);
  while (samples.size () > kMaxSamples)
    samples.pop_front ();
}

void
StatsHistory::mark (const std::string & id, gint64 time_ms, StreamState state,
    const std::string & reason)
{
  if (!markable (state))
    return;
  auto it = streams_.find (id);
  if (it != streams_.end () && !it->second.marks.empty () && it->second.marks.back ().state == state)
    return;
  Stream & s = streams_[id];
  if (!s.marks.empty ())
    time_ms = std::max (time_ms, s.marks.back ().time_ms);
  s.marks.push_back ({ time_ms, state, reason });
  while (s.marks.size () > kMaxMarks)
    s.marks.pop_front ();
  if (state != StreamState::live && !s.samples.empty () && !is_gap (s.samples.back ())) {
    StatsSample gap;
    gap.time_ms = time_ms;
    add (id, gap);
  }
}

void
StatsHistory::prune (gint64 now_ms)
{
  gint64 oldest = now_ms - kWindowMs;
  for (auto it = streams_.begin (); it != streams_.end ();) {
    Stream & s = it->second;
    while (!s.samples.empty () && s.samples.front ().time_ms < oldest)
      s.samples.pop_front ();
    while (!s.marks.empty () && s.marks.front ().time_ms < oldest)
      s.marks.pop_front ();
    if (s.samples.empty () && s.marks.empty ())
      it = streams_.erase (it);
    else
      ++it;
  }
}

size_t
StatsHistory::samples (const std::string & id) const
{
  auto it = streams_.find (id);
  return it == streams_.end () ? 0 : it->second.samples.size ();
}

size_t
StatsHistory::marks (const std::string & id) const
{
  auto it = streams_.find (id);
  return it == streams_.end () ? 0 : it->second.marks.size ();
}

std::string
StatsHistory::json (const std::string & id, gint64 now_ms) const
{
  static const Stream kNone;
  auto it = streams_.find (id);
  const Stream & s = it == streams_.end () ? kNone : it->second;

  std::string out = "{\"id\":" + quoted (id) + ",\"now\":";
  append_number (out, seconds (now_ms), 3);
  out += ",\"window\":" + std::to_string (kWindowMs / 1000) + ",\"interval\":"
      + std::to_string (kIntervalMs / 1000) + ",\"series\":{";
  append_series (out, "t", s.samples, 3, [] (const StatsSample & x) { return seconds (x.time_ms); });
  out += ',';
  append_series (out, "bitrate", s.samples, 0, [] (const StatsSample & x) { return x.bitrate; });
  out += ',';
  append_series (out, "fps", s.samples, 2, [] (const StatsSample & x) { return x.fps; });
  out += ',';
  append_series (out, "keyframe_interval", s.samples, 2,
      [] (const StatsSample & x) { return x.keyframe_interval; });
  out += ',';
  append_series (out, "health", s.samples, 0, [] (const StatsSample & x) { return x.health; });
  out += ',';
  append_series (out, "viewers", s.samples, 0, [] (const StatsSample & x) { return x.viewers; });
  out += "},\"marks\":[";
  for (size_t i = 0; i < s.marks.size (); i++) {
    const StateMark & m = s.marks[i];
    out += i ? ",{\"t\":" : "{\"t\":";
    append_number (out, seconds (m.time_ms), 3);
    out += ",\"state\":" + quoted (state_name (m.state)) + ",\"reason\":"
        + (m.reason.empty () ? std::string ("null") : quoted (m.reason)) + "}";
  }
  out += "]}";
  return out;
}

}  // namespace castline::launcher
