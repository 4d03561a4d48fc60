#include "streams/streammanager.h"

#include "common/http/replies.h"
#include "config/s3settings.h"
#include "store/openstore.h"
#include "streams/elementfactory.h"
#include "streams/memorytrim.h"
#include "thumbnail/thumbnailbranch.h"

namespace castline::launcher {

StreamManager::StreamManager (Config config) : config_ (std::move (config))
{
}

StreamManager::~StreamManager ()
{
  for (guint t : settle_timers_)
    g_source_remove (t);
  for (auto & [id, timer] : interrupted_)
    if (timer)
      g_source_remove (timer);
}

bool
StreamManager::init (std::vector<std::string> & warnings, std::string & error)
{
  if (g_mkdir_with_parents ((config_.data_dir + "/live").c_str (), 0755) != 0) {
    error = "cannot create the data directory " + config_.data_dir + ": " + g_strerror (errno);
    return false;
  }
  std::unique_ptr<StreamStore> opened = open_store (config_.store.url, config_.data_dir, error);
  if (!opened)
    return false;
  store_ = std::make_unique<PendingWrites> (std::move (opened));
  if (store_->shared ()) {
    std::unique_ptr<ClusterBus> bus = open_bus (config_.store.url, error);
    if (!bus)
      return false;
    cluster_ = std::make_unique<ClusterNode> (config_, *store_, std::move (bus));
  }
  if (config_.s3.enabled ()) {
    /* the recordings' VOD playlists go up with a client of their own */
    recording_s3_ = std::make_shared<castline::s3::S3Client> (s3_client_config (config_.s3));
  }
  recordings_ = std::make_unique<Recordings> (config_, *store_, recording_s3_);
  recordings_->set_idle_callback ([this] { check_shutdown_done (); });
  retention_ = std::make_unique<RecordingRetention> (config_, *store_, *recordings_);
  if (!config_.webrtc.enabled ()) {
    whep_off_reason_ = "webrtc.max_viewers is 0";
  } else {
    std::vector<std::string> missing = missing_factories (WebRtcRoom::required_elements ());
    if (!missing.empty ())
      whep_off_reason_ = missing_elements_reason (missing);
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
    std::string why = catalog_.unavailable (pipeline);
    refusal = { 400, why.empty () ? "unknown pipeline '" + http::excerpt (pipeline) + "'"
        : "pipeline '" + pipeline + "' is not available: " + why };
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
    if (store_->insert (r, error)) {
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
  auto r = store_->get (id);
  if (!r && !store_->read_error ().empty ())
    return { 503, "the stream store cannot be reached: try again in a moment" };
  /* the same answer for an unknown stream and a wrong key: ids are not
   * secret, but nothing should tell which ones exist to a stranger */
  if (!r || !key_matches (key, r->key_hash))
    return { 401, "unknown stream or wrong stream key" };
  if (r->state == StreamState::ended || r->state == StreamState::failed)
    return { 409, std::string ("the stream has ") + (r->state == StreamState::ended ? "ended" : "failed") };
  auto ls = live_.find (id);
  if ((ls != live_.end () && !ls->second.lost_reason.empty ()) || settling_.count (id))
    return { 503, "the stream's last session is being finalized: try again in a moment" };
  /* here, or on another node of the cluster */
  if (ls != live_.end () || r->state == StreamState::live)
    return { 409, "the stream already has a publisher" };
  if (shutting_down_)
    return { 503, "the server is shutting down" };
  if (cluster_ && cluster_->fenced ())
    return { 503, "this node has lost its lease in the cluster: try another" };
  if (live_.size () >= config_.max_live_streams) {
    Refusal full { 503, "the limit of live streams is reached" };
    if (cluster_)
      full.elsewhere = cluster_->node_with_room ();
    return full;
  }
  return {};
}

LiveStream *
StreamManager::admit (const std::string & id, const std::string & key,
    std::unique_ptr<Ingest> ingest, Refusal & refusal)
{
  refusal = check_publisher (id, key);
  if (refusal.status)
    return nullptr;
  auto r = store_->get (id);
  const PublisherMedia & media = ingest->media ();
  std::string v, a;
  const PipelineDescription *d = catalog_.select (r->pipeline, config_.abr_default,
      media.video_codecs, media.audio_codecs, v, a, refusal.status, refusal.reason);
  if (!d) {
    if (refusal.status == 500)       /* its pipeline is not loaded: it never will be */
      fail_unbuilt (*r, refusal.reason);
    return nullptr;
  }

  /* Taken in the store first, so that of two nodes whose publishers came
   * at once only one builds a pipeline (and writes the stream's files);
   * after an interruption, as the next session. */
  const StreamRecord before = *r;
  bool resumed = r->state == StreamState::interrupted;
  unsigned session = resumed ? r->session + 1 : 1;
  r->state = StreamState::live;
  r->reason.clear ();
  r->node = config_.node.id;
  r->session = session;
  r->resume_until = 0;
  r->ingest = ingest->kind ();
  r->pipeline = d->name;
  if (!resumed)
    r->started_at = g_get_real_time ();
  std::string error;
  switch (store_->claim (*r, error)) {
    case WriteResult::ok:
      break;
    case WriteResult::stale:
      refusal = { 409, "the stream already has a publisher" };
      return nullptr;
    case WriteResult::error:
      g_warning ("stream %s: cannot be claimed: %s", id.c_str (), error.c_str ());
      refusal = { 503, "the stream store cannot be written: try again in a moment" };
      return nullptr;
  }
  if (resumed)
    drop_interruption (id);
  /* what abandon, or a failed start, puts back (over the claim) */
  auto put_back = [this, &before] (int64_t epoch) {
    StreamRecord again = before;
    again.epoch = epoch;
    std::string why;
    if (store_->save (again, why) != WriteResult::ok)
      g_warning ("stream %s: cannot restore its state: %s", again.id.c_str (), why.c_str ());
    if (again.state == StreamState::interrupted)
      start_window (again.id);
  };
  OutputSettings out;
  out.hls_dir = hls_dir (id);
  out.segment_prefix = session_prefix (session);
  out.target_duration = config_.hls_target_duration;
  out.playlist_length = config_.hls_playlist_length;
  /* a recording keeps every segment; the live playlist still rolls */
  out.max_files = r->record ? 0 : config_.hls_max_files;
  out.s3 = config_.s3;
  out.ladder = config_.ladder;
  out.abr_size_adapts = ingest->video_size_adapts ();
  out.abr_settle = config_.abr_settle;
  out.video_codec = v;
  out.audio_codec = a;
  out.s3_client = recording_s3_;       /* the master playlist of an abr stream, too */
  out.low_latency = config_.low_latency ();
  out.part_target = config_.hls_part_target;
  out.live_hls = &live_hls_;
  StreamPipeline::Listener l;
  l.finished = [this, id] (bool ok, const std::string & reason) { on_finished (id, ok, reason); };
  l.idle = [this, id] (const std::string & reason) { on_publisher_lost (id, reason); };
  auto pipeline = StreamPipeline::create (*d, id, out, l, error);
  if (!pipeline) {
    live_hls_.remove_stream (id);
    refusal = { 500, error };
    fail_unbuilt (*r, error);
    return nullptr;
  }
  Ingest::Hooks hooks;
  hooks.publisher_lost = [this, id, which = ingest->session ()] (const std::string & reason,
      bool media_ended) { lose_publisher (id, which, reason, media_ended); };
  if (!ingest->attach (*pipeline, v, a, std::move (hooks), error)) {
    live_hls_.remove_stream (id);
    refusal = { 500, error };
    fail_unbuilt (*r, error);
    return nullptr;
  }
  if (config_.thumbnails.enabled ())
    add_thumbnail_branch (*pipeline, config_.thumbnails, out.s3.enabled ()
        ? ThumbnailStore::s3 (recording_s3_, output_key_prefix (out.s3, id, "") + kThumbnailName)
        : ThumbnailStore::local (out.hls_dir));
  Ingest *asked = ingest.get ();
  pipeline->set_keyframe_request ([asked] { asked->request_keyframe (); });
  pipeline->set_end_timeout (config_.shutdown_timeout);
  if (r->record)
    recordings_->start (id, session, *pipeline);
  std::unique_ptr<WebRtcRoom> room;
  if (whep_off_reason_.empty ()) {
    WebRtcRoom::Settings seats;
    seats.seats = config_.webrtc.max_viewers;
    seats.ice_servers = config_.ice_servers;
    /* the publisher is asked as for the HLS: the ingest outlives the room */
    room = std::make_unique<WebRtcRoom> (*pipeline, std::move (seats),
        [asked] { asked->request_keyframe (); });
  }
  LiveStream & ls = live_[id];
  ls.session_number = session;
  ls.ingest = std::move (ingest);
  ls.pipeline = std::move (pipeline);
  ls.room = std::move (room);
  ls.pipeline_name = d->name;
  ls.video_codec = v;
  ls.audio_codec = a;
  ls.before_admit = before;
  ls.epoch = r->epoch;
  if (!ls.pipeline->start (error)) {
    live_.erase (id);
    live_hls_.remove_stream (id);
    recordings_->drop (id, session);
    put_back (r->epoch);
    refusal = { 500, error };
    return nullptr;
  }
  g_message ("stream %s is live%s (%s, pipeline %s, session %u)", id.c_str (),
      resumed ? " again" : "", r->ingest.c_str (), d->name.c_str (), session);
  emit (resumed ? "stream.resumed" : "stream.started", *r);
  return &ls;
}

void
StreamManager::fail_unbuilt (StreamRecord & r, const std::string & reason)
{
  drop_interruption (r.id);
  if (!set_state (r, StreamState::failed, reason))
    return;
  g_message ("stream %s failed: %s", r.id.c_str (), reason.c_str ());
  emit ("stream.failed", r);
}

LiveStream *
StreamManager::live (const std::string & id)
{
  auto it = live_.find (id);
  return it == live_.end () ? nullptr : &it->second;
}

const LiveStream *
StreamManager::live (const std::string & id) const
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
StreamManager::abandon (const std::string & id, const std::string & ingest_session)
{
  auto it = live_.find (id);
  if (it == live_.end () || it->second.ingest->session () != ingest_session)
    return;
  unsigned session = it->second.session_number;
  StreamRecord before = std::move (it->second.before_admit);
  before.epoch = it->second.epoch;
  live_.erase (it);
  live_hls_.remove_stream (id);
  recordings_->drop (id, session);
  /* the record as admit found it (state, reason, pipeline, ingest, start,
   * session): nothing of the refused publisher stays */
  std::string error;
  if (store_->save (before, error) != WriteResult::ok)
    g_warning ("stream %s: cannot restore its state: %s", id.c_str (), error.c_str ());
  /* a stream that was resuming waits for its publisher again, a new window */
  if (before.state == StreamState::interrupted)
    start_window (id);
}

std::string
StreamManager::whep_url (const std::string & id) const
{
  return whep_off_reason_.empty () ? config_.base_url () + "/whep/" + id : "";
}

unsigned
StreamManager::webrtc_viewers (const std::string & id) const
{
  const LiveStream *ls = live (id);
  return ls && ls->room ? ls->room->viewers () : 0;
}

bool
StreamManager::end (const std::string & id)
{
  auto r = store_->get (id);
  if (!r)
    return false;
  if (LiveStream *ls = live (id)) {
    ls->stop_requested = true;
    ls->pipeline->stop (config_.shutdown_timeout);
    return true;
  }
  if (r->state == StreamState::live && cluster_ && r->node != config_.node.id) {
    cluster_->request_end (r->node, id);
    return true;
  }
  drop_interruption (id);
  if (r->state != StreamState::ended && r->state != StreamState::failed
      && set_state (*r, StreamState::ended, ""))
    emit ("stream.ended", *r);
  return true;
}

void
StreamManager::lose_publisher (const std::string & id, const std::string & session,
    const std::string & reason, bool media_ended)
{
  LiveStream *ls = live (id);
  if (!ls || ls->ingest->session () != session)
    return;                            /* a session that is over already */
  on_publisher_lost (id, reason);
  if (!media_ended)
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
  r.resume_until = g_get_real_time () + (int64_t) config_.reconnect_window * G_USEC_PER_SEC;
  if (!set_state (r, StreamState::interrupted, ls.lost_reason))
    return;
  g_message ("stream %s interrupted: its publisher has %u s to come back", r.id.c_str (),
      config_.reconnect_window);
  emit ("stream.interrupted", r);
  start_window (r.id);
}

void
StreamManager::start_window (const std::string & id)
{
  struct Call {
    StreamManager *self;
    std::string id;
  };
  drop_interruption (id);
  interrupted_[id] = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, config_.reconnect_window,
      [] (gpointer data) -> gboolean {
        auto *c = static_cast<Call *> (data);
        c->self->interrupted_[c->id] = 0;    /* this source is over */
        c->self->on_window_over (c->id);
        return G_SOURCE_REMOVE;
      }, new Call { this, id }, [] (gpointer data) { delete static_cast<Call *> (data); });
}

void
StreamManager::on_window_over (const std::string & id)
{
  drop_interruption (id);
  auto r = store_->get (id);
  if (!r || r->state != StreamState::interrupted)
    return;                            /* resumed (maybe on another node), or ended */
  if (!set_state (*r, StreamState::ended, "the publisher did not come back within "
          + std::to_string (config_.reconnect_window) + " s"))
    return;
  g_message ("stream %s ended: %s", id.c_str (), r->reason.c_str ());
  emit ("stream.ended", *r);
}

void
StreamManager::drop_interruption (const std::string & id)
{
  auto it = interrupted_.find (id);
  if (it == interrupted_.end ())
    return;
  if (it->second)
    g_source_remove (it->second);
  interrupted_.erase (it);
}

bool
StreamManager::set_state (StreamRecord & r, StreamState state, const std::string & reason)
{
  r.state = state;
  r.reason = reason;
  if (state == StreamState::ended || state == StreamState::failed)
    r.ended_at = g_get_real_time ();
  if (state != StreamState::interrupted)
    r.resume_until = 0;
  std::string error;
  switch (store_->save (r, error)) {
    case WriteResult::ok:
      return true;
    case WriteResult::stale:
      g_message ("stream %s: another node has moved it on; this one leaves it", r.id.c_str ());
      return false;
    case WriteResult::error:
      /* kept, and written once the store can take it (logged there): what
       * this daemon decided is the stream's state meanwhile */
      return true;
  }
  return false;
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
  if (cluster_)
    cluster_->publish_event (type, r);
}

void
StreamManager::add_remote_event_listener (std::function<void (const StreamEvent &)> listener)
{
  remote_event_listeners_.push_back (std::move (listener));
}

bool
StreamManager::start_cluster (std::function<std::vector<StreamShare> ()> shares,
    std::string & error)
{
  if (!cluster_)
    return true;
  ClusterNode::Hooks h;
  h.taken_over = [this] (const StreamRecord & r) { on_taken_over (r); };
  h.expired = [this] (const StreamRecord & r) { on_expired (r); };
  h.fenced = [this] { on_fenced (); };
  h.end_requested = [this] (const std::string & id) {
    if (live (id))
      end (id);
  };
  h.remote_event = [this] (const std::string & type, const StreamRecord & r) {
    StreamEvent e { type, r };
    for (auto & l : remote_event_listeners_)
      l (e);
  };
  h.local_shares = std::move (shares);
  h.live_count = [this] { return (unsigned) live_.size (); };
  h.reconcile = [this] (const std::vector<StreamRecord> & all) { reconcile (all); };
  return cluster_->start (std::move (h), error);
}

void
StreamManager::on_taken_over (const StreamRecord & r)
{
  /* its publisher may come back to any node; this one ends it when the
   * window passes, unless another node's tick does first */
  emit ("stream.interrupted", r);
  start_window (r.id);
}

void
StreamManager::on_expired (const StreamRecord & r)
{
  drop_interruption (r.id);
  emit ("stream.ended", r);
  /* nobody writes its S3 playlists now: they get their end (a node that
   * was lost left them without) */
  if (config_.s3.enabled ())
    settle_s3 (r.id, 0);
}

void
StreamManager::reconcile (const std::vector<StreamRecord> & all)
{
  /* a stream this node stopped while it had no lease, or whose end it
   * could not write: live in the store, and nowhere in fact. Its
   * publisher may come back, to any node. (admit claims and adds to
   * live_ in one main-context call: no stream is caught in between.) */
  for (StreamRecord r : all) {
    if (r.state != StreamState::live || r.node != config_.node.id || live (r.id))
      continue;
    r.resume_until = g_get_real_time () + (int64_t) config_.reconnect_window * G_USEC_PER_SEC;
    if (!set_state (r, config_.reconnect_window ? StreamState::interrupted : StreamState::ended,
            "its node " + config_.node.id + " stopped it while it had no lease"))
      continue;
    g_message ("stream %s: %s", r.id.c_str (), r.reason.c_str ());
    if (r.state == StreamState::interrupted) {
      emit ("stream.interrupted", r);
      start_window (r.id);
    } else {
      emit ("stream.ended", r);
    }
  }
}

void
StreamManager::on_fenced ()
{
  for (auto & [id, ls] : live_) {
    if (ls.lost_reason.empty ())
      ls.lost_reason = "its node " + config_.node.id + " lost its lease in the cluster";
    ls.pipeline->stop (config_.shutdown_timeout);
  }
}

void
StreamManager::add_recording_listener (Recordings::Listener listener)
{
  recordings_->add_listener (std::move (listener));
}

bool
StreamManager::remove_recordings (const StreamRecord & r, RemovalDone done, Refusal & refusal)
{
  if (r.state == StreamState::live || r.state == StreamState::interrupted
      || recordings_->writing (r.id)) {
    refusal = Refusal (409, "the stream is " + std::string (state_name (r.state))
        + ": its recording is written when it ends; remove it then");
    return false;
  }
  if (cluster_ && !config_.s3.enabled () && !r.node.empty () && r.node != config_.node.id) {
    refusal = Refusal (409, "its recordings are on node " + r.node + ": ask that node");
    return false;
  }
  std::vector<RecordingRecord> all = store_->recordings (r.id);
  if (all.empty ()) {
    RemovalResult none;
    if (!config_.s3.enabled ())
      none.bytes = 0;
    done (std::move (none));
    return true;
  }
  recordings_->remove (r.id, std::move (all), "api", std::move (done));
  return true;
}

void
StreamManager::add_recordings_removed_listener (Recordings::RemovedListener listener)
{
  recordings_->add_removed_listener (std::move (listener));
}

void
StreamManager::on_finished (const std::string & id, bool ok, const std::string & reason)
{
  LiveStream *ls = live (id);
  unsigned session = ls ? ls->session_number : 1;
  /* its media is over: every viewer session ends with it */
  if (ls && ls->room)
    ls->room->close ();
  auto r = store_->get (id);
  if (r && ls && r->epoch != ls->epoch) {
    /* another node took it over (this one lost its lease): the stream is
     * not this node's to write any more */
    g_message ("stream %s: finalized here, but another node has taken it over", id.c_str ());
  } else if (r) {
    /* finalized like any end; but its publisher may come back, even when
     * the pipeline could not be finalized in time (a publisher lost while
     * the pipeline prerolled: GstBin may drop the EOS during that state
     * change). In a cluster, a node that stops leaves its streams
     * interrupted too, for their publishers to resume on another node. */
    if (ls && !ls->lost_reason.empty () && !ls->stop_requested
        && (!shutting_down_ || cluster_) && config_.reconnect_window > 0) {
      interrupt (*r, *ls);
    } else if (set_state (*r, ok ? StreamState::ended : StreamState::failed,
            ok && shutting_down_ && reason.empty ()
            ? "the server stopped while the stream was live" : reason)) {
      /* a shutdown's end says so: the store and the webhooks tell it from
       * the publisher's own stop */
      g_message ("stream %s %s%s%s", id.c_str (), ok ? "ended" : "failed",
          r->reason.empty () ? "" : ": ", r->reason.c_str ());
      emit (ok ? "stream.ended" : "stream.failed", *r);
    }
  }
  /* a failed pipeline wrote no end: its players would wait for ever, and
   * an LL-HLS playlist names parts that lived in memory */
  if (!ok && r && r->state == StreamState::failed && !config_.s3.enabled ())
    playlist_ends_.end (hls_dir (id));
  /* the pipeline is in the middle of its own callback: drop it afterwards */
  auto it = live_.find (id);
  if (it == live_.end ())
    return;
  auto *doomed = new LiveStream (std::move (it->second));
  live_.erase (it);
  /* its final playlists are on disk: served from there from now on */
  live_hls_.remove_stream (id);
  g_idle_add_full (G_PRIORITY_DEFAULT, [] (gpointer data) -> gboolean {
        delete static_cast<LiveStream *> (data);
        trim_memory_soon ();
        return G_SOURCE_REMOVE;
      }, doomed, nullptr);
  /* the pipeline is at NULL: every segment it closed is known (a failed
   * stream's too) */
  recordings_->finish (id, session);
  check_shutdown_done ();
}

/* Once no stream is live and every recording is written, a shutdown is
 * done. */
void
StreamManager::check_shutdown_done ()
{
  if (shutting_down_ && live_.empty () && recordings_->idle () && shutdown_done_) {
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

void
StreamManager::shutdown (std::function<void ()> done)
{
  shutting_down_ = true;
  /* in a cluster, once its streams are finalized this node leaves (its
   * lease goes, so the others need not wait for it to run out) */
  if (cluster_) {
    done = [this, done] {
      cluster_->stop ();
      done ();
    };
  }
  /* nobody can come back to them now (in a cluster, they can: on another
   * node, whose tick ends them after their window) */
  std::vector<std::string> interrupted;
  for (auto & [id, timer] : interrupted_)
    interrupted.push_back (id);
  for (auto & id : interrupted) {
    drop_interruption (id);
    if (cluster_)
      continue;
    if (auto r = store_->get (id); r && r->state == StreamState::interrupted
        && set_state (*r, StreamState::ended, "the server stopped while the stream was interrupted"))
      emit ("stream.ended", *r);
  }
  /* a node of a cluster that stops (a rolling restart) leaves its live
   * streams interrupted: their publishers may resume on the others */
  for (auto & [id, ls] : live_) {
    if (cluster_ && config_.reconnect_window > 0 && ls.lost_reason.empty ())
      ls.lost_reason = "its node " + config_.node.id + " stopped";
    else
      ls.stop_requested = true;
  }
  if (live_.empty () && recordings_->idle ()) {
    done ();
    return;
  }
  shutdown_done_ = std::move (done);
  g_message ("finalizing %zu live stream(s)", live_.size ());
  for (auto & [id, ls] : live_)
    ls.pipeline->stop (config_.shutdown_timeout);
}

}  // namespace castline::launcher
