/* castline-launcher: every stream, its record and, while live, its
 * pipeline. Main context only. A stream goes live when a publisher comes
 * (WebSocket or WHIP), at most Config::max_live_streams at once; it ends
 * when the publisher leaves (EOS: the final playlist is written), on
 * DELETE, on an idle time-out, or fails alone on a pipeline error. */
#pragma once

#include "config.h"
#include "pipelinecatalog.h"
#include "streampipeline.h"
#include "streamstore.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace castline::launcher {

struct LiveStream {
  std::unique_ptr<StreamPipeline> pipeline;
  std::string pipeline_name;
  std::shared_ptr<void> ingest;        /* the ingest's own state (WHIP), kept alive */
  std::string session;                 /* WHIP session id (the Location's last part) */
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

  /* A new stream; key is its stream key, given out this once. */
  std::optional<StreamRecord> create (const std::string & title, int64_t scheduled_at,
      const std::string & pipeline, std::string & key, Refusal & refusal);
  std::optional<StreamRecord> get (const std::string & id) const { return store_.get (id); }
  std::vector<StreamRecord> list () const { return store_.list (); }
  /* Ends a stream (a live one is finalized first); false for an unknown id. */
  bool end (const std::string & id);

  /* Checks a publisher's stream id and key and whether the stream can go
   * live now (401/404/409/503 otherwise). */
  Refusal check_publisher (const std::string & id, const std::string & key) const;

  /* Builds and starts the stream's pipeline for the codecs the publisher
   * sends (the stream's own pipeline if it was created with one). */
  LiveStream *go_live (const std::string & id, const std::string & ingest,
      const std::vector<std::string> & video_codecs, const std::vector<std::string> & audio_codecs,
      const std::function<void (LiveStream &)> & before_start, Refusal & refusal);
  LiveStream *live (const std::string & id);
  /* Undoes go_live when the publisher could not be connected after all
   * (a failed WHIP negotiation): the pipeline is dropped and the stream is
   * back to what it was, without an ended or failed state. */
  void abandon (const std::string & id);
  size_t live_count () const { return live_.size (); }

  /* Where a stream's HLS is played from. */
  std::string playback_url (const std::string & id) const;
  std::string hls_dir (const std::string & id) const;

  /* SIGINT/SIGTERM: every live stream gets EOS; done runs once all are
   * finalized (each within shutdown_timeout). */
  void shutdown (std::function<void ()> done);

 private:
  void on_finished (const std::string & id, bool ok, const std::string & reason);
  void set_state (StreamRecord & r, StreamState state, const std::string & reason);

  Config config_;
  StreamStore store_;
  PipelineCatalog catalog_;
  std::map<std::string, LiveStream> live_;
  std::function<void ()> shutdown_done_;
  bool shutting_down_ = false;
};

}  // namespace castline::launcher
