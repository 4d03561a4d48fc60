#include "streams/streampipeline.h"

#include <glib/gstdio.h>

GST_DEBUG_CATEGORY_STATIC (castline_stream_debug);
#define GST_CAT_DEFAULT castline_stream_debug

namespace castline::launcher {

namespace {

/* RFC 6455 7.4.1: a normal closure, what a publisher that stopped sends */
constexpr guint kWebSocketCloseNormal = 1000;

GstPadProbeReturn
count_buffer (GstPad *, GstPadProbeInfo *, gpointer last_us)
{
  static_cast<std::atomic<gint64> *> (last_us)->store (g_get_monotonic_time ());
  return GST_PAD_PROBE_OK;
}

/* Asks the publisher for a keyframe (an upstream GstForceKeyUnit, which
 * webrtcbin's RTP session turns into a PLI) when the video entering the
 * graph has had none for a segment's length: a WebRTC encoder sends
 * keyframes only when asked, and hlssink2 can cut a segment only at one.
 * At most one request per half segment. Streaming thread only. */
struct KeyframeRequester {
  GstClockTime interval;
  GstClockTime last_key = GST_CLOCK_TIME_NONE;   /* PTS */
  GstClockTime last_request = GST_CLOCK_TIME_NONE;

  static GstPadProbeReturn
  probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
  {
    auto *k = static_cast<KeyframeRequester *> (data);
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    GstClockTime pts = GST_BUFFER_PTS (buf);
    if (!GST_CLOCK_TIME_IS_VALID (pts))
      return GST_PAD_PROBE_OK;
    if (!GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT)) {
      k->last_key = pts;
      return GST_PAD_PROBE_OK;
    }
    bool due = !GST_CLOCK_TIME_IS_VALID (k->last_key) || pts >= k->last_key + k->interval;
    bool asked_lately = GST_CLOCK_TIME_IS_VALID (k->last_request)
        && pts < k->last_request + k->interval / 2 && pts >= k->last_request;
    if (due && !asked_lately) {
      k->last_request = pts;
      GST_LOG_OBJECT (pad, "no keyframe for %" GST_TIME_FORMAT ": asking for one",
          GST_TIME_ARGS (GST_CLOCK_TIME_IS_VALID (k->last_key) ? pts - k->last_key : pts));
      GstStructure *fku = gst_structure_new ("GstForceKeyUnit",
          "running-time", GST_TYPE_CLOCK_TIME, GST_CLOCK_TIME_NONE,
          "all-headers", G_TYPE_BOOLEAN, TRUE, "count", G_TYPE_UINT, 0, nullptr);
      gst_pad_push_event (pad, gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM, fku));
    }
    return GST_PAD_PROBE_OK;
  }
};

/* the kind of a demuxer or depayloader pad from its caps or name */
std::string
pad_kind (GstPad * pad)
{
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  const char *name = caps && gst_caps_get_size (caps) > 0
      ? gst_structure_get_name (gst_caps_get_structure (caps, 0)) : "";
  if (g_str_has_prefix (name, "video/"))
    return "video";
  if (g_str_has_prefix (name, "audio/"))
    return "audio";
  g_autofree gchar *pad_name = gst_pad_get_name (pad);
  if (g_str_has_prefix (pad_name, "video"))
    return "video";
  if (g_str_has_prefix (pad_name, "audio"))
    return "audio";
  return "";
}

}  // namespace

std::unique_ptr<StreamPipeline>
StreamPipeline::create (const PipelineDescription & d, const std::string & stream_id,
    const OutputSettings & out, Listener listener, std::string & error)
{
  static gsize debug_once = 0;
  if (g_once_init_enter (&debug_once)) {
    GST_DEBUG_CATEGORY_INIT (castline_stream_debug, "castline-stream", 0, "launcher streams");
    g_once_init_leave (&debug_once, 1);
  }
  const char *sink = out.s3.enabled () ? "s3hlssink name=out" : "hlssink2 name=out";
  std::string desc = render_graph (d, { { "output", sink }, { "stream_id", stream_id },
        { "ladder", "" }, { "video_parse", video_parse_for (out.video_codec) },
        { "video_decode", video_decode_for (out.video_codec) } });
  GError *err = nullptr;
  GstElement *bin = gst_parse_launch_full (desc.c_str (), nullptr, GST_PARSE_FLAG_FATAL_ERRORS,
      &err);
  if (!bin || err) {
    error = "pipeline " + d.name + " does not build: " + (err ? err->message : "?");
    g_clear_error (&err);
    if (bin)
      gst_object_unref (bin);
    return nullptr;
  }
  if (!GST_IS_PIPELINE (bin)) {
    error = "pipeline " + d.name + " is a single element";
    gst_object_unref (bin);
    return nullptr;
  }
  gst_object_set_name (GST_OBJECT (bin), ("stream-" + stream_id).c_str ());
  /* The stream is over when the HLS sink has written its final playlist,
   * which its own EOS message says: the pipeline's EOS never comes with a
   * WHIP ingest, whose webrtcbin holds sinks (nicesink) that get no EOS.
   * Forwarded, the children's EOS messages reach the bus. */
  g_object_set (bin, "message-forward", TRUE, nullptr);

  std::unique_ptr<StreamPipeline> p (new StreamPipeline ());
  p->pipeline_ = GST_PIPELINE (bin);
  p->listener_ = std::move (listener);
  p->stream_id_ = stream_id;
  p->out_ = out;
  if (!out.s3.enabled () && g_mkdir_with_parents (out.hls_dir.c_str (), 0755) != 0) {
    error = "cannot create " + out.hls_dir + ": " + g_strerror (errno);
    return nullptr;
  }
  if (g_autoptr (GstElement) sinkel = gst_bin_get_by_name (GST_BIN (bin), "out")) {
    if (!p->add_output (sinkel, "", true, error))
      return nullptr;
  } else {
    /* {ladder}: one sink per rung, made at the input's first caps */
    StreamPipeline *self = p.get ();
    AbrBuilder::Hooks hooks;
    hooks.make_sink = [self] (const RungPlan & plan, std::string & why) -> GstElement * {
      GstElement *e = gst_element_factory_make (self->out_.s3.enabled () ? "s3hlssink" : "hlssink2",
          rung_sink_name (plan.rung).c_str ());
      if (!e) {
        why = "no HLS sink element";
        return nullptr;
      }
      /* encoded rungs take keyframes only where AbrBuilder forces them;
       * the passthrough rung may ask the publisher, as `out` does */
      if (!self->add_output (e, plan.rung.name, plan.passthrough, why)) {
        gst_object_unref (gst_object_ref_sink (e));
        return nullptr;
      }
      return e;
    };
    std::weak_ptr<bool> alive = p->alive_;
    hooks.master_ready = [self, alive] (std::string master) {
      /* the main context writes or uploads it; the pipeline may be gone */
      auto *job = new std::function<void ()> ([self, alive, master] {
            if (!alive.expired ())
              self->write_master (master);
          });
      g_main_context_invoke_full (nullptr, G_PRIORITY_DEFAULT, [] (gpointer data) -> gboolean {
            (*static_cast<std::function<void ()> *> (data)) ();
            return G_SOURCE_REMOVE;
          }, job, [] (gpointer data) { delete static_cast<std::function<void ()> *> (data); });
    };
    p->abr_ = std::make_unique<AbrBuilder> (GST_BIN (bin), out.ladder, out.target_duration,
        std::move (hooks));
    if (!p->abr_->install (error)) {
      error = "pipeline " + d.name + ": " + error;
      return nullptr;
    }
    if (out.s3.enabled () && !out.s3_client) {
      error = "pipeline " + d.name + ": S3 output needs a client for the master playlist";
      return nullptr;
    }
  }
  g_autoptr (GstBus) bus = gst_pipeline_get_bus (p->pipeline_);
  gst_bus_set_sync_handler (bus, on_bus_sync, p.get (), nullptr);
  p->bus_watch_ = gst_bus_add_watch (bus, on_bus, p.get ());
  for (const char *entry : { "video_in", "audio_in" }) {
    g_autoptr (GstElement) e = gst_bin_get_by_name (GST_BIN (bin), entry);
    if (!e)
      continue;
    g_autoptr (GstPad) pad = gst_element_get_static_pad (e, "sink");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer, &p->last_buffer_us_, nullptr);
    if (g_str_equal (entry, "video_in")) {
      /* a little under a segment, so that the keyframe comes in time */
      auto *k = new KeyframeRequester { (GstClockTime) out.target_duration * GST_SECOND * 9 / 10 };
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, KeyframeRequester::probe, k,
          [] (gpointer data) { delete static_cast<KeyframeRequester *> (data); });
    }
  }
  return p;
}

StreamPipeline::~StreamPipeline ()
{
  alive_.reset ();
  if (bus_watch_)
    g_source_remove (bus_watch_);
  if (stop_timer_)
    g_source_remove (stop_timer_);
  if (idle_timer_)
    g_source_remove (idle_timer_);
  if (pipeline_) {
    gst_element_set_state (GST_ELEMENT (pipeline_), GST_STATE_NULL);
    g_autoptr (GstBus) bus = gst_pipeline_get_bus (pipeline_);
    gst_bus_set_sync_handler (bus, nullptr, nullptr, nullptr);
    gst_object_unref (pipeline_);
  }
  if (video_stats_)
    gst_structure_free (video_stats_);
  if (audio_stats_)
    gst_structure_free (audio_stats_);
  if (final_output_stats_)
    gst_structure_free (final_output_stats_);
}

bool
StreamPipeline::add_output (GstElement * sink, const std::string & rung, bool request_keyframes,
    std::string & error)
{
  HlsOutput o;
  o.name = rung;
  o.sink = sink;
  std::string tmpl = out_.segment_prefix + "segment%05d.ts";
  std::shared_ptr<PlaylistDates> dates;
  if (out_.s3.enabled ()) {
    o.key_prefix = out_.s3.key_prefix + stream_id_ + "/" + (rung.empty () ? "" : rung + "/");
    g_object_set (sink, "endpoint", out_.s3.endpoint.c_str (), "bucket", out_.s3.bucket.c_str (),
        "region", out_.s3.region.c_str (), "access-key", out_.s3.access_key.c_str (),
        "secret-key", out_.s3.secret_key.c_str (), "key-prefix", o.key_prefix.c_str (),
        "location", tmpl.c_str (), "playlist-location", "index.m3u8",
        "program-date-time", TRUE, nullptr);
  } else {
    o.dir = out_.hls_dir + (rung.empty () ? "" : G_DIR_SEPARATOR_S + rung);
    if (g_mkdir_with_parents (o.dir.c_str (), 0755) != 0) {
      error = "cannot create " + o.dir + ": " + g_strerror (errno);
      return false;
    }
    std::string location = o.dir + G_DIR_SEPARATOR_S + tmpl;
    std::string playlist = o.dir + G_DIR_SEPARATOR_S + "index.m3u8";
    g_object_set (sink, "location", location.c_str (), "playlist-location", playlist.c_str (),
        nullptr);
    dates = PlaylistDates::attach (sink, playlist);
  }
  g_object_set (sink, "target-duration", out_.target_duration, "playlist-length",
      out_.playlist_length, "max-files", out_.max_files, "send-keyframe-requests",
      request_keyframes, nullptr);

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
    hook = output_hook_;
  }
  if (hook)
    hook (o);
  return true;
}

void
StreamPipeline::set_output_hook (std::function<void (const HlsOutput &)> hook)
{
  std::vector<HlsOutput> now;
  {
    std::lock_guard<std::mutex> lk (lock_);
    output_hook_ = hook;
    now = outputs_;
  }
  for (const HlsOutput & o : now)
    hook (o);
}

std::vector<HlsOutput>
StreamPipeline::outputs () const
{
  std::lock_guard<std::mutex> lk (lock_);
  return outputs_;
}

/* The master playlist of an abr stream, once its rungs are known: next to
 * the rungs' folders, or at <key_prefix><id>/index.m3u8 */
void
StreamPipeline::write_master (const std::string & text)
{
  if (out_.s3.enabled ()) {
    std::string key = out_.s3.key_prefix + stream_id_ + "/index.m3u8";
    if (!out_.s3_client)
      return;
    g_autoptr (GBytes) body = g_bytes_new (text.data (), text.size ());
    /* the answer comes on the client's thread: nothing of this pipeline there */
    out_.s3_client->put_object (key, body, "application/vnd.apple.mpegurl", "max-age=1",
        [key] (castline::s3::S3Result r) {
          if (r.ok)
            GST_INFO ("master playlist uploaded to %s", key.c_str ());
          else
            g_warning ("the master playlist %s could not be uploaded: %s", key.c_str (),
                r.error.describe ().c_str ());
        });
    return;
  }
  std::string path = out_.hls_dir + G_DIR_SEPARATOR_S + "index.m3u8";
  g_autoptr (GError) err = nullptr;
  if (!g_file_set_contents (path.c_str (), text.c_str (), (gssize) text.size (), &err))
    g_warning ("cannot write the master playlist %s: %s", path.c_str (), err->message);
  else
    GST_INFO_OBJECT (pipeline_, "master playlist written: %s", path.c_str ());
}

void
StreamPipeline::link_media (const std::string & kind, GstPad * pad)
{
  GstElement *entry = kind == "video" || kind == "audio"
      ? gst_bin_get_by_name (GST_BIN (pipeline_), (kind + "_in").c_str ()) : nullptr;
  GstPad *sinkpad = entry ? gst_element_get_static_pad (entry, "sink") : nullptr;
  if (sinkpad && !gst_pad_is_linked (sinkpad)) {
    GstPadLinkReturn r = gst_pad_link (pad, sinkpad);
    if (r != GST_PAD_LINK_OK)
      GST_WARNING_OBJECT (pipeline_, "cannot link %s to %s: %s", GST_PAD_NAME (pad),
          (kind + "_in").c_str (), gst_pad_link_get_name (r));
    else
      GST_INFO_OBJECT (pipeline_, "%s linked to %s_in", GST_PAD_NAME (pad), kind.c_str ());
  } else {
    /* a track the graph does not take: drop it, without stalling the ingest */
    GstElement *fake = gst_element_factory_make ("fakesink", nullptr);
    g_object_set (fake, "sync", FALSE, "async", FALSE, nullptr);
    gst_bin_add (GST_BIN (pipeline_), fake);
    gst_element_sync_state_with_parent (fake);
    GstPad *fpad = gst_element_get_static_pad (fake, "sink");
    gst_pad_link (pad, fpad);
    gst_object_unref (fpad);
    GST_INFO_OBJECT (pipeline_, "%s (%s) dropped: the graph takes no more %s", GST_PAD_NAME (pad),
        kind.c_str (), kind.empty () ? "streams" : kind.c_str ());
  }
  if (sinkpad)
    gst_object_unref (sinkpad);
  if (entry)
    gst_object_unref (entry);
}

GstElement *
StreamPipeline::add_websocket_ingest (unsigned idle_timeout_s)
{
  GstElement *src = gst_element_factory_make ("webmwssrc", "ingest");
  GstElement *demux = gst_element_factory_make ("matroskademux", "demux");
  g_object_set (src, "port", -1, "idle-timeout", idle_timeout_s, nullptr);
  gst_bin_add_many (GST_BIN (pipeline_), src, demux, nullptr);
  gst_element_link (src, demux);
  g_signal_connect (demux, "pad-added", G_CALLBACK (+[] (GstElement *, GstPad * pad, gpointer self) {
        auto *p = static_cast<StreamPipeline *> (self);
        p->link_media (pad_kind (pad), pad);
      }), this);
  /* a recording without a track the graph waits for (a mimeType that
   * promised video): that branch ends at once, or the HLS sink would wait
   * for it forever */
  g_signal_connect (demux, "no-more-pads", G_CALLBACK (+[] (GstElement *, gpointer self) {
        static_cast<StreamPipeline *> (self)->end_unlinked_entries ();
      }), this);
  return src;
}

void
StreamPipeline::end_unlinked_entries ()
{
  for (const char *entry : { "video_in", "audio_in" }) {
    g_autoptr (GstElement) e = gst_bin_get_by_name (GST_BIN (pipeline_), entry);
    if (!e)
      continue;
    g_autoptr (GstPad) pad = gst_element_get_static_pad (e, "sink");
    if (gst_pad_is_linked (pad))
      continue;
    GST_WARNING_OBJECT (pipeline_, "the publisher sends nothing for %s: that branch ends", entry);
    gst_pad_send_event (pad, gst_event_new_eos ());
  }
}

bool
StreamPipeline::start (std::string & error)
{
  if (gst_element_set_state (GST_ELEMENT (pipeline_), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    error = "the pipeline does not start";
    g_autoptr (GstBus) bus = gst_pipeline_get_bus (pipeline_);
    if (GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR)) {
      GError *e = nullptr;
      gst_message_parse_error (m, &e, nullptr);
      error += std::string (": ") + e->message;
      g_error_free (e);
      gst_message_unref (m);
    }
    gst_element_set_state (GST_ELEMENT (pipeline_), GST_STATE_NULL);
    return false;
  }
  return true;
}

void
StreamPipeline::stop (unsigned timeout_s)
{
  if (finished_ || stopping_)
    return;
  stopping_ = true;
  GST_INFO_OBJECT (pipeline_, "ending the stream: EOS into the graph");
  bool sent = false;
  for (const char *entry : { "video_in", "audio_in" }) {
    g_autoptr (GstElement) e = gst_bin_get_by_name (GST_BIN (pipeline_), entry);
    if (!e)
      continue;
    g_autoptr (GstPad) pad = gst_element_get_static_pad (e, "sink");
    gst_pad_send_event (pad, gst_event_new_eos ());
    sent = true;
  }
  if (!sent)
    gst_element_send_event (GST_ELEMENT (pipeline_), gst_event_new_eos ());
  stop_timer_ = g_timeout_add_seconds (timeout_s, [] (gpointer self) -> gboolean {
        auto *p = static_cast<StreamPipeline *> (self);
        p->stop_timer_ = 0;
        p->finish (false, "the pipeline did not finalize in time");
        return G_SOURCE_REMOVE;
      }, this);
}

void
StreamPipeline::watch_idle (unsigned idle_s)
{
  struct Idle {
    StreamPipeline *self;
    gint64 limit_us;
  };
  auto *w = new Idle { this, (gint64) idle_s * G_USEC_PER_SEC };
  idle_timer_ = g_timeout_add_full (G_PRIORITY_DEFAULT, 500, [] (gpointer data) -> gboolean {
        auto *w = static_cast<Idle *> (data);
        gint64 last = w->self->last_buffer_us_.load ();
        if (last && g_get_monotonic_time () - last > w->limit_us) {
          GST_WARNING_OBJECT (w->self->pipeline_, "no data for %" G_GINT64_FORMAT " s: ending",
              w->limit_us / G_USEC_PER_SEC);
          w->self->idle_timer_ = 0;
          w->self->tell_publisher_lost ("no media from the publisher for "
              + std::to_string (w->limit_us / G_USEC_PER_SEC) + " s");
          w->self->stop (10);
          return G_SOURCE_REMOVE;
        }
        return G_SOURCE_CONTINUE;
      }, w, [] (gpointer data) { delete static_cast<Idle *> (data); });
}

void
StreamPipeline::tell_publisher_lost (const std::string & reason)
{
  if (publisher_lost_ || stopping_ || finished_)
    return;
  publisher_lost_ = true;
  GST_INFO_OBJECT (pipeline_, "publisher lost: %s", reason.c_str ());
  if (listener_.publisher_lost)
    listener_.publisher_lost (reason);
}

GstStructure *
StreamPipeline::stats () const
{
  std::lock_guard<std::mutex> lk (lock_);
  GstStructure *s = gst_structure_new_empty ("stream-stats");
  if (video_stats_)
    gst_structure_set (s, "video", GST_TYPE_STRUCTURE, video_stats_, NULL);
  if (audio_stats_)
    gst_structure_set (s, "audio", GST_TYPE_STRUCTURE, audio_stats_, NULL);
  return s;
}

GstStructure *
StreamPipeline::output_stats () const
{
  if (finished_)
    return final_output_stats_ ? gst_structure_copy (final_output_stats_) : nullptr;
  return sink_stats ();
}

/* one sink's stats as they are; several (abr rungs): their counters added */
GstStructure *
StreamPipeline::sink_stats () const
{
  GstStructure *total = nullptr;
  for (const HlsOutput & o : outputs ()) {
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
      guint64 a = 0, b = 0;
      if (gst_structure_get_uint64 (s, field, &b) && gst_structure_get_uint64 (total, field, &a))
        gst_structure_set (total, field, G_TYPE_UINT64, a + b, nullptr);
    }
    gst_structure_free (s);
  }
  return total;
}

void
StreamPipeline::finish (bool ok, const std::string & reason)
{
  if (finished_)
    return;
  finished_ = true;
  if (stop_timer_) {
    g_source_remove (stop_timer_);
    stop_timer_ = 0;
  }
  if (idle_timer_) {
    g_source_remove (idle_timer_);
    idle_timer_ = 0;
  }
  final_output_stats_ = sink_stats ();   /* before the sink forgets them */
  gst_element_set_state (GST_ELEMENT (pipeline_), GST_STATE_NULL);
  GST_INFO_OBJECT (pipeline_, "finished: %s", ok ? "EOS" : reason.c_str ());
  if (listener_.finished)
    listener_.finished (ok, reason);   /* may destroy this */
}

/* On the posting thread, before the message is queued: the start of every
 * segment of an hlssink2 output, and when PLAYING starts the offset of
 * running time to real time (base time + the clock's offset to real time,
 * taken once, so later jumps of the system time do not move dates), for
 * its playlist's dates (written on a streaming thread when a segment
 * closes). */
GstBusSyncReply
StreamPipeline::on_bus_sync (GstBus *, GstMessage * msg, gpointer data)
{
  auto *self = static_cast<StreamPipeline *> (data);
  GstElement *pipeline = GST_ELEMENT (self->pipeline_);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_STATE_CHANGED
      && GST_MESSAGE_SRC (msg) == GST_OBJECT (pipeline)) {
    GstState state;
    gst_message_parse_state_changed (msg, nullptr, &state, nullptr);
    g_autoptr (GstClock) clock = gst_element_get_clock (pipeline);
    if (state != GST_STATE_PLAYING || !clock)
      return GST_BUS_PASS;
    std::lock_guard<std::mutex> lk (self->lock_);
    if (self->have_offset_)
      return GST_BUS_PASS;
    self->rt_to_unix_ns_ = (gint64) gst_element_get_base_time (pipeline)
        + g_get_real_time () * 1000 - (gint64) gst_clock_get_time (clock);
    self->have_offset_ = true;
    for (auto & [sink, d] : self->dates_)
      d->set_offset (self->rt_to_unix_ns_);
    return GST_BUS_PASS;
  }
  const GstStructure *s = GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT
      ? gst_message_get_structure (msg) : nullptr;
  GstClockTime rt = GST_CLOCK_TIME_NONE;
  if (!s || !gst_structure_has_name (s, "splitmuxsink-fragment-opened")
      || !gst_structure_get_uint64 (s, "running-time", &rt))
    return GST_BUS_PASS;
  std::shared_ptr<PlaylistDates> dates;
  {
    std::lock_guard<std::mutex> lk (self->lock_);
    for (auto & [sink, d] : self->dates_)
      if (gst_object_has_as_ancestor (GST_MESSAGE_SRC (msg), GST_OBJECT (sink)))
        dates = d;
  }
  if (dates)
    dates->segment_started (rt);
  return GST_BUS_PASS;
}

gboolean
StreamPipeline::on_bus (GstBus *, GstMessage * msg, gpointer data)
{
  auto *self = static_cast<StreamPipeline *> (data);
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_EOS:
      self->bus_watch_ = 0;          /* finish may destroy self */
      self->finish (true, "");
      return G_SOURCE_REMOVE;
    case GST_MESSAGE_ERROR: {
      GError *e = nullptr;
      g_autofree gchar *dbg = nullptr;
      gst_message_parse_error (msg, &e, &dbg);
      std::string reason = std::string (GST_OBJECT_NAME (GST_MESSAGE_SRC (msg))) + ": "
          + e->message;
      GST_WARNING_OBJECT (self->pipeline_, "error: %s (%s)", reason.c_str (), dbg ? dbg : "");
      g_error_free (e);
      self->bus_watch_ = 0;
      self->finish (false, reason);
      return G_SOURCE_REMOVE;
    }
    case GST_MESSAGE_WARNING: {
      GError *e = nullptr;
      gst_message_parse_warning (msg, &e, nullptr);
      GST_WARNING_OBJECT (self->pipeline_, "%s: %s", GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)),
          e->message);
      g_error_free (e);
      break;
    }
    case GST_MESSAGE_ELEMENT: {
      const GstStructure *s = gst_message_get_structure (msg);
      if (s && gst_structure_has_name (s, "GstBinForwarded")) {
        GstMessage *inner = nullptr;
        gst_structure_get (s, "message", GST_TYPE_MESSAGE, &inner, nullptr);
        bool output_done = false;
        if (inner && GST_MESSAGE_TYPE (inner) == GST_MESSAGE_EOS) {
          std::lock_guard<std::mutex> lk (self->lock_);
          output_done = self->eos_pending_.erase (GST_OBJECT_NAME (GST_MESSAGE_SRC (inner))) > 0
              && self->eos_pending_.empty ();
        }
        if (inner)
          gst_message_unref (inner);
        if (output_done) {
          GST_INFO_OBJECT (self->pipeline_, "every HLS sink has its final playlist");
          self->bus_watch_ = 0;      /* finish may destroy self */
          self->finish (true, "");
          return G_SOURCE_REMOVE;
        }
        break;
      }
      /* webmwssrc's: 1000 is a publisher that stopped (stop-stream, or its
       * own normal close); any other code, one that went away (lost,
       * closed with 1001 going away, idle, or cut off by us) */
      guint code = 0;
      if (s && gst_structure_has_name (s, "webmwssrc-publisher-disconnected")
          && gst_structure_get_uint (s, "close-code", &code)
          && code != kWebSocketCloseNormal) {
        const char *why = gst_structure_get_string (s, "reason");
        self->tell_publisher_lost ("the publisher's WebSocket closed with " + std::to_string (code)
            + (why && *why ? std::string (" (") + why + ")" : std::string ()));
        break;
      }
      if (!s || !gst_structure_has_name (s, "viewerstats"))
        break;
      const char *src = GST_OBJECT_NAME (GST_MESSAGE_SRC (msg));
      std::lock_guard<std::mutex> lk (self->lock_);
      GstStructure **slot = g_str_equal (src, "video_stats") ? &self->video_stats_
          : g_str_equal (src, "audio_stats") ? &self->audio_stats_ : nullptr;
      if (slot) {
        if (*slot)
          gst_structure_free (*slot);
        *slot = gst_structure_copy (s);
      }
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

}  // namespace castline::launcher
