/* castline-launcher: one stream's GstPipeline, built from its description.
 *
 * The ingest's elementary streams are linked into the graph's video_in and
 * audio_in (link_media, from any thread); the graph ends in the HLS sink
 * (hlssink2 into the data directory, or s3hlssink). The bus is watched on
 * the main context: the HLS sink's EOS (its playlist is final; forwarded,
 * since a webrtcbin never lets the pipeline itself reach EOS) or an error
 * ends the stream, reported once through Listener::finished with the
 * pipeline already stopped. The latest viewerstats of each branch are kept.
 *
 * A graph may have several HLS outputs: an abr description ({ladder})
 * gets one sink per rung, made at the input's first caps (AbrBuilder), and
 * a master playlist over them. The stream is over once every output's
 * sink has posted EOS. Media playlists get EXT-X-PROGRAM-DATE-TIME
 * (PlaylistDates for hlssink2, s3hlssink's program-date-time). */
#pragma once

#include "hls/abrbuilder.h"
#include "config/config.h"
#include "streams/pipelinecatalog.h"
#include "hls/playlistdates.h"
#include "s3/s3client.h"

#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace castline::launcher {

struct OutputSettings {
  std::string hls_dir;             /* local output: segments and index.m3u8 */
  unsigned target_duration = 2;
  unsigned playlist_length = 6;
  unsigned max_files = 10;
  S3Output s3;                     /* enabled: s3hlssink instead of hlssink2 */
  /* abr descriptions: the ladder, the input's video codec (h264, vp8,
   * vp9: its parser and decoder), and with S3 output the client that
   * uploads the master playlist (required then) */
  std::vector<Rung> ladder = default_ladder ();
  std::string video_codec = "h264";
  std::shared_ptr<castline::s3::S3Client> s3_client;
  /* before each segment's name: "" for a stream's first publisher session,
   * "s2-" for the second (after an interruption)... Segments are served as
   * immutable, so a later session never reuses an earlier one's names */
  std::string segment_prefix;
};

/* One HLS output sink of a pipeline. */
struct HlsOutput {
  std::string name;                /* the rung (its folder); "" for the single output `out` */
  GstElement *sink = nullptr;      /* hlssink2 or s3hlssink, owned by the pipeline */
  std::string dir;                 /* local output: its directory (segments, index.m3u8) */
  std::string key_prefix;          /* S3 output: its key prefix, ending in '/' */
};

class StreamPipeline {
 public:
  struct Listener {
    /* main context, once; the pipeline is at NULL. ok: ended with EOS */
    std::function<void (bool ok, const std::string & reason)> finished;
    /* main context, at most once, before finished: the publisher went
     * away without stopping (its WebSocket closed with another code than
     * 1000, or no media for watch_idle's time); never after stop() */
    std::function<void (const std::string & reason)> publisher_lost;
  };

  /* Builds the pipeline (not started); nullptr with the reason. */
  static std::unique_ptr<StreamPipeline> create (const PipelineDescription & d,
      const std::string & stream_id, const OutputSettings & out, Listener listener,
      std::string & error);
  ~StreamPipeline ();
  StreamPipeline (const StreamPipeline &) = delete;
  StreamPipeline & operator= (const StreamPipeline &) = delete;

  GstPipeline *pipeline () const { return pipeline_; }

  /* Calls hook for every HLS output sink, before that sink gets any data:
   * at once (on this thread) for those made with the graph, and for those
   * made later (abr rungs, at the input's first caps) on the streaming
   * thread that makes them, configured but not yet in the pipeline nor
   * started (so the hook must be thread-safe and must not block). Set
   * before start(). */
  void set_output_hook (std::function<void (const HlsOutput &)> hook);
  /* The outputs so far. Any thread. */
  std::vector<HlsOutput> outputs () const;

  /* Links a source pad carrying kind ("video"/"audio") to the graph's
   * entry; a pad the graph has no free entry for goes to a fakesink (a
   * video track into an audio-only pipeline). Any thread. */
  void link_media (const std::string & kind, GstPad * pad);

  /* webmwssrc (port -1: connections come through add-connection) and
   * matroskademux, linked to the graph as tracks appear. Returns the
   * webmwssrc (owned by the pipeline). Before start(). */
  GstElement *add_websocket_ingest (unsigned idle_timeout_s);

  bool start (std::string & error);

  /* Ends the stream: EOS into the graph's entries, so the sink writes its
   * final playlist; if that takes over timeout_s, the pipeline is stopped
   * anyway and the stream fails with that reason. Main context. */
  void stop (unsigned timeout_s);

  /* Ends the stream (stop) when no buffer entered the graph for idle_s
   * seconds, counted from the first one (for ingests that have no idle
   * time-out of their own), telling Listener::publisher_lost first. Main
   * context. */
  void watch_idle (unsigned idle_s);

  /* {"video": viewerstats, "audio": viewerstats} as last posted; caller
   * frees. */
  GstStructure *stats () const;

  /* The HLS sink's own `stats` (s3hlssink's upload counters), or nullptr
   * for a sink without (hlssink2). Once finished: as they were when the
   * pipeline stopped (s3hlssink forgets them at READY). Caller frees.
   * Main context. */
  GstStructure *output_stats () const;

  bool finished () const { return finished_; }

  /* Sends EOS into video_in/audio_in when nothing is linked to them (the
   * ingest has no such track). Any thread. */
  void end_unlinked_entries ();

 private:
  StreamPipeline () = default;
  static gboolean on_bus (GstBus *, GstMessage * msg, gpointer self);
  static GstBusSyncReply on_bus_sync (GstBus *, GstMessage * msg, gpointer self);
  /* sets an HLS sink's locations (rung: its folder, "" for the stream's
   * own) and registers it as an output; any thread */
  bool add_output (GstElement * sink, const std::string & rung, bool request_keyframes,
      std::string & error);
  void write_master (const std::string & text);   /* main context */
  void finish (bool ok, const std::string & reason);
  void tell_publisher_lost (const std::string & reason);
  GstStructure *sink_stats () const;

  GstPipeline *pipeline_ = nullptr;
  Listener listener_;
  guint bus_watch_ = 0;
  guint stop_timer_ = 0;
  guint idle_timer_ = 0;
  bool finished_ = false;
  bool stopping_ = false;
  bool publisher_lost_ = false;   /* told */
  GstStructure *final_output_stats_ = nullptr;   /* the sink's stats when it finished */

  std::string stream_id_;
  OutputSettings out_;
  std::unique_ptr<AbrBuilder> abr_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool> (true);   /* weak in main-context calls */

  mutable std::mutex lock_;                    /* below */
  std::function<void (const HlsOutput &)> output_hook_;
  std::vector<HlsOutput> outputs_;
  std::set<std::string> eos_pending_;          /* names of the sinks yet to post EOS */
  std::vector<std::pair<GstElement *, std::shared_ptr<PlaylistDates>>> dates_;  /* hlssink2 outputs */
  gint64 rt_to_unix_ns_ = 0;     /* base time + real time - clock time, taken at PLAYING */
  bool have_offset_ = false;
  GstStructure *video_stats_ = nullptr;
  GstStructure *audio_stats_ = nullptr;
  std::atomic<gint64> last_buffer_us_ { 0 };
};

}  // namespace castline::launcher
