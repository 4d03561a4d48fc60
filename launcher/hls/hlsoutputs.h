/* castline-launcher: the HLS sinks of one stream's pipeline.
 *
 * Each sink (llhlssink for LL-HLS into the data directory, hlssink2 there
 * with hls.low_latency off, or s3hlssink) is configured here: where it
 * writes (its directory, or its S3 key prefix), its segment names, its
 * playlist's length, whether it asks upstream for keyframes. Its media
 * playlists get EXT-X-PROGRAM-DATE-TIME (llhlssink's and s3hlssink's own
 * program-date-time, PlaylistDates for hlssink2), from the running time
 * each fragment opened at and the pipeline's offset to real time. An
 * llhlssink's parts and playlists are handed to a LiveHlsStore, which the
 * HTTP server serves them from (blocking playlist reload), registered
 * under (stream id, rung) until the stream ends; only its segments, init
 * segments and playlist go to disk (what a recording and a late viewer
 * need). The stream is over once every sink has posted EOS (its final
 * playlist).
 *
 * A graph has one sink (`out`) made with it, or, for an abr description,
 * one per rung made on a streaming thread at the input's first caps: so
 * everything here takes a mutex. */
#pragma once

#include "config/config.h"
#include "hls/abrladder.h"
#include "hls/livehlsstore.h"
#include "hls/playlistdates.h"
#include "s3/s3client.h"

#include <gst/gst.h>

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
  /* local output in LL-HLS (llhlssink, fMP4 parts of part_target s),
   * its stores registered in live_hls (required then) */
  bool low_latency = false;
  double part_target = 0.3;
  LiveHlsRegistry *live_hls = nullptr;   /* the StreamManager's, which outlives its pipelines */
  /* abr descriptions: the ladder, the input's video codec (h264, vp8,
   * vp9: its parser and decoder), and with S3 output the client that
   * uploads the master playlist (required then) */
  std::vector<Rung> ladder = default_ladder ();
  std::string video_codec = "h264";
  /* the input's audio codec (opus, aac): {audio_decode}, {audio_to_aac} */
  std::string audio_codec = "opus";
  /* abr: the publisher's encoder adapts its size (WebRTC): the ladder
   * waits abr_settle seconds for it to settle (0: at once) and grows with
   * it (AbrBuilder::set_size_adapts) */
  bool abr_size_adapts = false;
  unsigned abr_settle = 0;
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
  /* its segments' file names: stem, five digits of the segment's number
   * (from 0), extension: "segment" ".ts", "s2-segment" ".m4s" */
  std::string segment_stem;
  std::string segment_ext;
  /* fMP4 segments (llhlssink): the init segment's file name, next to the
   * segments ("init.mp4", "s2-init.mp4"); "" for MPEG-TS */
  std::string init;

  std::string segment_name (guint n) const;
};

/* the init segment of a session's fMP4 output: "init.mp4", "s2-init.mp4" */
std::string init_name (const std::string & segment_prefix);

/* The element HLS outputs are made of: s3hlssink with S3 output (classic
 * HLS whatever low_latency says), llhlssink with low latency, else
 * hlssink2. */
const char *hls_sink_factory (bool s3, bool low_latency);

/* Where an output's files go: the folder of rung ("" for the single
 * output) under a stream's hls_dir, or its S3 key prefix (ending in '/'). */
std::string output_dir (const std::string & hls_dir, const std::string & rung);
std::string output_key_prefix (const S3Output & s3, const std::string & stream_id,
    const std::string & rung);

class HlsOutputs {
 public:
  HlsOutputs (std::string stream_id, OutputSettings settings);
  HlsOutputs (const HlsOutputs &) = delete;
  HlsOutputs & operator= (const HlsOutputs &) = delete;

  const OutputSettings & settings () const { return settings_; }

  /* The sink element the outputs are made of (hls_sink_factory). */
  const char *sink_factory () const
  {
    return hls_sink_factory (settings_.s3.enabled (), settings_.low_latency);
  }

  /* Configures sink (rung: its folder, "" for the stream's own) and adds
   * it, then tells the hook. False with the reason (a directory that
   * cannot be made). Any thread. */
  bool add (GstElement * sink, const std::string & rung, bool request_keyframes,
      std::string & error);

  /* Calls hook for every output: at once for those there, later for each
   * added (on the thread that adds it, before the sink gets data: so the
   * hook must be thread-safe and must not block). */
  void set_hook (std::function<void (const HlsOutput &)> hook);
  std::vector<HlsOutput> list () const;

  /* sink posted EOS; true when it was the last sink waited for */
  bool sink_done (GstObject * sink);

  /* The pipeline reached PLAYING: the offset of running time to real time
   * is taken, once. Any thread (the posting one). */
  void pipeline_playing (GstElement * pipeline);
  /* A splitmuxsink inside one of the sinks opened a fragment at this
   * running time. Any thread. */
  void fragment_opened (GstObject * src, GstClockTime running_time);

  /* The sinks' own `stats` (s3hlssink's upload counters), added up; nullptr
   * for sinks without (hlssink2). Caller frees. */
  GstStructure *stats () const;

 private:
  std::string stream_id_;
  OutputSettings settings_;
  mutable std::mutex lock_;                    /* below */
  std::function<void (const HlsOutput &)> hook_;
  std::vector<HlsOutput> outputs_;
  std::set<std::string> eos_pending_;          /* names of the sinks yet to post EOS */
  std::vector<std::pair<GstElement *, std::shared_ptr<PlaylistDates>>> dates_;  /* hlssink2 */
  gint64 rt_to_unix_ns_ = 0;
  bool have_offset_ = false;
};

}  // namespace castline::launcher
