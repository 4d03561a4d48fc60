/* castline-launcher: the adaptive-bitrate ladder of the `abr` pipeline.
 *
 * Pure logic, no pipeline: which rungs an input gets (select_rungs), the
 * gst-launch text of one rung's branches (the same text --print-pipeline
 * shows and StreamPipeline builds at the input's first caps), the codec
 * string of a rung from its SPS, and the master playlist over the rungs. */
#pragma once

#include <glib.h>

#include <functional>
#include <string>
#include <vector>

namespace castline::launcher {

/* One rung as the configuration gives it (`ladder`); bitrates in kb/s. */
struct Rung {
  std::string name;                /* [A-Za-z0-9_-]{1,32}: its folder live/<id>/<name>/ */
  unsigned height = 0;
  unsigned video_bitrate = 0;
  unsigned audio_bitrate = 0;
};

/* 1080p 3000/128, 720p 1500/96, 480p 800/64, 360p 400/64 */
std::vector<Rung> default_ladder ();

bool valid_rung_name (const std::string & name);

/* Checks a configured ladder: 1 to 8 rungs, names valid and distinct,
 * heights 144 to 4320 and distinct, video 50 to 50000 kb/s, audio 16 to
 * 512 kb/s. False with a sentence. */
bool validate_ladder (const std::vector<Rung> & ladder, std::string & error);

/* A rung as made for one input. */
struct RungPlan {
  Rung rung;
  unsigned width = 0;              /* even, from the input's display aspect ratio */
  unsigned height = 0;
  bool passthrough = false;        /* the input itself (H.264 in), not re-encoded */
  bool top = false;                /* the highest rung: its branches feed video_stats/audio_stats */
};

/* The rungs at or below the input's height, highest first. With
 * passthrough_top (H.264 in) the highest of them is the input as it is,
 * at the input's own size. An input below every rung gets the lowest rung
 * alone, at its own height: never upscaled. par: the input's pixel aspect
 * ratio (0/0 or n/0: square). */
std::vector<RungPlan> select_rungs (const std::vector<Rung> & ladder, unsigned in_width,
    unsigned in_height, int par_n, int par_d, bool passthrough_top);

/* The size a rung's encoded video has for an input of in_width x
 * in_height: the rung's height, or the input's own when the input is
 * smaller (never upscaled), the width from the input's display aspect
 * ratio, both even; what select_rungs gives each rung it picks. */
void rung_size_for_input (const Rung & rung, unsigned in_width, unsigned in_height, int par_n,
    int par_d, unsigned & width, unsigned & height);

/* How one rung's branches are written, in gst-launch syntax. */
struct RungGraph {
  std::string video;               /* from video_src (passthrough) or video_raw to the sink's video pad */
  std::string audio;               /* from audio_raw to the sink's audio pad */
};
/* gop_frames 0: x264 makes a keyframe only where one is forced (the
 * launcher does, at the same running time in every rung); else every
 * gop_frames frames, which lines rungs up too when they all start at the
 * same frame (a graph run by hand). */
RungGraph rung_graph (const RungPlan & plan, unsigned gop_frames = 0);

/* The name of a rung's HLS sink: out_<rung>. */
std::string rung_sink_name (const Rung & r);

/* The whole of a ladder as one gst-launch text: each rung linked from the
 * shared tees (video_src, video_raw, audio_raw) to its sink, whose
 * element text sink (plan) gives (named rung_sink_name). For
 * --print-pipeline. */
std::string ladder_graph (const std::vector<RungPlan> & plans, bool audio, unsigned gop_frames,
    const std::function<std::string (const RungPlan &)> & sink);

/* What the abr description's {video_parse} and {video_decode} become for
 * the input's codec (h264, vp8, vp9). */
std::string video_parse_for (const std::string & codec);
std::string video_decode_for (const std::string & codec);
/* What {audio_decode} and {audio_to_aac} become for the input's audio codec
 * (opus, aac): its decoder; the chain that makes it AAC for HLS (AAC is
 * only parsed, passed through as it is; Opus is decoded and encoded). */
std::string audio_decode_for (const std::string & codec);
std::string audio_to_aac_for (const std::string & codec);

/* "avc1.PPCCLL" from the first SPS in H.264 byte-stream data; "" when
 * there is none. */
std::string avc1_codec_from_byte_stream (const guint8 * data, gsize size);

/* What the master playlist says of one rung. */
struct Variant {
  RungPlan plan;
  std::string video_codec;         /* avc1.PPCCLL */
  bool audio = true;               /* with AAC-LC (mp4a.40.2) */
  int fps_n = 0;                   /* 0: FRAME-RATE left out (unknown, variable) */
  int fps_d = 1;
};

/* BANDWIDTH (peak) and AVERAGE-BANDWIDTH (b/s) of a rung: its video and
 * audio bitrates plus the MPEG-TS overhead (10 %), peak 1.25 x that. */
guint64 rung_average_bandwidth (const Rung & r, bool audio);
guint64 rung_peak_bandwidth (const Rung & r, bool audio);

/* #EXTM3U master playlist: one EXT-X-STREAM-INF (BANDWIDTH,
 * AVERAGE-BANDWIDTH, RESOLUTION, CODECS, FRAME-RATE) per variant, highest
 * first, each naming <rung>/index.m3u8. */
std::string render_master_playlist (const std::vector<Variant> & variants);

}  // namespace castline::launcher
