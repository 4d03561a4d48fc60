#include "streams/streampipeline.h"

#include "hls/keyframerequester.h"
#include "hls/masterplaylist.h"
#include "streams/maincontext.h"
#include "streams/elementfactory.h"
#include "streams/elementnames.h"
#include "streams/failurereason.h"

#include <glib/gstdio.h>

GST_DEBUG_CATEGORY (castline_stream_debug);
#define GST_CAT_DEFAULT castline_stream_debug

namespace castline::launcher {

namespace {

GstPadProbeReturn
count_buffer (GstPad *, GstPadProbeInfo *, gpointer last_us)
{
  static_cast<std::atomic<gint64> *> (last_us)->store (g_get_monotonic_time ());
  return GST_PAD_PROBE_OK;
}

/* the bus message a linked entry's EOS (the publisher's end of its
 * media) is told to the main context with */
constexpr char kMediaEnded[] = "castline-media-ended";

struct EntryWatch {
  GstElement *pipeline;            /* not a ref: the probe goes with it */
  std::atomic<bool> *posted;
};

/* a streaming thread: the first EOS through a linked entry, posted once.
 * An unlinked entry's EOS (end_unlinked_entries) is no end of media. */
GstPadProbeReturn
post_media_end (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  auto *w = static_cast<EntryWatch *> (data);
  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS && gst_pad_is_linked (pad)
      && !w->posted->exchange (true))
    gst_element_post_message (w->pipeline, gst_message_new_application (GST_OBJECT (w->pipeline),
            gst_structure_new_empty (kMediaEnded)));
  return GST_PAD_PROBE_OK;
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
  auto outputs = std::make_unique<HlsOutputs> (stream_id, out);
  GraphValues values;
  values.output = std::string (outputs->sink_factory ()) + " name=" + names::kOutput;
  values.stream_id = stream_id;
  values.set_video_codec (out.video_codec);
  values.set_audio_codec (out.audio_codec);
  std::string desc = render_graph (d, values);
  std::string why;
  GstElement *bin = parse_graph (desc, false, why);
  if (!bin) {
    error = "pipeline " + d.name + ": " + why;
    return nullptr;
  }
  if (!GST_IS_PIPELINE (bin)) {
    error = "pipeline " + d.name + " is a single element";
    gst_object_unref (bin);
    return nullptr;
  }
  gst_object_set_name (GST_OBJECT (bin), ("stream-" + stream_id).c_str ());
  /* The stream is over when the HLS sinks have written their final
   * playlists, which their own EOS messages say: the pipeline's EOS never
   * comes with a WHIP ingest, whose webrtcbin holds sinks (nicesink) that
   * get no EOS. Forwarded, the children's EOS messages reach the bus. */
  g_object_set (bin, "message-forward", TRUE, nullptr);

  std::unique_ptr<StreamPipeline> p (new StreamPipeline ());
  p->pipeline_ = GST_PIPELINE (bin);
  p->listener_ = std::move (listener);
  p->stream_id_ = stream_id;
  p->outputs_ = std::move (outputs);
  if (!out.s3.enabled () && g_mkdir_with_parents (out.hls_dir.c_str (), 0755) != 0) {
    error = "cannot create " + out.hls_dir + ": " + g_strerror (errno);
    return nullptr;
  }
  if (g_autoptr (GstElement) sink = gst_bin_get_by_name (GST_BIN (bin), names::kOutput)) {
    if (!p->outputs_->add (sink, "", true, error))
      return nullptr;
  } else if (!p->install_ladder (d, error)) {
    return nullptr;
  }
  g_autoptr (GstBus) bus = gst_pipeline_get_bus (p->pipeline_);
  gst_bus_set_sync_handler (bus, on_bus_sync, p.get (), nullptr);
  p->bus_watch_ = gst_bus_add_watch (bus, on_bus, p.get ());
  p->watch_entries ();
  return p;
}

/* {ladder}: one sink per rung, made at the input's first caps on a
 * streaming thread; the master playlist once they are known */
bool
StreamPipeline::install_ladder (const PipelineDescription & d, std::string & error)
{
  const OutputSettings & out = outputs_->settings ();
  if (out.s3.enabled () && !out.s3_client) {
    error = "pipeline " + d.name + ": S3 output needs a client for the master playlist";
    return false;
  }
  HlsOutputs *outputs = outputs_.get ();
  AbrBuilder::Hooks hooks;
  hooks.make_sink = [outputs] (const RungPlan & plan, std::string & why) -> GstElement * {
    GstElement *e = make_element (outputs->sink_factory (), rung_sink_name (plan.rung).c_str (),
        why);
    if (!e)
      return nullptr;
    /* encoded rungs take keyframes only where AbrBuilder forces them; the
     * passthrough rung may ask the publisher, as `out` does */
    if (!outputs->add (e, plan.rung.name, plan.passthrough, why)) {
      gst_object_unref (gst_object_ref_sink (e));
      return nullptr;
    }
    return e;
  };
  std::string id = stream_id_;
  std::weak_ptr<bool> alive = alive_;
  hooks.master_ready = [outputs, id, alive] (std::string master) {
    /* the main context writes or uploads it; the pipeline may be gone */
    run_on_main_context ([alive, outputs, id, master] {
          if (!alive.expired ())
            publish_master_playlist (outputs->settings (), id, master);
        });
  };
  /* new rungs start at a keyframe: asked for as the stream's own watch
   * does (set_keyframe_request comes later, before start) */
  hooks.request_keyframe = [this] {
    if (keyframe_request_)
      keyframe_request_ ();
  };
  abr_ = std::make_unique<AbrBuilder> (GST_BIN (pipeline_), out.ladder, out.target_duration,
      std::move (hooks));
  if (out.abr_size_adapts)
    abr_->set_size_adapts ((GstClockTime) out.abr_settle * GST_SECOND);
  if (!abr_->install (error)) {
    error = "pipeline " + d.name + ": " + error;
    return false;
  }
  return true;
}

/* the time of the last buffer into each entry (watch_idle), and keyframe
 * requests on the video one */
void
StreamPipeline::watch_entries ()
{
  for (const char *entry : { names::kVideoIn, names::kAudioIn }) {
    g_autoptr (GstElement) e = gst_bin_get_by_name (GST_BIN (pipeline_), entry);
    if (!e)
      continue;
    g_autoptr (GstPad) pad = gst_element_get_static_pad (e, "sink");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer, &last_buffer_us_, nullptr);
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, post_media_end,
        new EntryWatch { GST_ELEMENT (pipeline_), &media_end_posted_ },
        [] (gpointer data) { delete static_cast<EntryWatch *> (data); });
    if (entry == names::kVideoIn) {
      /* a little under a segment, so that the keyframe comes in time */
      GstClockTime interval = (GstClockTime) outputs_->settings ().target_duration * GST_SECOND
          * 9 / 10;
      install_keyframe_requester (pad, interval, [this] {
            if (keyframe_request_)
              keyframe_request_ ();
          });
    }
  }
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

void
StreamPipeline::set_keyframe_request (std::function<void ()> ask)
{
  keyframe_request_ = std::move (ask);
}

void
StreamPipeline::add_element_message_handler (std::function<void (GstMessage *)> handler)
{
  element_handlers_.push_back (std::move (handler));
}

void
StreamPipeline::add_problem_handler (std::function<bool (GstMessage *)> handler)
{
  problem_handlers_.push_back (std::move (handler));
}

void
StreamPipeline::link_media (const std::string & kind, GstPad * pad)
{
  g_autoptr (GstPad) dest = graph_sink_for (kind);
  if (!dest)
    return;
  g_autoptr (GstElement) tap = make_tap (kind, dest);
  g_autoptr (GstPad) tap_sink = tap ? gst_element_get_static_pad (tap, "sink") : nullptr;
  GstPadLinkReturn r = gst_pad_link (pad, tap_sink ? tap_sink : dest);
  g_autoptr (GstElement) to = gst_pad_get_parent_element (dest);
  if (r != GST_PAD_LINK_OK)
    GST_WARNING_OBJECT (pipeline_, "cannot link %s to %s: %s", GST_PAD_NAME (pad),
        GST_OBJECT_NAME (to), gst_pad_link_get_name (r));
  else
    GST_INFO_OBJECT (pipeline_, "%s (%s) linked to %s%s", GST_PAD_NAME (pad), kind.c_str (),
        GST_OBJECT_NAME (to), tap ? " through its tap" : "");
}

GstPad *
StreamPipeline::graph_sink_for (const std::string & kind)
{
  const char *entry_name = names::entry_for (kind);
  g_autoptr (GstElement) entry = entry_name
      ? gst_bin_get_by_name (GST_BIN (pipeline_), entry_name) : nullptr;
  GstPad *sinkpad = entry ? gst_element_get_static_pad (entry, "sink") : nullptr;
  if (sinkpad && !gst_pad_is_linked (sinkpad))
    return sinkpad;
  g_clear_object (&sinkpad);
  /* a track the graph does not take: dropped, without stalling the ingest */
  std::string error;
  GstElement *fake = make_element ("fakesink", nullptr, error);
  if (!fake) {
    post_error (GST_ELEMENT (pipeline_), error);   /* the stream fails with it */
    return nullptr;
  }
  g_object_set (fake, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add (GST_BIN (pipeline_), fake);
  gst_element_sync_state_with_parent (fake);
  GST_INFO_OBJECT (pipeline_, "a %s track goes to %s: the graph takes no more %s", kind.c_str (),
      GST_OBJECT_NAME (fake), kind.empty () ? "streams" : kind.c_str ());
  return gst_element_get_static_pad (fake, "sink");
}

namespace {

struct TapWatch {
  std::string kind;
  const std::vector<std::function<void (const std::string &, GstCaps *)>> *listeners;
};

/* a streaming thread: the tap's caps, told to the listeners */
GstPadProbeReturn
tell_tap_caps (GstPad *, GstPadProbeInfo * info, gpointer data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  auto *w = static_cast<TapWatch *> (data);
  GstCaps *caps = nullptr;
  gst_event_parse_caps (event, &caps);
  for (auto & listener : *w->listeners)
    listener (w->kind, caps);
  return GST_PAD_PROBE_OK;
}

}  // namespace

GstElement *
StreamPipeline::make_tap (const std::string & kind, GstPad * dest)
{
  const char *name = names::tap_for (kind);
  if (!name)
    return nullptr;
  if (g_autoptr (GstElement) had = gst_bin_get_by_name (GST_BIN (pipeline_), name))
    return nullptr;                /* a second track of kind: the first is tapped */
  std::string error;
  GstElement *tee = make_element ("tee", name, error);
  if (!tee) {
    GST_WARNING_OBJECT (pipeline_, "%s: no tap", error.c_str ());
    return nullptr;
  }
  g_object_set (tee, "allow-not-linked", TRUE, nullptr);
  if (!gst_bin_add (GST_BIN (pipeline_), tee))
    return nullptr;                /* the same kind linked at once from two threads */
  /* the graph's branch first: the tap's caps are the graph's caps */
  g_autoptr (GstPad) src = gst_element_request_pad_simple (tee, "src_%u");
  GstPadLinkReturn r = gst_pad_link (src, dest);
  if (r != GST_PAD_LINK_OK)
    GST_WARNING_OBJECT (pipeline_, "cannot link %s to the graph: %s", name,
        gst_pad_link_get_name (r));
  g_autoptr (GstPad) sink = gst_element_get_static_pad (tee, "sink");
  gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, tell_tap_caps,
      new TapWatch { kind, &tap_listeners_ },
      [] (gpointer data) { delete static_cast<TapWatch *> (data); });
  gst_element_sync_state_with_parent (tee);
  return GST_ELEMENT (gst_object_ref (tee));
}

GstElement *
StreamPipeline::media_tap (const std::string & kind) const
{
  const char *name = names::tap_for (kind);
  return name ? gst_bin_get_by_name (GST_BIN (pipeline_), name) : nullptr;
}

void
StreamPipeline::add_tap_listener (
    std::function<void (const std::string & kind, GstCaps * caps)> listener)
{
  tap_listeners_.push_back (std::move (listener));
}

void
StreamPipeline::end_unlinked_entries ()
{
  for (const char *entry : { names::kVideoIn, names::kAudioIn }) {
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
  for (const char *entry : { names::kVideoIn, names::kAudioIn }) {
    g_autoptr (GstElement) e = gst_bin_get_by_name (GST_BIN (pipeline_), entry);
    if (!e)
      continue;
    g_autoptr (GstPad) pad = gst_element_get_static_pad (e, "sink");
    gst_pad_send_event (pad, gst_event_new_eos ());
    sent = true;
  }
  if (!sent)
    gst_element_send_event (GST_ELEMENT (pipeline_), gst_event_new_eos ());
  arm_stop_timer (timeout_s);
}

void
StreamPipeline::set_end_timeout (unsigned timeout_s)
{
  end_timeout_s_ = timeout_s;
}

/* the pipeline is stopped after timeout_s unless it finished: the stream
 * fails with that reason */
void
StreamPipeline::arm_stop_timer (unsigned timeout_s)
{
  if (stop_timer_ || finished_)
    return;
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
        StreamPipeline *self = w->self;
        gint64 last = self->last_buffer_us_.load ();
        if (!last || g_get_monotonic_time () - last <= w->limit_us)
          return G_SOURCE_CONTINUE;
        GST_WARNING_OBJECT (self->pipeline_, "no data for %" G_GINT64_FORMAT " s: ending",
            w->limit_us / G_USEC_PER_SEC);
        self->idle_timer_ = 0;
        if (!self->idle_told_ && !self->stopping_ && !self->finished_) {
          self->idle_told_ = true;
          if (self->listener_.idle)
            self->listener_.idle ("no media from the publisher for "
                + std::to_string (w->limit_us / G_USEC_PER_SEC) + " s");
        }
        self->stop (10);
        return G_SOURCE_REMOVE;
      }, w, [] (gpointer data) { delete static_cast<Idle *> (data); });
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
  return outputs_->stats ();
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
  final_output_stats_ = outputs_->stats ();   /* before the sinks forget them */
  gst_element_set_state (GST_ELEMENT (pipeline_), GST_STATE_NULL);
  GST_INFO_OBJECT (pipeline_, "finished: %s", ok ? "EOS" : reason.c_str ());
  if (listener_.finished)
    listener_.finished (ok, reason);   /* may destroy this */
}

/* On the posting thread, before the message is queued: when PLAYING
 * starts, and the start of every segment of an hlssink2 output, for the
 * playlists' dates (HlsOutputs). */
GstBusSyncReply
StreamPipeline::on_bus_sync (GstBus *, GstMessage * msg, gpointer data)
{
  auto *self = static_cast<StreamPipeline *> (data);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_STATE_CHANGED
      && GST_MESSAGE_SRC (msg) == GST_OBJECT (self->pipeline_)) {
    GstState state;
    gst_message_parse_state_changed (msg, nullptr, &state, nullptr);
    if (state == GST_STATE_PLAYING)
      self->outputs_->pipeline_playing (GST_ELEMENT (self->pipeline_));
    return GST_BUS_PASS;
  }
  const GstStructure *s = GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT
      ? gst_message_get_structure (msg) : nullptr;
  GstClockTime rt = GST_CLOCK_TIME_NONE;
  if (s && gst_structure_has_name (s, "splitmuxsink-fragment-opened")
      && gst_structure_get_uint64 (s, "running-time", &rt))
    self->outputs_->fragment_opened (GST_MESSAGE_SRC (msg), rt);
  return GST_BUS_PASS;
}

/* element messages: forwarded EOS of the HLS sinks, viewerstats, and what
 * the ingest's handlers want */
void
StreamPipeline::on_element (GstMessage * msg)
{
  const GstStructure *s = gst_message_get_structure (msg);
  if (s && gst_structure_has_name (s, "viewerstats")) {
    const char *src = GST_OBJECT_NAME (GST_MESSAGE_SRC (msg));
    std::lock_guard<std::mutex> lk (lock_);
    GstStructure **slot = g_str_equal (src, names::kVideoStats) ? &video_stats_
        : g_str_equal (src, names::kAudioStats) ? &audio_stats_ : nullptr;
    if (slot) {
      if (*slot)
        gst_structure_free (*slot);
      *slot = gst_structure_copy (s);
    }
    return;
  }
  for (auto & handler : element_handlers_)
    handler (msg);
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
      bool taken = false;
      for (auto & handler : self->problem_handlers_)
        taken = handler (msg) || taken;
      if (taken) {
        GST_INFO_OBJECT (self->pipeline_, "a handler took the error of %s",
            GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)));
        break;
      }
      g_autofree gchar *dbg = nullptr;
      gst_message_parse_error (msg, nullptr, &dbg);
      std::string reason = pipeline_failure_reason (msg);
      GST_WARNING_OBJECT (self->pipeline_, "error: %s (%s)", reason.c_str (), dbg ? dbg : "");
      self->bus_watch_ = 0;
      self->finish (false, reason);
      return G_SOURCE_REMOVE;
    }
    case GST_MESSAGE_WARNING: {
      for (auto & handler : self->problem_handlers_)
        handler (msg);
      GError *e = nullptr;
      gst_message_parse_warning (msg, &e, nullptr);
      GST_WARNING_OBJECT (self->pipeline_, "%s: %s", GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)),
          e->message);
      g_error_free (e);
      break;
    }
    case GST_MESSAGE_APPLICATION:
      if (gst_message_has_name (msg, kMediaEnded) && self->end_timeout_s_) {
        GST_INFO_OBJECT (self->pipeline_, "the publisher's media ended: %u s to finalize",
            self->end_timeout_s_);
        self->arm_stop_timer (self->end_timeout_s_);
      }
      break;
    case GST_MESSAGE_ELEMENT: {
      const GstStructure *s = gst_message_get_structure (msg);
      if (!s || !gst_structure_has_name (s, "GstBinForwarded")) {
        self->on_element (msg);
        break;
      }
      GstMessage *inner = nullptr;
      gst_structure_get (s, "message", GST_TYPE_MESSAGE, &inner, nullptr);
      bool outputs_done = inner && GST_MESSAGE_TYPE (inner) == GST_MESSAGE_EOS
          && self->outputs_->sink_done (GST_MESSAGE_SRC (inner));
      if (inner)
        gst_message_unref (inner);
      if (outputs_done) {
        GST_INFO_OBJECT (self->pipeline_, "every HLS sink has its final playlist");
        self->bus_watch_ = 0;      /* finish may destroy self */
        self->finish (true, "");
        return G_SOURCE_REMOVE;
      }
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

}  // namespace castline::launcher
