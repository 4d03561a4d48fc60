/* castline-launcher: one stream's GstPipeline, built from its description,
 * from start to finish.
 *
 * The ingest's elementary streams are linked into the graph's video_in and
 * audio_in (link_media, from any thread) through a tap each, a tee that
 * lets the publisher's media be taken as it came (WebRtcMedia) without
 * touching the graph; the graph ends in its HLS sinks
 * (HlsOutputs: `out`, or one per rung of an abr description, made at the
 * input's first caps by AbrBuilder, with a master playlist over them). The
 * bus is watched on the main context: the last HLS sink's EOS (every
 * playlist final; forwarded, since a webrtcbin never lets the pipeline
 * itself reach EOS) or an error ends the stream, reported once through
 * Listener::finished with the pipeline already stopped. The latest
 * viewerstats of each branch are kept for the API. */
#pragma once

#include "hls/abrbuilder.h"
#include "hls/hlsoutputs.h"
#include "streams/pipelinecatalog.h"

#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace castline::launcher {

class StreamPipeline {
 public:
  struct Listener {
    /* main context, once; the pipeline is at NULL. ok: ended with EOS */
    std::function<void (bool ok, const std::string & reason)> finished;
    /* main context, at most once, before finished: no media for
     * watch_idle's time; never after stop() */
    std::function<void (const std::string & reason)> idle;
  };

  /* Builds the pipeline (not started); nullptr with the reason. */
  static std::unique_ptr<StreamPipeline> create (const PipelineDescription & d,
      const std::string & stream_id, const OutputSettings & out, Listener listener,
      std::string & error);
  ~StreamPipeline ();
  StreamPipeline (const StreamPipeline &) = delete;
  StreamPipeline & operator= (const StreamPipeline &) = delete;

  GstPipeline *pipeline () const { return pipeline_; }
  HlsOutputs & outputs () { return *outputs_; }

  /* Links a source pad carrying kind ("video"/"audio") to the graph's
   * entry; a pad the graph has no free entry for goes to a fakesink (a
   * video track into an audio-only pipeline). The first pad of each kind
   * goes through that kind's tap (names::tap_for: a tee,
   * allow-not-linked), entry or fakesink alike. Any thread. */
  void link_media (const std::string & kind, GstPad * pad);
  /* The tap of kind, reffed (the caller unrefs), or nullptr while no pad
   * of that kind was linked. Any thread. */
  GstElement *media_tap (const std::string & kind) const;
  /* Called on the streaming thread each time a tap gets caps (its sink
   * pad's CAPS event: the publisher's codec of that kind). Before start(). */
  void add_tap_listener (std::function<void (const std::string & kind, GstCaps * caps)> listener);
  /* Sends EOS into video_in/audio_in when nothing is linked to them (the
   * ingest has no such track). Any thread. */
  void end_unlinked_entries ();

  /* How the publisher is asked for a keyframe when the video has had none
   * for about a segment (hls/keyframerequester.h): called on a streaming
   * thread. Before start(). */
  void set_keyframe_request (std::function<void ()> ask);
  /* Element messages from the bus (an ingest's element reporting on its
   * publisher), on the main context. Before start(). */
  void add_element_message_handler (std::function<void (GstMessage *)> handler);
  /* Errors and warnings from the bus, on the main context, before the
   * pipeline acts on them: a handler returns true for an error it takes
   * (an ingest's own element failing on what its publisher sent: the
   * ingest reports the publisher lost, and the stream does not fail).
   * Before start(). */
  void add_problem_handler (std::function<bool (GstMessage *)> handler);

  bool start (std::string & error);

  /* Ends the stream: EOS into the graph's entries, so the sinks write their
   * final playlists; if that takes over timeout_s, the pipeline is stopped
   * anyway and the stream fails with that reason. Main context. */
  void stop (unsigned timeout_s);

  /* Bounds the end of the publisher's media: once its EOS entered a linked
   * entry, the pipeline has timeout_s to write its final playlists, then
   * is stopped and the stream fails with that reason (an EOS that does
   * not reach every sink would leave it live for ever: a 1 s recording
   * into abr ends 0.3 s after its start, while the ladder is being built,
   * and its rungs' sinks never see the EOS). 0: no bound. Before start(). */
  void set_end_timeout (unsigned timeout_s);

  /* Ends the stream (stop) when no buffer entered the graph for idle_s
   * seconds, counted from the first one (for ingests that have no idle
   * time-out of their own), telling Listener::idle first. Main context. */
  void watch_idle (unsigned idle_s);

  /* {"video": viewerstats, "audio": viewerstats} as last posted; caller
   * frees. */
  GstStructure *stats () const;

  /* The HLS sinks' own `stats` (s3hlssink's upload counters), or nullptr
   * for sinks without (hlssink2). Once finished: as they were when the
   * pipeline stopped (s3hlssink forgets them at READY). Caller frees.
   * Main context. */
  GstStructure *output_stats () const;

  bool finished () const { return finished_; }

 private:
  StreamPipeline () = default;
  static gboolean on_bus (GstBus *, GstMessage * msg, gpointer self);
  static GstBusSyncReply on_bus_sync (GstBus *, GstMessage * msg, gpointer self);
  /* {ladder}: the rungs' sinks and master playlist, at the input's caps */
  bool install_ladder (const PipelineDescription & d, std::string & error);
  void watch_entries ();
  /* the tap of kind linked to dest, or nullptr: kind has one already */
  GstElement *make_tap (const std::string & kind, GstPad * dest);
  /* dest: the free entry of kind, or a new fakesink's; nullptr when none
   * can be made (reported) */
  GstPad *graph_sink_for (const std::string & kind);
  void on_element (GstMessage * msg);
  void finish (bool ok, const std::string & reason);
  void arm_stop_timer (unsigned timeout_s);

  GstPipeline *pipeline_ = nullptr;
  Listener listener_;
  std::string stream_id_;
  std::unique_ptr<HlsOutputs> outputs_;
  std::unique_ptr<AbrBuilder> abr_;
  std::function<void ()> keyframe_request_;
  std::vector<std::function<void (GstMessage *)>> element_handlers_;
  std::vector<std::function<bool (GstMessage *)>> problem_handlers_;
  std::vector<std::function<void (const std::string &, GstCaps *)>> tap_listeners_;
  guint bus_watch_ = 0;
  guint stop_timer_ = 0;
  unsigned end_timeout_s_ = 0;     /* set_end_timeout */
  std::atomic<bool> media_end_posted_ { false };   /* post_media_end, once */
  guint idle_timer_ = 0;
  bool finished_ = false;
  bool stopping_ = false;
  bool idle_told_ = false;
  GstStructure *final_output_stats_ = nullptr;   /* the sinks' stats when it finished */
  std::shared_ptr<bool> alive_ = std::make_shared<bool> (true);   /* weak in main-context calls */

  mutable std::mutex lock_;                    /* below */
  GstStructure *video_stats_ = nullptr;
  GstStructure *audio_stats_ = nullptr;
  std::atomic<gint64> last_buffer_us_ { 0 };
};

}  // namespace castline::launcher
