/* castline-launcher: the pipeline descriptions in pipelines/ (and the
 * directories the configuration adds), loaded and checked at start.
 *
 * A description is a text file NAME.pipeline: header lines "key: value"
 * (description, video, audio), a line "---", then the media graph in
 * gst-launch-1.0 syntax (its lines are joined; lines starting with '#' are
 * comments). The graph starts at elements named video_in and audio_in (the
 * launcher links the ingest's elementary streams to their sink pads: H.264,
 * VP8 or VP9 video, Opus or AAC audio, as the header says) and ends in {output},
 * which becomes the HLS sink, named out, with request pads out.video and
 * out.audio. Placeholders: {output}, {stream_id}; an adaptive-bitrate
 * graph has {ladder} instead of {output} (the rungs, see abrbuilder.h) and
 * may use {video_parse}, {video_decode} (the input codec's parser and
 * decoder). Any graph may use {audio_decode} (the input audio's decoder)
 * and {audio_to_aac} (the input audio made AAC: aacparse alone for AAC,
 * passed through; decoded and encoded at 128 kb/s for Opus). */
#pragma once

#include <map>
#include <string>
#include <vector>

namespace castline::launcher {

struct PipelineDescription {
  std::string name;                /* the file name without .pipeline */
  std::string file;
  std::string description;
  std::vector<std::string> video_codecs;   /* h264, vp8, vp9; empty: no video */
  std::vector<std::string> audio_codecs;   /* opus, aac; empty: no audio */
  std::string graph;
  /* {ladder} instead of {output}: an adaptive-bitrate graph, one sink per
   * rung (AbrBuilder); {video_parse}, {video_decode} follow the input codec */
  bool ladder = false;

  bool takes (const std::string & kind, const std::string & codec) const;
};

/* Reads one description; false with what is wrong (the file is named by
 * the caller). Checks the header, the placeholders, and that the graph
 * builds with GStreamer's parser (every element exists, video_in/audio_in
 * are there with a free sink pad when the header says so). */
bool parse_pipeline_description (const std::string & name, const std::string & text,
    PipelineDescription & out, std::string & error);

/* What a graph's placeholders become. */
struct GraphValues {
  std::string output;              /* {output}: the HLS sink, named out */
  std::string stream_id;           /* {stream_id} */
  std::string ladder;              /* {ladder}: "" until the rungs are known (AbrBuilder) */
  std::string video_parse;         /* {video_parse}, {video_decode}: set_video_codec */
  std::string video_decode;
  std::string audio_decode;        /* {audio_decode}, {audio_to_aac}: set_audio_codec */
  std::string audio_to_aac;

  /* {video_parse} and {video_decode} for the input's codec (h264, vp8, vp9) */
  void set_video_codec (const std::string & codec);
  /* {audio_decode} and {audio_to_aac} for the input's audio (opus, aac) */
  void set_audio_codec (const std::string & codec);
};

/* The graph with its placeholders replaced. */
std::string render_graph (const PipelineDescription & d, const GraphValues & values);

class PipelineCatalog {
 public:
  /* Every *.pipeline file of dirs, in order (a later one of the same name
   * replaces an earlier one). Broken files are reported in errors
   * ("file: what is wrong") and left out. False when none loaded. */
  bool load (const std::vector<std::string> & dirs, std::vector<std::string> & errors);

  const PipelineDescription *find (const std::string & name) const;
  /* The description for what an ingest carries: among those taking every
   * offered kind, the first in this order: passthrough, transcode,
   * transcode-vp9, audio-only, then by name. video/audio codecs: what the
   * publisher offers (empty: none of that kind). */
  const PipelineDescription *choose (const std::vector<std::string> & video_codecs,
      const std::vector<std::string> & audio_codecs, std::string & video_codec,
      std::string & audio_codec) const;
  /* The description a stream gets: `wanted` (the stream's own, or "" to
   * choose), or with abr_default "abr" for a publisher sending video abr
   * takes; then the codecs the publisher is to send, of those offered (the
   * description's own order decides: abr takes H.264 first, passed
   * through, over a browser's VP8 listed before it). nullptr with the
   * refusal: 500 for a wanted description that is not loaded, 406 when it
   * takes nothing offered. */
  const PipelineDescription *select (const std::string & wanted, bool abr_default,
      const std::vector<std::string> & video_codecs, const std::vector<std::string> & audio_codecs,
      std::string & video_codec, std::string & audio_codec, unsigned & status,
      std::string & reason) const;
  const std::map<std::string, PipelineDescription> & all () const { return descriptions_; }
  /* why a description of that name was left out at load ("": it was
   * not, or there is none) */
  std::string unavailable (const std::string & name) const;

 private:
  std::map<std::string, PipelineDescription> descriptions_;
  std::map<std::string, std::string> unavailable_;   /* name: what is wrong */
};

}  // namespace castline::launcher
