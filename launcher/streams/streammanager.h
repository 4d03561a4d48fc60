/* castline-launcher: every stream, its record and, while live, its
 * publisher (an Ingest) and pipeline. Main context only.
 *
 * A stream goes live when a publisher is admitted (admit: the one way in
 * for every ingest), at most Config::max_live_streams at once; it ends
 * when the publisher stops (EOS: the final playlist is written) or on
 * DELETE, or fails alone on a pipeline error.
 *
 * A publisher lost without stopping (its connection dropped, or idle) ends
 * the pipeline the same way, but the stream is `interrupted`: the same key
 * may publish again within Config::reconnect_window seconds, which makes it
 * live again with a new pipeline (a new publisher session: its own
 * segment names and recording, the same live playlist); after the window
 * it ends. Each session's files but the first's are named with the prefix
 * "s<n>-" (session_prefix). */
#pragma once

#include "cluster/clusternode.h"
#include "config/config.h"
#include "hls/livehlsstore.h"
#include "hls/playlistendretry.h"
#include "ingest/ingest.h"
#include "recording/recordingretention.h"
#include "recording/recordings.h"
#include "streams/livestream.h"
#include "streams/pipelinecatalog.h"
#include "store/pendingwrites.h"
#include "store/streamstore.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace castline::launcher {

/* Something that happened to a stream, for whoever listens (webhooks, the
 * events stream, metrics): "stream.created", "stream.started",
 * "stream.interrupted" (the publisher was lost; stream.reason says how),
 * "stream.resumed" (it came back), "stream.ended" or "stream.failed"
 * (stream.reason says why). */
struct StreamEvent {
  std::string type;
  StreamRecord stream;                 /* as it is after the event */
};

/* Why a publisher cannot go live, as an HTTP status and a reason. */
struct Refusal {
  Refusal () = default;
  Refusal (unsigned s, std::string why) : status (s), reason (std::move (why)) {}

  unsigned status = 0;                 /* 0: none */
  std::string reason;
  /* at the live stream limit in a cluster: the base URL of a node with
   * room, where a publisher that can be redirected (WHIP: 307) goes */
  std::string elsewhere;
};

class StreamManager {
 public:
  explicit StreamManager (Config config);
  ~StreamManager ();

  /* Opens the data directory and the database, loads the pipelines.
   * Broken descriptions are reported in warnings; false when the daemon
   * cannot run. */
  bool init (std::vector<std::string> & warnings, std::string & error);

  const Config & config () const { return config_; }
  const PipelineCatalog & catalog () const { return catalog_; }

  /* A new stream; key is its stream key, given out this once. record:
   * whether it is recorded (unset: Config::record). */
  std::optional<StreamRecord> create (const std::string & title, int64_t scheduled_at,
      const std::string & pipeline, std::optional<bool> record, std::string & key,
      Refusal & refusal);
  std::optional<StreamRecord> get (const std::string & id) const { return store_->get (id); }
  std::vector<StreamRecord> list () const { return store_->list (); }
  /* the stream a key belongs to (StreamStore::find_by_key) */
  std::optional<StreamRecord> find_by_key (const std::string & key) const
  {
    return store_->find_by_key (key);
  }
  const StreamStore & store () const { return *store_; }
  /* what a publisher whose key found no stream gets: 401, or 503 when the
   * store could not be read (the key may well be right) */
  unsigned unknown_key_status () const { return store_->read_error ().empty () ? 401 : 503; }
  /* Ends a stream (a live one is finalized first, an interrupted one ends
   * at once; one live on another node of the cluster is ended by that
   * node, asked through the bus); false for an unknown id. */
  bool end (const std::string & id);

  /* This node of the cluster: nullptr unless the store is shared. */
  ClusterNode *cluster () { return cluster_.get (); }
  const ClusterNode *cluster () const { return cluster_.get (); }
  /* Joins the cluster (a shared store; nothing otherwise): the lease, the
   * bus, the ticks. shares: what this node has of each stream, asked at
   * each tick. After settle_unfinished. */
  bool start_cluster (std::function<std::vector<StreamShare> ()> shares, std::string & error);
  /* Called on the main context for each stream event of another node of
   * the cluster (its listeners there had it already: the event streams
   * take these, the webhooks must not). */
  void add_remote_event_listener (std::function<void (const StreamEvent &)> listener);

  /* Whether a publisher with this key may take the stream now: 401
   * unknown stream or wrong key, 409 ended, failed or live already, 503
   * while its last session is being finalized, while the daemon shuts
   * down, or at the live stream limit. What admit checks first; a route
   * may ask earlier to answer before reading the rest of a request. */
  Refusal check_publisher (const std::string & id, const std::string & key) const;

  /* The one way a publisher goes live, whatever its ingest: check_publisher,
   * then the stream's pipeline for what the publisher sends (the stream's
   * own pipeline if it was created with one; catalog's select), built with
   * the ingest attached and started. An interrupted stream resumes
   * ("stream.resumed"; started_at is kept), else "stream.started". The
   * live stream, which owns the ingest; nullptr with the refusal. */
  LiveStream *admit (const std::string & id, const std::string & key,
      std::unique_ptr<Ingest> ingest, Refusal & refusal);

  LiveStream *live (const std::string & id);
  const LiveStream *live (const std::string & id) const;
  /* Undoes admit when the publisher could not be connected after all (a
   * failed WHIP negotiation): the pipeline is dropped and the stream's
   * record is back to exactly what it was (state, reason, pipeline,
   * ingest, started_at); an interrupted stream gets a new reconnect
   * window. Nothing when the stream is not live with that ingest session
   * any more. */
  void abandon (const std::string & id, const std::string & session);
  size_t live_count () const { return live_.size (); }
  /* the ids of the live streams, in id order */
  std::vector<std::string> live_ids () const;

  std::string playback_url (const std::string & id) const { return config_.playback_url (id); }
  /* Why WebRTC playback is off ("" when on): webrtc.max_viewers is 0, or
   * an element it needs is missing (known after init). Live streams get a
   * WebRtcRoom only when on. */
  const std::string & whep_off_reason () const { return whep_off_reason_; }
  /* a stream's WebRTC viewers now, whose connection is up (0 unless live) */
  unsigned webrtc_viewers (const std::string & id) const;
  /* the WHEP URL of a stream, "" while WHEP is off */
  std::string whep_url (const std::string & id) const;
  std::string hls_dir (const std::string & id) const { return config_.hls_dir (id); }
  /* The in-memory stores of the live LL-HLS outputs, which /live/ serves
   * from (a stream's are added when it starts and removed when it ends).
   * Thread-safe: the HTTP server's threads read it. */
  LiveHlsRegistry & live_hls () { return live_hls_; }
  const LiveHlsRegistry & live_hls () const { return live_hls_; }

  /* A stream's recordings, once written (empty before its end). */
  std::vector<RecordingRecord> recordings (const std::string & id) const
  {
    return store_->recordings (id);
  }
  /* Called on the main context when a recorded stream's recordings are
   * written and stored (not when none could be): "recording.ready". */
  void add_recording_listener (Recordings::Listener listener);
  /* Removes every recording of stream id, files and rows
   * (Recordings::remove, reason "api"); done runs on the main context
   * with what went. False, with the refusal, for a stream live or
   * interrupted or whose recording is being written (409: its recording
   * is not done yet), or whose files are on another node (409: local
   * output in a cluster). A stream with no recording: done at once, with
   * nothing removed. */
  bool remove_recordings (const StreamRecord & r, RemovalDone done, Refusal & refusal);
  /* Called on the main context when recordings were removed (by the API
   * or recordings.retention_days): "recording.deleted". */
  void add_recordings_removed_listener (Recordings::RemovedListener listener);

  /* Called on the main context for every StreamEvent, in the order they
   * happen, after the new state is stored. While "stream.ended" or
   * "stream.failed" of a live stream is told, live (id) still gives its
   * pipeline, finished (what it did last: metrics add it up). Main context. */
  void add_event_listener (std::function<void (const StreamEvent &)> listener);

  /* At start, before serving: every stream a daemon that died (kill -9, a
   * crash) left live or interrupted is finalized as a lost publisher's
   * session would have been: its live playlists get #EXT-X-ENDLIST
   * (hls/playlistend.h), its recording is written from the segments its
   * journal names (Recordings::settle), and it is `interrupted` for a
   * whole reconnect_window from now (a live one with the reason, told as
   * stream.interrupted, then recording.ready): the same key within the
   * window resumes it as a new session, else it ends as any interrupted
   * stream. With reconnect_window 0, and in a cluster (this node's live
   * streams; its interrupted ones are the cluster's), it ends at once
   * with the reason instead (stream.ended). A recording whose stream ended
   * before the daemon died but was not written yet is written too. With
   * S3 output, the bucket's playlists and the VODs are done in the
   * background, no publisher admitted to the stream meanwhile; while S3
   * cannot be reached, tried again (kSettleRetries times, backing off)
   * and left for the next start after that. Then recordings.retention_days
   * starts (its first pass once the main loop runs). Main context, after
   * the listeners are added. */
  void settle_unfinished ();

  /* SIGINT/SIGTERM: every live stream gets EOS, every interrupted one
   * ends, and no publisher is admitted any more; done runs once all are
   * finalized (each within shutdown_timeout). */
  void shutdown (std::function<void ()> done);
  bool shutting_down () const { return shutting_down_; }

 private:
  /* the ingest of session lost its publisher without a stop */
  void lose_publisher (const std::string & id, const std::string & session,
      const std::string & reason, bool media_ended);
  void on_finished (const std::string & id, bool ok, const std::string & reason);
  void on_publisher_lost (const std::string & id, const std::string & reason);
  /* interrupted, after its session is finalized: waits reconnect_window */
  void interrupt (StreamRecord & r, const LiveStream & ls);
  /* the window passed without a publisher */
  void on_window_over (const std::string & id);
  /* interrupted_[id]: the window's timer starts */
  void start_window (const std::string & id);
  /* forgets an interruption's timer */
  void drop_interruption (const std::string & id);
  /* Stores r with the new state; false when another node has moved the
   * stream on (then this node leaves it alone, and tells nobody). A store
   * that cannot be written does not stop it: the state stands, kept and
   * written later (PendingWrites). */
  bool set_state (StreamRecord & r, StreamState state, const std::string & reason);
  /* ClusterNode's hooks */
  void on_taken_over (const StreamRecord & r);
  void on_expired (const StreamRecord & r);
  void on_fenced ();
  /* streams the store says this node runs when it does not */
  void reconcile (const std::vector<StreamRecord> & all);
  /* its pipeline cannot be made (not loaded, an element missing): the
   * stream fails with the reason, alone */
  void fail_unbuilt (StreamRecord & r, const std::string & reason);
  void emit (const char *type, const StreamRecord & r);
  void check_shutdown_done ();
  /* settle_unfinished's state change for a stream a dead daemon left
   * live or interrupted: interrupted for a new window, or ended */
  void settle_state (StreamRecord & r);
  /* settle_unfinished's S3 part for one stream: attempt n (from 0) */
  void settle_s3 (const std::string & id, unsigned attempt);

  Config config_;
  LiveHlsRegistry live_hls_;
  /* the store, with the states it could not take yet */
  std::unique_ptr<PendingWrites> store_;
  /* after the store, so gone before it */
  std::unique_ptr<ClusterNode> cluster_;
  PipelineCatalog catalog_;
  std::map<std::string, LiveStream> live_;
  std::vector<std::function<void (const StreamEvent &)>> event_listeners_;
  std::vector<std::function<void (const StreamEvent &)>> remote_event_listeners_;
  std::shared_ptr<castline::s3::S3Client> recording_s3_;   /* VOD and master uploads (S3 output) */
  std::unique_ptr<Recordings> recordings_;
  std::unique_ptr<RecordingRetention> retention_;   /* after recordings_: gone before it */
  /* the interrupted streams this node waits for: the end of their
   * reconnect window (in a cluster, any node's tick may end them too) */
  std::map<std::string, guint> interrupted_;
  std::function<void ()> shutdown_done_;
  std::vector<guint> settle_timers_;   /* settle_s3's retries */
  std::set<std::string> settling_;     /* streams settle_s3 is not done with */
  PlaylistEndRetry playlist_ends_;     /* of failed streams (local output) */
  std::shared_ptr<bool> alive_ = std::make_shared<bool> (true);
  bool shutting_down_ = false;
  std::string whep_off_reason_;
};

}  // namespace castline::launcher
