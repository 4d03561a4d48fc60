/* castline-launcher: a WHIP (RFC 9725) publisher as an Ingest: its offer's
 * codecs, a receive-only webrtcbin in the stream's pipeline (WhipIngest)
 * answering only the codecs the chosen pipeline takes, each received track
 * linked to the graph, keyframes asked for with a PLI, and a peer that
 * fails or stays disconnected reported lost. The WHIP routes negotiate
 * and take trickled candidates through it once it is admitted. */
#pragma once

#include "ingest/ingest.h"
#include "ingest/whip/whipingest.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace castline::launcher {

class WhipPublisher : public Ingest {
 public:
  /* offer: inspect_whip_offer's; idle_timeout_s: how long the stream may
   * go without media once connected (WebRTC has no end of stream of its
   * own); stream_id: for the log */
  WhipPublisher (const OfferInfo & offer, std::vector<std::string> ice_servers,
      unsigned idle_timeout_s, std::string stream_id);
  ~WhipPublisher () override;

  const char *kind () const override { return "whip"; }
  const PublisherMedia & media () const override { return media_; }
  /* a WebRTC encoder sizes its video to the bandwidth */
  bool video_size_adapts () const override { return true; }
  bool attach (StreamPipeline & pipeline, const std::string & video_codec,
      const std::string & audio_codec, Hooks hooks, std::string & error) override;
  void request_keyframe () override;

  /* Answers the offer (WhipIngest::negotiate); once answered (201), the
   * stream ends when no media comes for idle_timeout_s. done runs later on
   * the main context, whether or not this ingest is still there. After
   * attach; main context. */
  void negotiate (const std::string & offer, unsigned timeout_ms,
      std::function<void (unsigned status, std::string answer_or_error)> done);
  /* trickled candidates (WhipIngest::add_remote_candidates) */
  bool add_remote_candidates (const std::string & sdpfrag, std::string & error, bool *ice_restart)
  {
    return webrtc_->add_remote_candidates (sdpfrag, error, ice_restart);
  }

 private:
  PublisherMedia media_;
  std::vector<std::string> ice_servers_;
  unsigned idle_timeout_s_;
  std::string stream_id_;
  StreamPipeline *pipeline_ = nullptr;   /* attached to; goes with this */
  std::shared_ptr<bool> alive_ = std::make_shared<bool> (true);   /* weak in main-context calls */
  std::unique_ptr<WhipIngest> webrtc_;
  std::mutex lock_;                /* video_pad_: set and read on streaming threads */
  GstPad *video_pad_ = nullptr;    /* the received video, parsed (ref) */
};

}  // namespace castline::launcher
