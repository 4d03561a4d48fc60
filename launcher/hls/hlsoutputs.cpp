#include "hls/hlsoutputs.h"

#include "common/playlistdates.h"

#include <algorithm>
#include <glib/gstdio.h>

namespace castline::launcher {

std::string
output_dir (const std::string & hls_dir, const std::string & rung)
{
  return hls_dir + (rung.empty () ? "" : G_DIR_SEPARATOR_S + rung);
}

std::string
output_key_prefix (const S3Output & s3, const std::string & stream_id, const std::string & rung)
{
  return s3.key_prefix + stream_id + "/" + (rung.empty () ? "" : rung + "/");
}

std::string
HlsOutput::segment_name (guint n) const
{
  g_autofree gchar *number = g_strdup_printf ("%05u", n);
  return segment_stem + number + segment_ext;
}

std::string
init_name (const std::string & segment_prefix)
{
  return segment_prefix + "init.mp4";
}

const char *
hls_sink_factory (bool s3, bool low_latency)
{
  return s3 ? "s3hlssink" : low_latency ? "llhlssink" : "hlssink2";
}

namespace {

/* llhlssink's numbers whatever their GType (unsigned, double) */
void
set_number (GstElement * sink, const char *property, double value)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_dtostr (buf, sizeof (buf), value);
  gst_util_set_object_arg (G_OBJECT (sink), property, buf);
}

}  // namespace

HlsOutputs::HlsOutputs (std::string stream_id, OutputSettings settings)
    : stream_id_ (std::move (stream_id)), settings_ (std::move (settings))
{
}

bool
HlsOutputs::add (GstElement * sink, const std::string & rung, bool request_keyframes,
    std::string & error)
{
  const OutputSettings & out = settings_;
  HlsOutput o;
  o.name = rung;
  o.sink = sink;
  bool fmp4 = g_strcmp0 (sink_factory (), "llhlssink") == 0;
  o.segment_stem = out.segment_prefix + "segment";
  o.segment_ext = fmp4 ? ".m4s" : ".ts";
  o.init = fmp4 ? init_name (out.segment_prefix) : "";
  std::string tmpl = o.segment_stem + "%05d" + o.segment_ext;
  std::shared_ptr<PlaylistDates> dates;
  std::shared_ptr<LiveHlsStore> store;
  if (out.s3.enabled ()) {
    o.key_prefix = output_key_prefix (out.s3, stream_id_, rung);
    g_object_set (sink, "endpoint", out.s3.endpoint.c_str (), "bucket", out.s3.bucket.c_str (),
        "region", out.s3.region.c_str (), "access-key", out.s3.access_key.c_str (),
        "secret-key", out.s3.secret_key.c_str (), "key-prefix", o.key_prefix.c_str (),
        "location", tmpl.c_str (), "playlist-location", "index.m3u8",
        "program-date-time", TRUE, nullptr);
  } else {
    o.dir = output_dir (out.hls_dir, rung);
    if (g_mkdir_with_parents (o.dir.c_str (), 0755) != 0) {
      error = "cannot create " + o.dir + ": " + g_strerror (errno);
      return false;
    }
    std::string location = o.dir + G_DIR_SEPARATOR_S + tmpl;
    std::string playlist = o.dir + G_DIR_SEPARATOR_S + "index.m3u8";
    g_object_set (sink, "location", location.c_str (), "playlist-location", playlist.c_str (),
        nullptr);
    if (fmp4) {
      if (!out.live_hls) {
        error = "an LL-HLS output needs the registry of live stores";
        return false;
      }
      /* parts are served from memory (the store), never from disk; the
       * init is named per session as the segments are (served immutable) */
      std::string init = o.dir + G_DIR_SEPARATOR_S + o.init;
      g_object_set (sink, "init-location", init.c_str (), "write-parts", FALSE,
          "program-date-time", TRUE, nullptr);
      set_number (sink, "part-target", out.part_target);
      store = std::make_shared<LiveHlsStore> ((double) out.target_duration);
      store->follow (sink);
    } else {
      dates = PlaylistDates::attach (sink, playlist);
    }
  }
  set_number (sink, "target-duration", out.target_duration);
  set_number (sink, "playlist-length", out.playlist_length);
  set_number (sink, "max-files", out.max_files);
  g_object_set (sink, "send-keyframe-requests", request_keyframes, nullptr);
  if (store)
    out.live_hls->add (stream_id_, rung, store);

  std::function<void (const HlsOutput &)> hook;
  {
    std::lock_guard<std::mutex> lk (lock_);
    outputs_.push_back (o);
    eos_pending_.insert (GST_OBJECT_NAME (sink));
    if (dates) {
      dates_.emplace_back (sink, dates);
      if (have_offset_)
        dates->set_offset (rt_to_unix_ns_);
    }
    hook = hook_;
  }
  if (hook)
    hook (o);
  return true;
}

void
HlsOutputs::set_hook (std::function<void (const HlsOutput &)> hook)
{
  std::vector<HlsOutput> now;
  {
    std::lock_guard<std::mutex> lk (lock_);
    hook_ = hook;
    now = outputs_;
  }
  for (const HlsOutput & o : now)
    hook (o);
}

std::vector<HlsOutput>
HlsOutputs::list () const
{
  std::lock_guard<std::mutex> lk (lock_);
  return outputs_;
}

bool
HlsOutputs::sink_done (GstObject * sink)
{
  std::lock_guard<std::mutex> lk (lock_);
  return eos_pending_.erase (GST_OBJECT_NAME (sink)) > 0 && eos_pending_.empty ();
}

/* The offset of running time to real time, taken once (see
 * running_time_to_unix_offset); the playlists' dates are written on
 * streaming threads when segments close. */
void
HlsOutputs::pipeline_playing (GstElement * pipeline)
{
  std::optional<gint64> offset = castline::common::running_time_to_unix_offset (pipeline);
  if (!offset)
    return;
  std::lock_guard<std::mutex> lk (lock_);
  if (have_offset_)
    return;
  rt_to_unix_ns_ = *offset;
  have_offset_ = true;
  for (auto & [sink, d] : dates_)
    d->set_offset (rt_to_unix_ns_);
}

void
HlsOutputs::fragment_opened (GstObject * src, GstClockTime running_time)
{
  std::shared_ptr<PlaylistDates> dates;
  {
    std::lock_guard<std::mutex> lk (lock_);
    for (auto & [sink, d] : dates_)
      if (gst_object_has_as_ancestor (src, GST_OBJECT (sink)))
        dates = d;
  }
  if (dates)
    dates->segment_started (running_time);
}

/* one sink's stats as they are; several (abr rungs): their counters added,
 * the worst of their times (latencies, lag), any rung's S3 outage, the
 * first rung's last error that has one */
namespace {

/* the larger of two times, GST_CLOCK_TIME_NONE (none yet) counting as none */
guint64
max_time (guint64 a, guint64 b)
{
  if (!GST_CLOCK_TIME_IS_VALID (a))
    return b;
  if (!GST_CLOCK_TIME_IS_VALID (b))
    return a;
  return std::max (a, b);
}

}  // namespace

GstStructure *
HlsOutputs::stats () const
{
  GstStructure *total = nullptr;
  for (const HlsOutput & o : list ()) {
    GParamSpec *spec = g_object_class_find_property (G_OBJECT_GET_CLASS (o.sink), "stats");
    if (!spec || spec->value_type != GST_TYPE_STRUCTURE)
      continue;
    GstStructure *s = nullptr;
    g_object_get (o.sink, "stats", &s, nullptr);
    if (!s)
      continue;
    if (!total) {
      total = s;
      continue;
    }
    for (int i = 0; i < gst_structure_n_fields (s); i++) {
      const char *field = gst_structure_nth_field_name (s, i);
      bool time = g_str_has_suffix (field, "-latency") || g_str_has_suffix (field, "-lag");
      guint64 a = 0, b = 0;
      gboolean x = FALSE, y = FALSE;
      const char *text = nullptr;
      if (gst_structure_get_uint64 (s, field, &b) && gst_structure_get_uint64 (total, field, &a))
        gst_structure_set (total, field, G_TYPE_UINT64, time ? max_time (a, b) : a + b, nullptr);
      else if (gst_structure_get_boolean (s, field, &y) && gst_structure_get_boolean (total, field, &x))
        gst_structure_set (total, field, G_TYPE_BOOLEAN, x || y, nullptr);
      else if ((text = gst_structure_get_string (s, field)) && *text
          && !g_strcmp0 (gst_structure_get_string (total, field), ""))
        gst_structure_set (total, field, G_TYPE_STRING, text, nullptr);
    }
    gst_structure_free (s);
  }
  return total;
}

}  // namespace castline::launcher
