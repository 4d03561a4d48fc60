#include "recording/recorder.h"

#include <algorithm>
#include <set>

GST_DEBUG_CATEGORY_STATIC (castline_recorder_debug);
#define GST_CAT_DEFAULT castline_recorder_debug

namespace castline::launcher {

namespace {

void
init_debug ()
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (castline_recorder_debug, "castline-recorder", 0,
        "launcher recordings");
    g_once_init_leave (&once, 1);
  }
}

/* what a VOD playlist is sent to S3 with: it never changes once written */
constexpr const char *kPlaylistType = "application/vnd.apple.mpegurl";
constexpr const char *kVodCacheControl = "public, max-age=86400";

}  // namespace

SegmentLog::SegmentLog (GstElement * sink, std::function<std::string (guint)> segment_name,
    std::function<void (const VodSegment &)> closed)
    : sink_ (GST_ELEMENT (gst_object_ref (sink))), segment_name_ (std::move (segment_name)),
      closed_ (std::move (closed))
{
  init_debug ();
}

SegmentLog::SegmentLog (std::vector<VodSegment> segments) : segments_ (std::move (segments))
{
  init_debug ();
}

SegmentLog::~SegmentLog ()
{
  if (sink_)
    gst_object_unref (sink_);
}

bool
SegmentLog::on_message (GstMessage * msg)
{
  if (!sink_ || GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ELEMENT)
    return false;
  const GstStructure *s = gst_message_get_structure (msg);
  bool opened = s && gst_structure_has_name (s, "splitmuxsink-fragment-opened");
  bool closed = s && gst_structure_has_name (s, "splitmuxsink-fragment-closed");
  if (!opened && !closed)
    return false;
  if (!GST_MESSAGE_SRC (msg) || !gst_object_has_as_ancestor (GST_MESSAGE_SRC (msg),
          GST_OBJECT (sink_)))
    return false;
  GstClockTime rt = GST_CLOCK_TIME_NONE;
  gst_structure_get_clock_time (s, "running-time", &rt);

  std::lock_guard<std::mutex> lk (lock_);
  if (opened) {
    opened_at_ = rt;
    opened_++;
    return true;
  }
  if (opened_ == 0 || !GST_CLOCK_TIME_IS_VALID (opened_at_) || !GST_CLOCK_TIME_IS_VALID (rt)
      || rt < opened_at_) {
    GST_WARNING_OBJECT (sink_, "a fragment closed without a valid opening: not recorded");
    return true;
  }
  VodSegment seg { segment_name_ (opened_ - 1), rt - opened_at_ };
  GST_LOG_OBJECT (sink_, "segment %s closed: %" GST_TIME_FORMAT, seg.uri.c_str (),
      GST_TIME_ARGS (seg.duration));
  if (closed_)
    closed_ (seg);
  segments_.push_back (std::move (seg));
  opened_at_ = GST_CLOCK_TIME_NONE;
  return true;
}

std::vector<VodSegment>
SegmentLog::segments () const
{
  std::lock_guard<std::mutex> lk (lock_);
  return segments_;
}

Recorder::Recorder (std::string stream_id, std::shared_ptr<castline::s3::S3Client> s3,
    bool mp4, std::string name_prefix)
    : stream_id_ (std::move (stream_id)), s3_ (std::move (s3)), mp4_ (mp4),
      name_prefix_ (std::move (name_prefix)),
      context_ (g_main_context_ref_thread_default ()),
      alive_ (std::make_shared<Recorder *> (this))
{
  init_debug ();
}

Recorder::~Recorder ()
{
  remux_.reset ();                     /* stopped: its done is dropped */
  detach ();
  g_main_context_unref (context_);
}

void
Recorder::follow (GstPipeline * pipeline)
{
  if (bus_)
    return;
  bus_ = gst_pipeline_get_bus (pipeline);
  gst_bus_enable_sync_message_emission (bus_);
  handler_ = g_signal_connect (bus_, "sync-message::element", G_CALLBACK (on_sync_message), this);
}

void
Recorder::attach (RecordedOutput output)
{
  if (!output.sink) {
    GST_WARNING ("stream %s: no HLS sink to record", stream_id_.c_str ());
    return;
  }
  Output o;
  std::function<void (const VodSegment &)> closed;
  if (SegmentJournal *j = journal_.get ())
    closed = [j, name = output.name] (const VodSegment & s) { j->append (name, s); };
  o.log = std::make_unique<SegmentLog> (output.sink, output.segment_name, std::move (closed));
  o.where = std::move (output);
  std::lock_guard<std::mutex> lk (lock_);
  outputs_.push_back (std::move (o));
}

void
Recorder::attach_closed (RecordedOutput output, std::vector<VodSegment> segments)
{
  Output o;
  o.log = std::make_unique<SegmentLog> (std::move (segments));
  o.where = std::move (output);
  std::lock_guard<std::mutex> lk (lock_);
  outputs_.push_back (std::move (o));
}

void
Recorder::on_sync_message (GstBus *, GstMessage * msg, gpointer data)
{
  /* the streaming thread that posts msg */
  auto *self = static_cast<Recorder *> (data);
  std::lock_guard<std::mutex> lk (self->lock_);
  for (auto & o : self->outputs_)
    if (o.log->on_message (msg))
      return;
}

void
Recorder::detach ()
{
  if (!bus_)
    return;
  g_signal_handler_disconnect (bus_, handler_);
  gst_bus_disable_sync_message_emission (bus_);
  gst_object_unref (bus_);
  bus_ = nullptr;
  handler_ = 0;
}

void
Recorder::finish (Done done)
{
  detach ();                           /* the pipeline is at NULL: outputs_ is final */
  done_ = std::move (done);
  pending_ = outputs_.size () + 1;     /* + 1: until every output is started */
  for (auto & o : outputs_) {
    bool first = &o == &outputs_.front ();
    std::vector<VodSegment> segments = o.log->segments ();
    if (segments.empty ()) {
      GST_INFO ("stream %s: output '%s' closed no segment: no recording", stream_id_.c_str (),
          o.where.name.c_str ());
      output_done (std::nullopt);
      continue;
    }
    RecordingRecord r;
    r.stream_id = stream_id_;
    r.kind = "hls";
    r.name = o.where.name.empty () ? vod_name () : o.where.name + "/" + vod_name ();
    r.duration_us = (int64_t) (total_duration (segments) / GST_USECOND);
    r.segments = (unsigned) segments.size ();
    r.created_at = g_get_real_time ();
    /* the MP4 is started before the VOD is reported, so that done waits
     * for it */
    bool mp4 = first && mp4_ && o.where.key_prefix.empty ();
    if (mp4)
      start_mp4 (o, segments, r);
    store (o.where.dir, o.where.key_prefix, render_vod_playlist (segments, o.where.init), r);
  }
  output_done (std::nullopt);          /* the + 1 */
}

void
Recorder::set_root (std::string dir, std::string key_prefix)
{
  root_dir_ = std::move (dir);
  root_key_prefix_ = std::move (key_prefix);
}

Recorder::Poster
Recorder::poster () const
{
  std::weak_ptr<Recorder *> alive = alive_;
  std::shared_ptr<GMainContext> ctx (g_main_context_ref (context_), g_main_context_unref);
  return [alive, ctx] (std::function<void ()> fn) {
    struct Job {
      std::weak_ptr<Recorder *> alive;
      std::function<void ()> fn;
    };
    g_main_context_invoke_full (ctx.get (), G_PRIORITY_DEFAULT, [] (gpointer data) -> gboolean {
          auto *j = static_cast<Job *> (data);
          if (j->alive.lock ())          /* on the main context: not destroyed meanwhile */
            j->fn ();
          return G_SOURCE_REMOVE;
        }, new Job { alive, std::move (fn) },
        [] (gpointer data) { delete static_cast<Job *> (data); });
  };
}

bool
Recorder::store (const std::string & dir, const std::string & key_prefix,
    const std::string & text, const RecordingRecord & r)
{
  if (key_prefix.empty ()) {
    /* a few KB into a local directory, as hlssink2 writes its playlist */
    std::string path = dir + G_DIR_SEPARATOR_S + vod_name ();
    g_autoptr (GError) err = nullptr;
    if (!g_file_set_contents (path.c_str (), text.c_str (), (gssize) text.size (), &err)) {
      g_warning ("stream %s: cannot write its recording %s: %s", stream_id_.c_str (),
          path.c_str (), err->message);
      output_done (std::nullopt);
      return false;
    }
    output_done (r);
    return true;
  }
  if (!s3_) {
    g_warning ("stream %s: no S3 client for its recording", stream_id_.c_str ());
    output_done (std::nullopt);
    return false;
  }
  std::string key = key_prefix + vod_name ();
  g_autoptr (GBytes) body = g_bytes_new (text.data (), text.size ());
  s3_->put_object (key, body, kPlaylistType, kVodCacheControl,
      [this, post = poster (), r, key] (castline::s3::S3Result res) {
        /* the S3 client's thread: this is only touched back on the main
         * context, if it is still there */
        std::optional<RecordingRecord> got;
        if (res.ok)
          got = r;
        else
          g_warning ("stream %s: cannot upload its recording %s: %s", r.stream_id.c_str (),
              key.c_str (), res.error.describe ().c_str ());
        post ([this, got] { output_done (got); });
      });
  return true;
}

/* An abr stream: the VOD master, its live master (index.m3u8 at the
 * stream's root) with each rung's VOD instead of its live playlist. */
void
Recorder::write_master ()
{
  std::set<std::string> rungs;
  int64_t longest = 0;
  unsigned segments = 0;
  for (auto & r : written_) {
    size_t slash = r.name.find ('/');
    if (r.kind != "hls" || slash == std::string::npos)
      continue;
    rungs.insert (r.name.substr (0, slash));
    if (r.duration_us > longest) {
      longest = r.duration_us;
      segments = r.segments;
    }
  }
  RecordingRecord m;
  m.stream_id = stream_id_;
  m.kind = "hls";
  m.name = vod_name ();
  m.duration_us = longest;
  m.segments = segments;
  m.created_at = g_get_real_time ();
  auto with_live = [this, rungs, m] (const std::string & live) {
    std::string text = render_vod_master (live, rungs, vod_name ());
    if (text.empty ()) {
      g_warning ("stream %s: its master playlist names none of its recorded rungs",
          stream_id_.c_str ());
      output_done (std::nullopt);
      return;
    }
    store (root_dir_, root_key_prefix_, text, m);
  };
  if (root_key_prefix_.empty ()) {
    g_autofree gchar *live = nullptr;
    std::string path = root_dir_ + G_DIR_SEPARATOR_S + "index.m3u8";
    if (!g_file_get_contents (path.c_str (), &live, nullptr, nullptr)) {
      g_warning ("stream %s: no master playlist %s: no VOD master", stream_id_.c_str (),
          path.c_str ());
      output_done (std::nullopt);
      return;
    }
    with_live (live);
    return;
  }
  if (!s3_) {
    output_done (std::nullopt);
    return;
  }
  std::string key = root_key_prefix_ + "index.m3u8";
  s3_->get_object (key, [this, post = poster (), id = stream_id_, key, with_live] (
          castline::s3::S3Result res) {
        std::string live;
        if (res.ok && res.body) {
          gsize size = 0;
          const char *data = (const char *) g_bytes_get_data (res.body.get (), &size);
          live.assign (data ? data : "", size);
        } else {
          g_warning ("stream %s: cannot read its master playlist %s: %s", id.c_str (),
              key.c_str (), res.error.describe ().c_str ());
        }
        post ([this, live, with_live] {
              if (live.empty ())
                output_done (std::nullopt);
              else
                with_live (live);
            });
      });
}

/* one MP4 of the stream: its first output's segments remuxed; reported
 * (the file or its error) when the remux ends */
void
Recorder::start_mp4 (const Output & o, const std::vector<VodSegment> & segments,
    const RecordingRecord & vod)
{
  RecordingRecord mp4 = vod;
  mp4.kind = "mp4";
  mp4.name = o.where.name.empty () ? mp4_name () : o.where.name + "/" + mp4_name ();
  mp4.segments = 0;
  std::vector<std::string> paths;
  for (auto & s : segments)
    paths.push_back (o.where.dir + G_DIR_SEPARATOR_S + s.uri);
  /* generous: remuxing takes well under a second per minute of media */
  guint timeout_s = 60 + (guint) (vod.duration_us / G_USEC_PER_SEC / 10);
  std::string error;
  pending_++;
  remux_ = Mp4Remux::start (paths, o.where.dir + G_DIR_SEPARATOR_S + mp4_name (), timeout_s,
      [this, mp4] (bool ok, guint64 bytes, const std::string & why) mutable {
        mp4.bytes = (int64_t) bytes;
        mp4.created_at = g_get_real_time ();
        if (!ok) {
          g_warning ("stream %s: no MP4 of its recording: %s", stream_id_.c_str (), why.c_str ());
          mp4.error = why;
        }
        /* the remux is in its own callback: it goes with the Recorder */
        output_done (mp4);
      }, error, o.where.init.empty () ? "" : o.where.dir + G_DIR_SEPARATOR_S + o.where.init);
  if (!remux_) {
    g_warning ("stream %s: no MP4 of its recording: %s", stream_id_.c_str (), error.c_str ());
    mp4.error = error;
    output_done (mp4);
  }
}

void
Recorder::output_done (std::optional<RecordingRecord> r)
{
  if (r) {
    GST_INFO ("stream %s: recording %s written (%u segments)", stream_id_.c_str (),
        r->name.c_str (), r->segments);
    written_.push_back (std::move (*r));
  }
  if (pending_ == 0 || --pending_ > 0)
    return;
  /* rungs recorded (an abr stream): their master too, once */
  bool rungs = std::any_of (written_.begin (), written_.end (), [] (const RecordingRecord & w) {
        return w.kind == "hls" && w.name.find ('/') != std::string::npos;
      });
  if (rungs && !master_started_ && (!root_dir_.empty () || !root_key_prefix_.empty ())) {
    master_started_ = true;
    pending_ = 1;
    write_master ();
    return;
  }
  if (done_) {
    auto done = std::move (done_);
    done_ = nullptr;
    done (std::move (written_));       /* may destroy this */
  }
}

}  // namespace castline::launcher
