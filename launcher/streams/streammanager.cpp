#include "streams/streammanager.h"

#include <glib/gstdio.h>

#include <algorithm>

namespace castline::launcher {

StreamManager::StreamManager (Config config) : config_ (std::move (config))
{
}

StreamManager::~StreamManager ()
{
  for (auto & [id, i] : interrupted_)
    if (i.timer)
      g_source_remove (i.timer);
}

std::string
session_prefix (unsigned n)
{
  return n <= 1 ? "" : "s" + std::to_string (n) + "-";
}

namespace {

/* recorders_'s key: a session's recording may still be written when the
 * stream's next session starts */
std::string
recorder_key (const std::string & id, unsigned session_number)
{
  return id + "/" + std::to_string (session_number);
}

}  // namespace

bool
StreamManager::init (std::vector<std::string> & warnings, std::string & error)
{
  if (g_mkdir_with_parents ((config_.data_dir + "/live").c_str (), 0755) != 0) {
    error = "cannot create the data directory " + config_.data_dir + ": " + g_strerror (errno);
    return false;
  }
  if (!store_.open (config_.data_dir + "/castline.db", error))
    return false;
  if (config_.s3.enabled ()) {
    /* the recordings' VOD playlists go up with a client of their own */
    castline::s3::S3Config s3;
    s3.endpoint = config_.s3.endpoint;
    s3.region = config_.s3.region;
    s3.bucket = config_.s3.bucket;
    s3.credentials.access_key = config_.s3.access_key;
    s3.credentials.secret_key = config_.s3.secret_key;
    s3.apply_environment ();
    recording_s3_ = std::make_shared<castline::s3::S3Client> (std::move (s3));
  }
  if (!catalog_.load (config_.pipeline_dirs, warnings)) {
    error = "no usable pipeline description in";
    for (auto & d : config_.pipeline_dirs)
      error += " " + d;
    return false;
  }
  return true;
}

std::optional<StreamRecord>
StreamManager::create (const std::string & title, int64_t scheduled_at,
    const std::string & pipeline, std::optional<bool> record, std::string & key,
    Refusal & refusal)
{
  if (!pipeline.empty () && !catalog_.find (pipeline)) {
    refusal = { 400, "unknown pipeline '" + pipeline + "'" };
    return std::nullopt;
  }
  StreamRecord r;
  r.title = title;
  r.pipeline = pipeline;
  r.record = record.value_or (config_.record);
  key = random_token (24);
  r.key_hash = hash_key (key);
  r.created_at = g_get_real_time ();
  r.scheduled_at = scheduled_at;
  r.state = scheduled_at > r.created_at ? StreamState::scheduled : StreamState::created;
  std::string error;
  for (int attempt = 0; attempt < 5; attempt++) {
    r.id = random_stream_id ();
    if (store_.insert (r, error)) {
      emit ("stream.created", r);
      return r;
    }
  }
  refusal = { 500, "cannot store the stream: " + error };
  return std::nullopt;
}

Refusal
StreamManager::check_publisher (const std::string & id, const std::string & key) const
{
  auto r = store_.get (id);
  /* the same answer for an unknown stream and a wrong key: ids are not
   * secret, but nothing should tell which ones exist to a stranger */
  if (!r || !key_matches (key, r->key_hash))
    return { 401, "unknown stream or wrong stream key" };
  if (r->state == StreamState::ended || r->state == StreamState::failed)
    return { 409, std::string ("the stream has ") + (r->state == StreamState::ended ? "ended" : "failed") };
  auto ls = live_.find (id);
  if (ls != live_.end () && !ls->second.lost_reason.empty ())
    return { 503, "the stream's last session is being finalized: try again in a moment" };
  if (ls != live_.end ())
    return { 409, "the stream already has a publisher" };
  if (shutting_down_)
    return { 503, "the server is shutting down" };
  if (live_.size () >= config_.max_live_streams)
    return { 503, "the limit of live streams is reached" };
  return {};
}

LiveStream *
StreamManager::go_live (const std::string & id, const std::string & ingest,
    const std::vector<std::string> & video_codecs, const std::vector<std::string> & audio_codecs,
    const std::function<void (LiveStream &)> & before_start, Refusal & refusal)
{
  auto r = store_.get (id);
  if (!r) {
    refusal = { 404, "unknown stream" };
    return nullptr;
  }
  if (live_.count (id)) {
    refusal = { 409, "the stream already has a publisher" };
    return nullptr;
  }
  const PipelineDescription *d = nullptr;
  std::string v, a;
  /* abr_default: a publisher sending video, to a stream created without a
   * pipeline, gets abr when abr takes its video */
  std::string wanted = r->pipeline;
  const PipelineDescription *abr = catalog_.find ("abr");
  if (wanted.empty () && config_.abr_default && abr
      && std::any_of (video_codecs.begin (), video_codecs.end (),
          [abr] (const std::string & c) { return abr->takes ("video", c); }))
    wanted = "abr";
  if (!wanted.empty ()) {
    d = catalog_.find (wanted);
    if (!d) {
      refusal = { 500, "the stream's pipeline '" + wanted + "' is not loaded" };
      return nullptr;
    }
    /* the description's own order decides among what is offered (abr: H.264
     * first, passed through, over a browser's VP8 listed before it) */
    auto first_taken = [d] (const char *kind, const std::vector<std::string> & offered) {
      const auto & mine = std::string (kind) == "video" ? d->video_codecs : d->audio_codecs;
      auto it = std::find_if (mine.begin (), mine.end (), [&offered] (const std::string & c) {
            return std::find (offered.begin (), offered.end (), c) != offered.end ();
          });
      return it == mine.end () ? std::string () : *it;
    };
    v = first_taken ("video", video_codecs);
    a = first_taken ("audio", audio_codecs);
    bool video_ok = d->video_codecs.empty () || !v.empty ();
    bool audio_ok = d->audio_codecs.empty () || !a.empty ();
    if (!video_ok || !audio_ok) {
      refusal = { 406, "pipeline " + d->name + " does not take what the publisher sends" };
      return nullptr;
    }
  } else {
    d = catalog_.choose (video_codecs, audio_codecs, v, a);
    if (!d) {
      refusal = { 406, "no pipeline takes what the publisher sends" };
      return nullptr;
    }
  }

  /* after an interruption: the next session */
  auto interruption = interrupted_.find (id);
  unsigned session = interruption == interrupted_.end () ? 1 : interruption->second.sessions + 1;
  OutputSettings out;
  out.hls_dir = hls_dir (id);
  out.segment_prefix = session_prefix (session);
  out.target_duration = config_.hls_target_duration;
  out.playlist_length = config_.hls_playlist_length;
  /* a recording keeps every segment; the live playlist still rolls */
  out.max_files = r->record ? 0 : config_.hls_max_files;
  out.s3 = config_.s3;
  out.ladder = config_.ladder;
  out.video_codec = v;
  out.s3_client = recording_s3_;       /* the master playlist of an abr stream, too */
  StreamPipeline::Listener l;
  l.finished = [this, id] (bool ok, const std::string & reason) { on_finished (id, ok, reason); };
  l.publisher_lost = [this, id] (const std::string & reason) { on_publisher_lost (id, reason); };
  std::string error;
  auto pipeline = StreamPipeline::create (*d, id, out, l, error);
  if (!pipeline) {
    refusal = { 500, error };
    return nullptr;
  }
  std::string recorder = recorder_key (id, session);
  if (r->record)
    start_recording (id, session, *pipeline);
  LiveStream & ls = live_[id];
  ls.session_number = session;
  ls.pipeline = std::move (pipeline);
  ls.pipeline_name = d->name;
  ls.video_codec = v;
  ls.audio_codec = a;
  if (before_start)
    before_start (ls);
  if (!ls.pipeline->start (error)) {
    live_.erase (id);
    recorders_.erase (recorder);
    refusal = { 500, error };
    return nullptr;
  }
  /* a stream that resumes keeps the start of its first session */
  bool resumed = r->state == StreamState::interrupted;
  if (resumed)
    drop_interruption (id);
  else
    r->started_at = g_get_real_time ();
  r->ingest = ingest;
  r->pipeline = d->name;
  set_state (*r, StreamState::live, "");
  g_message ("stream %s is live%s (%s, pipeline %s, session %u)", id.c_str (),
      resumed ? " again" : "", ingest.c_str (), d->name.c_str (), session);
  emit (resumed ? "stream.resumed" : "stream.started", *r);
  return &ls;
}

LiveStream *
StreamManager::live (const std::string & id)
{
  auto it = live_.find (id);
  return it == live_.end () ? nullptr : &it->second;
}

std::vector<std::string>
StreamManager::live_ids () const
{
  std::vector<std::string> ids;
  for (auto & [id, ls] : live_)
    ids.push_back (id);
  return ids;
}

void
StreamManager::abandon (const std::string & id)
{
  auto it = live_.find (id);
  if (it == live_.end ())
    return;
  unsigned session = it->second.session_number;
  live_.erase (it);
  recorders_.erase (recorder_key (id, session));
  auto r = store_.get (id);
  if (!r)
    return;
  if (session > 1) {
    /* a stream that was resuming: interrupted again, with a new window */
    set_state (*r, StreamState::interrupted, "the publisher could not be connected again");
    start_window (id, session - 1);
    return;
  }
  r->ingest.clear ();
  r->started_at = 0;
  set_state (*r, r->scheduled_at > g_get_real_time () ? StreamState::scheduled
      : StreamState::created, "");
}

bool
StreamManager::end (const std::string & id)
{
  auto r = store_.get (id);
  if (!r)
    return false;
  if (LiveStream *ls = live (id)) {
    ls->stop_requested = true;
    ls->pipeline->stop (config_.shutdown_timeout);
    return true;
  }
  drop_interruption (id);
  if (r->state != StreamState::ended && r->state != StreamState::failed) {
    set_state (*r, StreamState::ended, "");
    emit ("stream.ended", *r);
  }
  return true;
}

void
StreamManager::lose_publisher (const std::string & id, const std::string & session,
    const std::string & reason)
{
  LiveStream *ls = live (id);
  if (!ls || (!session.empty () && ls->session != session))
    return;                            /* a session that is over already */
  on_publisher_lost (id, reason);
  ls->pipeline->stop (config_.shutdown_timeout);
}

void
StreamManager::on_publisher_lost (const std::string & id, const std::string & reason)
{
  LiveStream *ls = live (id);
  /* a stop we asked for closes the publisher too: that is no loss */
  if (!ls || ls->stop_requested || !ls->lost_reason.empty ())
    return;
  ls->lost_reason = reason.empty () ? "the publisher was lost" : reason;
  g_message ("stream %s: publisher lost (%s)", id.c_str (), ls->lost_reason.c_str ());
}

void
StreamManager::interrupt (StreamRecord & r, const LiveStream & ls)
{
  set_state (r, StreamState::interrupted, ls.lost_reason);
  g_message ("stream %s interrupted: its publisher has %u s to come back", r.id.c_str (),
      config_.reconnect_window);
  emit ("stream.interrupted", r);
  start_window (r.id, ls.session_number);
}

void
StreamManager::start_window (const std::string & id, unsigned sessions)
{
  struct Call {
    StreamManager *self;
    std::string id;
  };
  drop_interruption (id);
  Interruption & i = interrupted_[id];
  i.sessions = sessions;
  i.timer = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, config_.reconnect_window,
      [] (gpointer data) -> gboolean {
        auto *c = static_cast<Call *> (data);
        c->self->interrupted_[c->id].timer = 0;    /* this source is over */
        c->self->on_window_over (c->id);
        return G_SOURCE_REMOVE;
      }, new Call { this, id }, [] (gpointer data) { delete static_cast<Call *> (data); });
}

void
StreamManager::on_window_over (const std::string & id)
{
  drop_interruption (id);
  auto r = store_.get (id);
  if (!r || r->state != StreamState::interrupted)
    return;
  set_state (*r, StreamState::ended, "the publisher did not come back within "
      + std::to_string (config_.reconnect_window) + " s");
  g_message ("stream %s ended: %s", id.c_str (), r->reason.c_str ());
  emit ("stream.ended", *r);
}

unsigned
StreamManager::drop_interruption (const std::string & id)
{
  auto it = interrupted_.find (id);
  if (it == interrupted_.end ())
    return 0;
  unsigned sessions = it->second.sessions;
  if (it->second.timer)
    g_source_remove (it->second.timer);
  interrupted_.erase (it);
  return sessions;
}

void
StreamManager::set_state (StreamRecord & r, StreamState state, const std::string & reason)
{
  r.state = state;
  r.reason = reason;
  if (state == StreamState::ended || state == StreamState::failed)
    r.ended_at = g_get_real_time ();
  std::string error;
  if (!store_.save (r, error))
    g_warning ("stream %s: cannot save its state: %s", r.id.c_str (), error.c_str ());
}

void
StreamManager::add_event_listener (std::function<void (const StreamEvent &)> listener)
{
  event_listeners_.push_back (std::move (listener));
}

void
StreamManager::emit (const char *type, const StreamRecord & r)
{
  StreamEvent e { type, r };
  for (auto & l : event_listeners_)
    l (e);
}

/* Every HLS output of the pipeline is recorded: the single sink `out`, or
 * one sink per rung of an abr pipeline (made on a streaming thread at the
 * input's first caps: the hook then runs there, before the sink gets
 * data). Each writes segment%05d.ts next to its index.m3u8. */
void
StreamManager::start_recording (const std::string & id, unsigned session_number,
    StreamPipeline & pipeline)
{
  std::string prefix = session_prefix (session_number);
  auto recorder = std::make_unique<Recorder> (id, recording_s3_, config_.record_mp4, prefix);
  if (config_.s3.enabled ())
    recorder->set_root ("", config_.s3.key_prefix + id + "/");
  else
    recorder->set_root (hls_dir (id), "");
  recorder->follow (pipeline.pipeline ());
  /* the recorder outlives the pipeline's streaming threads (it goes once
   * the pipeline is at NULL and its VODs are written) */
  Recorder *rec = recorder.get ();
  pipeline.set_output_hook ([rec, prefix] (const HlsOutput & out) {
        RecordedOutput o;
        o.name = out.name;
        o.sink = out.sink;
        o.dir = out.key_prefix.empty () ? out.dir : "";
        o.key_prefix = out.key_prefix;
        o.segment_name = [prefix] (guint n) {
          g_autofree gchar *name = g_strdup_printf ("segment%05u.ts", n);
          return prefix + name;
        };
        rec->attach (std::move (o));
      });
  recorders_[recorder_key (id, session_number)] = std::move (recorder);
}

void
StreamManager::on_recorded (const std::string & recorder, const std::string & id,
    std::vector<RecordingRecord> recordings)
{
  std::string error;
  std::vector<RecordingRecord> stored;
  for (auto & rec : recordings) {
    if (store_.add_recording (rec, error))
      stored.push_back (rec);
    else
      g_warning ("stream %s: cannot store its recording %s: %s", id.c_str (), rec.name.c_str (),
          error.c_str ());
  }
  auto r = store_.get (id);
  if (r && !stored.empty ()) {
    g_message ("stream %s: recording ready (%zu file%s)", id.c_str (), stored.size (),
        stored.size () == 1 ? "" : "s");
    for (auto & l : recording_listeners_)
      l (*r, stored);
  }
  /* the recorder is in the middle of its own callback: drop it afterwards */
  auto it = recorders_.find (recorder);
  if (it != recorders_.end ()) {
    Recorder *doomed = it->second.release ();
    recorders_.erase (it);
    g_idle_add_full (G_PRIORITY_DEFAULT, [] (gpointer data) -> gboolean {
          delete static_cast<Recorder *> (data);
          return G_SOURCE_REMOVE;
        }, doomed, nullptr);
  }
  check_shutdown_done ();
}

void
StreamManager::add_recording_listener (
    std::function<void (const StreamRecord &, const std::vector<RecordingRecord> &)> listener)
{
  recording_listeners_.push_back (std::move (listener));
}

void
StreamManager::on_finished (const std::string & id, bool ok, const std::string & reason)
{
  LiveStream *ls = live (id);
  unsigned session = ls ? ls->session_number : 1;
  if (auto r = store_.get (id)) {
    /* finalized like any end; but its publisher may come back */
    if (ok && ls && !ls->lost_reason.empty () && !ls->stop_requested && !shutting_down_
        && config_.reconnect_window > 0) {
      interrupt (*r, *ls);
    } else {
      set_state (*r, ok ? StreamState::ended : StreamState::failed, reason);
      g_message ("stream %s %s%s%s", id.c_str (), ok ? "ended" : "failed", ok ? "" : ": ",
          reason.c_str ());
      emit (ok ? "stream.ended" : "stream.failed", *r);
    }
  }
  /* the pipeline is in the middle of its own callback: drop it afterwards */
  auto it = live_.find (id);
  if (it == live_.end ())
    return;
  auto *doomed = new LiveStream (std::move (it->second));
  live_.erase (it);
  g_idle_add_full (G_PRIORITY_DEFAULT, [] (gpointer data) -> gboolean {
        delete static_cast<LiveStream *> (data);
        return G_SOURCE_REMOVE;
      }, doomed, nullptr);
  /* the pipeline is at NULL: every segment it closed is known (a failed
   * stream's too) */
  std::string recorder = recorder_key (id, session);
  auto rec = recorders_.find (recorder);
  if (rec != recorders_.end ())
    rec->second->finish ([this, recorder, id] (std::vector<RecordingRecord> recordings) {
          on_recorded (recorder, id, std::move (recordings));
        });
  check_shutdown_done ();
}

/* Once no stream is live and every recording is written, a shutdown is
 * done. */
void
StreamManager::check_shutdown_done ()
{
  if (shutting_down_ && live_.empty () && recorders_.empty () && shutdown_done_) {
    auto done = std::move (shutdown_done_);
    shutdown_done_ = nullptr;
    /* after the idle above, so the pipelines are gone first */
    g_idle_add_full (G_PRIORITY_LOW, [] (gpointer data) -> gboolean {
          auto *f = static_cast<std::function<void ()> *> (data);
          (*f) ();
          return G_SOURCE_REMOVE;
        }, new std::function<void ()> (std::move (done)),
        [] (gpointer data) { delete static_cast<std::function<void ()> *> (data); });
  }
}

std::string
StreamManager::hls_dir (const std::string & id) const
{
  return config_.data_dir + "/live/" + id;
}

std::string
StreamManager::playback_url (const std::string & id) const
{
  return output_url (id, "index.m3u8");
}

std::string
StreamManager::output_url (const std::string & id, const std::string & file) const
{
  if (config_.s3.enabled ()) {
    std::string base = config_.s3.public_base_url;
    while (!base.empty () && base.back () == '/')
      base.pop_back ();
    return base + "/" + config_.s3.key_prefix + id + "/" + file;
  }
  return config_.base_url () + "/live/" + id + "/" + file;
}

void
StreamManager::shutdown (std::function<void ()> done)
{
  shutting_down_ = true;
  /* nobody can come back to them now */
  std::vector<std::string> interrupted;
  for (auto & [id, i] : interrupted_)
    interrupted.push_back (id);
  for (auto & id : interrupted) {
    drop_interruption (id);
    if (auto r = store_.get (id); r && r->state == StreamState::interrupted) {
      set_state (*r, StreamState::ended, "the server stopped while the stream was interrupted");
      emit ("stream.ended", *r);
    }
  }
  for (auto & [id, ls] : live_)
    ls.stop_requested = true;
  if (live_.empty () && recorders_.empty ()) {
    done ();
    return;
  }
  shutdown_done_ = std::move (done);
  g_message ("finalizing %zu live stream(s)", live_.size ());
  for (auto & [id, ls] : live_)
    ls.pipeline->stop (config_.shutdown_timeout);
}

}  // namespace castline::launcher
