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
  /* offer: inspect_whip_offer's; stream_id: for the log */
  WhipPublisher (const OfferInfo & offer, std::vector<std::string> ice_servers,
      std::string stream_id);
  ~WhipPublisher () override;

  const char *kind () const override { return "whip"; }
  const PublisherMedia & media () const override { return media_; }
  bool attach (StreamPipeline & pipeline, const std::string & video_codec,
      const std::string & audio_codec, Hooks hooks, std::string & error) override;
  void request_keyframe () override;

  /* the webrtcbin side; after attach */
  WhipIngest & webrtc () { return *webrtc_; }

 private:
  PublisherMedia media_;
  std::vector<std::string> ice_servers_;
  std::string stream_id_;
  std::unique_ptr<WhipIngest> webrtc_;
  std::mutex lock_;                /* video_pad_: set and read on streaming threads */
  GstPad *video_pad_ = nullptr;    /* the received video, parsed (ref) */
};

}  // namespace castline::launcher
