#include "recording/mp4remux.h"

#include "streams/elementfactory.h"

#include <glib/gstdio.h>

GST_DEBUG_CATEGORY_STATIC (castline_mp4remux_debug);
#define GST_CAT_DEFAULT castline_mp4remux_debug

namespace castline::launcher {

namespace {

/* The worker thread's job: inputs appended, in order, into out. */
struct Concat {
  std::vector<std::string> inputs;
  std::string out;
  std::weak_ptr<Mp4Remux *> remux;
};

void
concatenate (GTask * task, gpointer, gpointer data, GCancellable * cancel)
{
  auto *c = static_cast<Concat *> (data);
  GError *err = nullptr;
  g_autoptr (GFile) out = g_file_new_for_path (c->out.c_str ());
  g_autoptr (GFileOutputStream) os = g_file_replace (out, nullptr, FALSE, G_FILE_CREATE_NONE,
      cancel, &err);
  for (size_t i = 0; os && !err && i < c->inputs.size (); i++) {
    g_autoptr (GFile) in = g_file_new_for_path (c->inputs[i].c_str ());
    g_autoptr (GFileInputStream) is = g_file_read (in, cancel, &err);
    if (is)
      g_output_stream_splice (G_OUTPUT_STREAM (os), G_INPUT_STREAM (is),
          G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE, cancel, &err);
  }
  if (os && !err)
    g_output_stream_close (G_OUTPUT_STREAM (os), cancel, &err);
  if (err)
    g_task_return_error (task, err);
  else
    g_task_return_boolean (task, TRUE);
}

}  // namespace

std::unique_ptr<Mp4Remux>
Mp4Remux::start (const std::vector<std::string> & segments, const std::string & out_path,
    guint timeout_s, Done done, std::string & error, const std::string & init)
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (castline_mp4remux_debug, "castline-mp4remux", 0,
        "recordings remuxed to MP4");
    g_once_init_leave (&once, 1);
  }
  if (segments.empty ()) {
    error = "no segment to remux";
    return nullptr;
  }
  std::unique_ptr<Mp4Remux> r (new Mp4Remux ());
  r->segments_ = segments;
  r->out_path_ = out_path;
  r->part_path_ = out_path + ".part";
  r->done_ = std::move (done);
  bool fmp4 = !init.empty ();

  GstElement *src = make_element (fmp4 ? "filesrc" : "splitmuxsrc", "src", error);
  GstElement *demux = fmp4 && src ? make_element ("qtdemux", "demux", error) : nullptr;
  GstElement *mux = src && (demux || !fmp4) ? make_element ("mp4mux", "mux", error) : nullptr;
  GstElement *sink = mux ? make_element ("filesink", "file", error) : nullptr;
  if (!src || !mux || !sink) {
    for (GstElement *e : { src, demux, mux, sink })
      if (e)
        gst_object_unref (gst_object_ref_sink (e));
    return nullptr;
  }
  g_object_set (mux, "faststart", TRUE, nullptr);
  g_object_set (sink, "location", r->part_path_.c_str (), nullptr);
  r->pipeline_ = gst_pipeline_new ("mp4remux");
  gst_bin_add_many (GST_BIN (r->pipeline_), src, mux, sink, nullptr);
  gst_element_link (mux, sink);
  r->mux_ = mux;
  if (fmp4) {
    r->cmaf_path_ = out_path + ".cmaf";
    g_object_set (src, "location", r->cmaf_path_.c_str (), nullptr);
    gst_bin_add (GST_BIN (r->pipeline_), demux);
    gst_element_link (src, demux);
    g_signal_connect (demux, "pad-added", G_CALLBACK (on_pad_added), r.get ());
  } else {
    /* exactly the recorded segments (a failed stream's unfinished last
     * one is on disk too, and not in the recording) */
    g_signal_connect (src, "format-location", G_CALLBACK (+[] (GstElement *, gpointer self) {
          auto *m = static_cast<Mp4Remux *> (self);
          gchar **paths = g_new0 (gchar *, m->segments_.size () + 1);
          for (size_t i = 0; i < m->segments_.size (); i++)
            paths[i] = g_strdup (m->segments_[i].c_str ());
          return paths;
        }), r.get ());
    g_signal_connect (src, "pad-added", G_CALLBACK (on_pad_added), r.get ());
  }
  g_autoptr (GstBus) bus = gst_pipeline_get_bus (GST_PIPELINE (r->pipeline_));
  r->bus_watch_ = gst_bus_add_watch (bus, on_bus, r.get ());
  r->timer_ = g_timeout_add_seconds (timeout_s, [] (gpointer self) -> gboolean {
        auto *m = static_cast<Mp4Remux *> (self);
        m->timer_ = 0;
        m->finish (false, "the remux did not finish in time");
        return G_SOURCE_REMOVE;
      }, r.get ());
  if (fmp4) {
    /* the pipeline plays once the concatenation is written */
    r->alive_ = std::make_shared<Mp4Remux *> (r.get ());
    r->cancel_ = g_cancellable_new ();
    auto *job = new Concat { { init }, r->cmaf_path_, r->alive_ };
    job->inputs.insert (job->inputs.end (), segments.begin (), segments.end ());
    g_autoptr (GTask) task = g_task_new (nullptr, r->cancel_, [] (GObject *, GAsyncResult * res,
            gpointer data) {
          auto *c = static_cast<Concat *> (data);
          g_autoptr (GError) err = nullptr;
          bool ok = g_task_propagate_boolean (G_TASK (res), &err);
          if (auto self = c->remux.lock ())
            (*self)->concatenated (ok, ok ? "" : err->message);
          else
            g_unlink (c->out.c_str ());    /* abandoned meanwhile */
        }, job);
    g_task_set_task_data (task, job, [] (gpointer data) { delete static_cast<Concat *> (data); });
    r->concatenating_ = true;
    g_task_run_in_thread (task, concatenate);
    GST_INFO ("concatenating %zu fMP4 segments for %s", segments.size (), out_path.c_str ());
    return r;
  }
  if (gst_element_set_state (r->pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    error = "the remux pipeline does not start";
    return nullptr;
  }
  GST_INFO ("remuxing %zu segments into %s", segments.size (), out_path.c_str ());
  return r;
}

void
Mp4Remux::concatenated (bool ok, const std::string & error)
{
  concatenating_ = false;
  if (!done_) {                        /* finished meanwhile (the time bound) */
    g_unlink (cmaf_path_.c_str ());
    return;
  }
  if (!ok) {
    finish (false, "cannot concatenate the fMP4 segments: " + error);
    return;
  }
  if (gst_element_set_state (pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    finish (false, "the remux pipeline does not start");
  else
    GST_INFO ("remuxing %zu fMP4 segments into %s", segments_.size (), out_path_.c_str ());
}

Mp4Remux::~Mp4Remux ()
{
  if (timer_)
    g_source_remove (timer_);
  if (bus_watch_)
    g_source_remove (bus_watch_);
  if (pipeline_) {
    gst_element_set_state (pipeline_, GST_STATE_NULL);
    gst_object_unref (pipeline_);
  }
  if (done_)                           /* abandoned: no partial file left */
    g_unlink (part_path_.c_str ());
  alive_.reset ();
  if (concatenating_)
    g_cancellable_cancel (cancel_);    /* its end removes the file */
  else if (!cmaf_path_.empty ())
    g_unlink (cmaf_path_.c_str ());
  if (cancel_)
    g_object_unref (cancel_);
}

/* a streaming thread of splitmuxsrc: its video and audio pads into the
 * muxer through H.264 and AAC parsers (mp4mux wants avc and raw AAC; the
 * segments hold byte-stream and ADTS), what every castline pipeline
 * sends to its HLS sink; anything else is dropped. The pads have no caps
 * yet when they appear: they are told apart by name. */
void
Mp4Remux::on_pad_added (GstElement *, GstPad * pad, gpointer data)
{
  auto *self = static_cast<Mp4Remux *> (data);
  const char *name = GST_PAD_NAME (pad);
  bool video = g_str_has_prefix (name, "video");
  bool audio = g_str_has_prefix (name, "audio");
  const char *parser = video ? "h264parse" : audio ? "aacparse" : nullptr;
  const char *templ = video ? "video_%u" : "audio_%u";
  std::string error;
  GstElement *queue = make_element ("queue", nullptr, error);
  GstElement *next = !queue ? nullptr : make_element (parser ? parser : "fakesink", nullptr, error);
  if (!next) {
    if (queue)
      gst_object_unref (gst_object_ref_sink (queue));
    post_error (self->pipeline_, "the MP4 remux: " + error);
    return;
  }
  gst_bin_add_many (GST_BIN (self->pipeline_), queue, next, nullptr);
  gst_element_link (queue, next);
  if (parser) {
    g_autoptr (GstPad) src = gst_element_get_static_pad (next, "src");
    GstPad *muxpad = gst_element_request_pad_simple (self->mux_, templ);
    if (!muxpad || gst_pad_link (src, muxpad) != GST_PAD_LINK_OK)
      GST_WARNING ("cannot link %s into mp4mux", name);
    if (muxpad)
      gst_object_unref (muxpad);
  } else {
    GST_WARNING ("a %s track is not put in the MP4", name);
  }
  gst_element_sync_state_with_parent (next);
  gst_element_sync_state_with_parent (queue);
  g_autoptr (GstPad) sinkpad = gst_element_get_static_pad (queue, "sink");
  gst_pad_link (pad, sinkpad);
}

gboolean
Mp4Remux::on_bus (GstBus *, GstMessage * msg, gpointer data)
{
  auto *self = static_cast<Mp4Remux *> (data);
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_EOS:
      self->bus_watch_ = 0;
      self->finish (true, "");
      return G_SOURCE_REMOVE;
    case GST_MESSAGE_ERROR: {
      g_autoptr (GError) e = nullptr;
      gst_message_parse_error (msg, &e, nullptr);
      self->bus_watch_ = 0;
      self->finish (false, std::string (GST_OBJECT_NAME (GST_MESSAGE_SRC (msg))) + ": "
          + e->message);
      return G_SOURCE_REMOVE;
    }
    default:
      return G_SOURCE_CONTINUE;
  }
}

void
Mp4Remux::finish (bool ok, const std::string & error)
{
  if (!done_)
    return;
  if (timer_) {
    g_source_remove (timer_);
    timer_ = 0;
  }
  if (bus_watch_) {
    g_source_remove (bus_watch_);
    bus_watch_ = 0;
  }
  gst_element_set_state (pipeline_, GST_STATE_NULL);   /* filesink closes the file */
  if (concatenating_)
    g_cancellable_cancel (cancel_);    /* its end removes the file */
  else if (!cmaf_path_.empty ())
    g_unlink (cmaf_path_.c_str ());
  std::string why = error;
  GStatBuf st;
  guint64 bytes = 0;
  if (ok && g_rename (part_path_.c_str (), out_path_.c_str ()) != 0) {
    ok = false;
    why = "cannot rename " + part_path_ + ": " + g_strerror (errno);
  }
  if (ok && g_stat (out_path_.c_str (), &st) == 0)
    bytes = (guint64) st.st_size;
  if (!ok)
    g_unlink (part_path_.c_str ());
  auto done = std::move (done_);
  done_ = nullptr;
  done (ok, bytes, why);               /* may destroy this */
}

}  // namespace castline::launcher
