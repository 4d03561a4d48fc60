/* castline-launcher: the rungs of an adaptive-bitrate pipeline, made when
 * the input's size is known, and added to when it grows.
 *
 * The description (pipelines/abr.pipeline) holds what every rung shares:
 * video_in, a tee video_src of the parsed input (H.264 passes through from
 * there), the decoder and a tee video_raw of the decoded frames, and a tee
 * audio_raw of the decoded audio. How many rungs there are, and their
 * sizes, depend on the input's resolution, which nothing says before the
 * first caps. So probes watch them, on the streaming thread: H.264 caps on
 * video_src's sink pad (their size comes from the SPS), else raw caps on
 * video_raw's sink pad. With a settle time (a WebRTC publisher, whose
 * encoder starts small and grows), the ladder waits for the size to hold
 * (SizeSettle; frames meanwhile go nowhere); else it is built at the first
 * caps. Then the rungs are chosen (select_rungs), each rung's branches
 * built from the same gst-launch text --print-pipeline shows, its sink
 * made by the pipeline (Hooks::make_sink), everything brought to PLAYING,
 * and only then linked to the tees; each new branch drops what comes
 * before the keyframe every rung starts at (branchjoin.h). Rungs above the
 * input are never made, and an encoded rung never gets bigger than the
 * input (rungsize.h). Without a settle time, the audio waits after its
 * entry queue (audio_in) until the rungs are linked, for at most a few
 * seconds: a publisher faster than real time (a recording) would
 * otherwise have sent audio nobody got.
 *
 * When the input of a publisher whose size adapts (set_size_adapts: WHIP)
 * later grows so that the ladder allows rungs not made, they are added the
 * same way, at the keyframe of the new size. With H.264
 * in, the new top rung is the input itself, and the rung that passed the
 * input through until then is encoded from there on, at its own height:
 * at that keyframe, its sink's video is taken from a new encoder branch
 * instead of video_src (the frames queued before it go first). Rungs are
 * never removed: when the input shrinks, rungs above it carry it at its
 * own size.
 *
 * Keyframes line up across rungs: every encoder is told (a downstream
 * GstForceKeyUnit event, in band right before the frame, which the decoder
 * sends out with that frame) to make a keyframe of the frame of each input
 * keyframe (H.264 in: the passthrough rung has exactly those), or of the
 * first frame of every target duration (other input); x264 makes none of
 * its own. Every rung's splitmuxsink thus cuts segment N at the same
 * instant; when the ladder may grow, where segments start is decided
 * there too, for every rung at once (SegmentCuts), so that a rung added
 * later cuts where the others do.
 *
 * The master playlist is rendered once every rung's first SPS is seen (its
 * CODECS) and, when the caps have no frame rate (WebRTC), the top rung's
 * first second has been measured for FRAME-RATE: before the first segment
 * closes; again, with the new rungs, each time the ladder grows.
 * Hooks::master_ready gets it, on a streaming thread. */
#pragma once

#include "hls/abrladder.h"
#include "hls/sizesettle.h"

#include <gst/gst.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace castline::launcher {

class SegmentCuts;

class AbrBuilder {
 public:
  struct Hooks {
    /* A configured HLS sink for the rung, floating, not in a bin yet; or
     * nullptr with the reason. Streaming thread. */
    std::function<GstElement * (const RungPlan &, std::string & error)> make_sink;
    /* The master playlist, at first and each time rungs are added.
     * Streaming thread. */
    std::function<void (std::string master)> master_ready;
    /* Asks the publisher for a keyframe (new rungs start at one); may be
     * empty. Streaming thread. */
    std::function<void ()> request_keyframe;
  };

  AbrBuilder (GstBin * pipeline, std::vector<Rung> ladder, unsigned target_duration, Hooks hooks);
  ~AbrBuilder ();
  AbrBuilder (const AbrBuilder &) = delete;
  AbrBuilder & operator= (const AbrBuilder &) = delete;

  /* The publisher's encoder adapts its video's size (WebRTC): the ladder
   * waits settle for it (SizeSettle; 0: built at the first caps), grows
   * with it later, and its segments are cut by SegmentCuts. Without (the
   * default), the ladder is built at the first caps and stays, and each
   * rung's sink cuts by itself, at the same keyframes. Before install. */
  void set_size_adapts (GstClockTime settle);

  /* Finds the shared tees and installs the probes; false with the reason
   * when the graph lacks them. Before the pipeline starts. */
  bool install (std::string & error);

  /* The rungs made, highest first (empty before the ladder is built). Any
   * thread. */
  std::vector<RungPlan> rungs () const;

 private:
  /* a rung as made: its plan (sizes for the master: as of the largest
   * input), its video branch (owned by the pipeline), its codec */
  struct Made {
    RungPlan plan;
    GstElement *video = nullptr;
    std::string codec;               /* avc1.PPCCLL once seen */
  };

  static GstPadProbeReturn on_src_event (GstPad *, GstPadProbeInfo *, gpointer);
  static GstPadProbeReturn on_raw_event (GstPad *, GstPadProbeInfo *, gpointer);
  static GstPadProbeReturn on_input_buffer (GstPad *, GstPadProbeInfo *, gpointer);
  static GstPadProbeReturn on_audio_buffer (GstPad *, GstPadProbeInfo *, gpointer);
  void release_audio ();
  static GstPadProbeReturn on_sps (GstPad *, GstPadProbeInfo *, gpointer);
  static GstPadProbeReturn on_rate (GstPad *, GstPadProbeInfo *, gpointer);
  void input_caps (GstPad * pad, GstCaps * caps, bool passthrough);
  void build_settled ();
  void send_master_when_known ();
  bool build (GstCaps * caps, bool passthrough, std::string & error);
  bool grow (GstCaps * caps, std::string & error);
  bool build_rung (const RungPlan & plan, std::string & error);
  bool encode_passthrough_rung (const RungPlan & plan, std::string & error);
  void watch_sps (GstElement * video, const std::string & rung);
  void align_keyframes (bool follow_input);
  void fail_stream (GstElement * where, const std::string & reason);

  GstBin *pipeline_;                 /* not owned: the pipeline owns this */
  std::vector<Rung> ladder_;
  GstClockTime interval_;
  Hooks hooks_;
  SizeSettle settle_;
  /* size adapts: every rung's segments start where it says */
  std::unique_ptr<SegmentCuts> cuts_;
  GstElement *video_src_ = nullptr;  /* the tees, owned */
  GstElement *video_raw_ = nullptr;
  GstElement *audio_raw_ = nullptr;
  GstPad *decoder_pad_ = nullptr;    /* video_src's pad to the decoder (H.264 in), owned */

  mutable std::mutex lock_;          /* below */
  bool mode_known_ = false;          /* the first caps said H.264 (passthrough_) or not */
  bool passthrough_ = false;
  GstCaps *settling_caps_ = nullptr; /* the latest caps while the size settles, owned */
  bool built_ = false;
  /* the input's audio waits after audio_in (on_audio_buffer), bounded,
   * until the rungs' audio branches are linked or the stream failed */
  bool audio_released_ = false;
  gint64 audio_hold_until_ = -1;     /* monotonic µs: the wait's bound */
  std::condition_variable audio_cond_;
  bool master_due_ = false;          /* rungs made or added since the last master */
  bool stats_made_ = false;          /* the top rung's viewerstats: the first top's */
  std::vector<Made> made_;
  int fps_n_ = 0, fps_d_ = 1;
  /* no frame rate in the caps: measured on the top rung's first second */
  bool measuring_ = false;
  GstClockTime rate_first_ = GST_CLOCK_TIME_NONE;
  guint64 rate_frames_ = 0;
};

}  // namespace castline::launcher
