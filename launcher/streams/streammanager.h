/* castline-launcher: every stream, its record and, while live, its
 * pipeline. Main context only. A stream goes live when a publisher comes
 * (WebSocket or WHIP), at most Config::max_live_streams at once; it ends
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

#include "config/config.h"
#include "streams/pipelinecatalog.h"
#include "recording/recorder.h"
#include "streams/streampipeline.h"
#include "streams/streamstore.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace castline::launcher {

struct LiveStream {
  std::unique_ptr<StreamPipeline> pipeline;
  std::string pipeline_name;
  /* what the publisher is to send, of what it offered: the codec the
   * pipeline takes ("" for a kind the pipeline has no branch for); a WHIP
   * answer names only these */
  std::string video_codec;
  std::string audio_codec;
  std::shared_ptr<void> ingest;        /* the ingest's own state (WHIP), kept alive */
  std::string session;                 /* WHIP session id (the Location's last part) */
  /* the publisher session: 1 for the stream's first, one more after each
   * interruption it came back from */
  unsigned session_number = 1;
  /* set when the publisher was lost without stopping: the stream is then
   * interrupted, not ended, once the pipeline is finalized */
  std::string lost_reason;
  bool stop_requested = false;         /* end() or shutdown(): an end, whatever the publisher did */
};

/* what the files of publisher session n are named with: "" for the first,
 * "s<n>-" after */
std::string session_prefix (unsigned n);

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
  unsigned status = 0;                 /* 0: none */
  std::string reason;
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
  std::optional<StreamRecord> get (const std::string & id) const { return store_.get (id); }
  std::vector<StreamRecord> list () const { return store_.list (); }
  /* Ends a stream (a live one is finalized first, an interrupted one ends
   * at once); false for an unknown id. */
  bool end (const std::string & id);
  /* The ingest of session (LiveStream::session; "" for any) lost its
   * publisher without a stop (a WHIP peer connection that failed): the
   * pipeline is finalized and the stream interrupted. Nothing if the
   * stream is not live with that session any more. */
  void lose_publisher (const std::string & id, const std::string & session,
      const std::string & reason);

  /* Checks a publisher's stream id and key and whether the stream can go
   * live now (401/404/409/503 otherwise; 503 too while an interrupted
   * session is still being finalized). */
  Refusal check_publisher (const std::string & id, const std::string & key) const;

  /* Builds and starts the stream's pipeline for the codecs the publisher
   * sends (the stream's own pipeline if it was created with one). An
   * interrupted stream resumes ("stream.resumed"; started_at is kept). */
  LiveStream *go_live (const std::string & id, const std::string & ingest,
      const std::vector<std::string> & video_codecs, const std::vector<std::string> & audio_codecs,
      const std::function<void (LiveStream &)> & before_start, Refusal & refusal);
  LiveStream *live (const std::string & id);
  /* Undoes go_live when the publisher could not be connected after all
   * (a failed WHIP negotiation): the pipeline is dropped and the stream is
   * back to what it was, without an ended or failed state. */
  void abandon (const std::string & id);
  size_t live_count () const { return live_.size (); }
  /* the ids of the live streams, in id order */
  std::vector<std::string> live_ids () const;

  /* Where a stream's HLS is played from. */
  std::string playback_url (const std::string & id) const;
  /* The URL of a file of a stream's output (its directory served under
   * /live/{id}/, or its S3 prefix): "index.m3u8", "vod.m3u8". */
  std::string output_url (const std::string & id, const std::string & file) const;

  /* A stream's recordings, once written (empty before its end). */
  std::vector<RecordingRecord> recordings (const std::string & id) const
  {
    return store_.recordings (id);
  }
  /* Called on the main context when a recorded stream's recordings are
   * written and stored (not when none could be): "recording.ready". */
  void add_recording_listener (
      std::function<void (const StreamRecord &, const std::vector<RecordingRecord> &)> listener);
  std::string hls_dir (const std::string & id) const;

  /* Called on the main context for every StreamEvent, in the order they
   * happen, after the new state is stored. While "stream.ended" or
   * "stream.failed" of a live stream is told, live (id) still gives its
   * pipeline, finished (what it did last: metrics add it up). Main context. */
  void add_event_listener (std::function<void (const StreamEvent &)> listener);

  /* SIGINT/SIGTERM: every live stream gets EOS, every interrupted one
   * ends; done runs once all are finalized (each within shutdown_timeout). */
  void shutdown (std::function<void ()> done);

 private:
  void on_finished (const std::string & id, bool ok, const std::string & reason);
  void on_publisher_lost (const std::string & id, const std::string & reason);
  /* interrupted, after its session is finalized: waits reconnect_window */
  void interrupt (StreamRecord & r, const LiveStream & ls);
  /* the window passed without a publisher */
  void on_window_over (const std::string & id);
  /* interrupted_[id]: the window starts, after session number `sessions` */
  void start_window (const std::string & id, unsigned sessions);
  /* forgets an interruption (its timer too); its last session number, or 0 */
  unsigned drop_interruption (const std::string & id);
  void set_state (StreamRecord & r, StreamState state, const std::string & reason);
  void emit (const char *type, const StreamRecord & r);
  void start_recording (const std::string & id, unsigned session_number,
      StreamPipeline & pipeline);
  void on_recorded (const std::string & recorder, const std::string & id,
      std::vector<RecordingRecord> recordings);
  void check_shutdown_done ();

  Config config_;
  StreamStore store_;
  PipelineCatalog catalog_;
  std::map<std::string, LiveStream> live_;
  std::vector<std::function<void (const StreamEvent &)>> event_listeners_;
  std::vector<std::function<void (const StreamRecord &, const std::vector<RecordingRecord> &)>>
      recording_listeners_;
  /* recorded sessions ("<id>/<session number>"), from going live until
   * their VODs are written (a session's may still be written when the
   * next has started) */
  std::map<std::string, std::unique_ptr<Recorder>> recorders_;
  struct Interruption {
    guint timer = 0;                   /* the end of the reconnect window */
    unsigned sessions = 0;             /* the last session's number */
  };
  std::map<std::string, Interruption> interrupted_;
  std::shared_ptr<castline::s3::S3Client> recording_s3_;   /* VOD uploads (S3 output) */
  std::function<void ()> shutdown_done_;
  bool shutting_down_ = false;
};

}  // namespace castline::launcher
