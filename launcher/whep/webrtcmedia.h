/* castline-launcher: a live stream's media for its WebRTC viewers,
 * packetized once and fanned out.
 *
 * StreamPipeline puts a tee (a "tap", allow-not-linked) between the
 * ingest's pads and the graph's entries, so the publisher's encoded
 * media, as it came, can be taken without touching the HLS branches.
 * WebRtcMedia hangs one chain per kind off each tap, built on the main
 * context once the tap's caps are known (on the first viewer or earlier:
 * prepare ()):
 *
 *   video tap. ! [queue leaky] ! h264parse config-interval=-1 ! byte-stream
 *     (H.264; VP8/VP9 as they are) ! tee  -- per payload type:
 *     rtph264pay/rtpvp8pay/rtpvp9pay pt=N ! tee name=webrtcmedia_video_rtpN
 *   audio tap. ! [queue leaky] ! (Opus: opusparse | AAC: aacparse ! avdec_aac
 *     ! audioconvert ! audioresample ! 48 kHz stereo ! opusenc, one per
 *     stream) ! tee  -- per payload type: rtpopuspay pt=N ! tee
 *
 * and per viewer track a branch: rtp tee ! [queue] (leaky=downstream,
 * bounded: a stalled viewer drops its own packets, never slows the
 * publisher or the others) whose src pad the viewer links to its
 * webrtcbin. Each [queue] is a bin whose sink pad never hands a failure
 * upstream (whep/flowguard.h: a tee would stop every branch for one
 * branch's failure, a viewer's webrtcbin flushing as it closes). A
 * viewer's keyframe request (the upstream GstForceKeyUnit webrtcbin sends
 * for a PLI or FIR) is caught on its branch and reported through
 * keyframe_wanted (the caller throttles it); it never travels further up.
 *
 * Elements, named webrtcmedia_*, are added to the stream's pipeline;
 * errors from them are taken by a problem handler
 * (StreamPipeline::add_problem_handler) and logged, never failing the
 * stream: a chain's error takes that chain down (its kind is no longer
 * in media ()), a branch's stays in the branch (its viewer's webrtcbin
 * reports its own failure).
 *
 * A chain joining H.264 byte-stream mid-way waits for an IDR with its
 * SPS/PPS (browsers, x264 and ffmpeg send them with every IDR; avc
 * brings them in codec_data). */
#pragma once

#include "streams/streampipeline.h"
#include "whep/whepoffer.h"

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>

namespace castline::launcher {

struct WebRtcMediaState;

class WebRtcMedia {
 public:
  struct Hooks {
    /* a streaming thread: a viewer asked for a keyframe */
    std::function<void ()> keyframe_wanted;
  };

  /* Before the pipeline starts (it installs its problem handler). Main
   * context. */
  WebRtcMedia (StreamPipeline & pipeline, Hooks hooks);
  /* Removes every chain and branch. Main context. */
  ~WebRtcMedia ();
  WebRtcMedia (const WebRtcMedia &) = delete;
  WebRtcMedia & operator= (const WebRtcMedia &) = delete;

  /* the elements it may make (the check at start) */
  static std::vector<std::string> required_elements ();

  /* What viewers can be sent now: the taps whose caps are known and
   * whose codec WebRTC carries (h264/vp8/vp9; opus, or aac as opus).
   * Any thread. */
  WhepMedia media () const;

  /* Builds the chains of the taps known now (idempotent). Main context. */
  void prepare ();

  /* A branch for one viewer's track (kind "video"/"audio", the offer's
   * payload type): the payloader for pt is made on first use. The branch
   * queue's src pad, reffed and unlinked, and in ssrc the SSRC its packets
   * carry (the viewer's answer must name it); nullptr and the reason when
   * the kind has no chain. Main context. */
  GstPad *add_branch (const std::string & viewer, const std::string & kind, int pt,
      guint & ssrc, std::string & error);
  /* Removes a viewer's branches (their queues stopped and gone; the
   * payloader stays for the next viewer). Call after the viewer closed.
   * Main context. */
  void remove_branches (const std::string & viewer);

 private:
  std::shared_ptr<WebRtcMediaState> state_;
};

}  // namespace castline::launcher
