/* castline-launcher: a live stream's WebRTC viewers (WHEP): its seats
 * (Config webrtc.max_viewers), one WhepViewer per viewer over the
 * stream's WebRtcMedia, keyframe requests to the publisher throttled to
 * one a second for the stream (a viewer connecting, a viewer's PLI), and
 * viewers reaped when they go (their seat is free at once).
 *
 * Made by the StreamManager with the stream's pipeline (before it starts),
 * closed when the stream's pipeline is finished: every viewer session
 * ends. Main context. */
#pragma once

#include "streams/streampipeline.h"
#include "whep/webrtcmedia.h"
#include "whep/whepviewer.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace castline::launcher {

class WebRtcRoom {
 public:
  struct Settings {
    unsigned seats = 100;                      /* webrtc.max_viewers; > 0 */
    std::vector<std::string> ice_servers;
    unsigned negotiation_timeout_ms = 5000;
  };

  /* request_keyframe: asks the publisher (Ingest::request_keyframe; any
   * thread). Before the pipeline starts. */
  WebRtcRoom (StreamPipeline & pipeline, Settings settings,
      std::function<void ()> request_keyframe);
  ~WebRtcRoom ();
  WebRtcRoom (const WebRtcRoom &) = delete;
  WebRtcRoom & operator= (const WebRtcRoom &) = delete;

  unsigned viewers () const { return (unsigned) viewers_.size (); }
  unsigned seats () const { return settings_.seats; }
  /* viewers ever admitted (metrics) */
  guint64 admitted () const { return admitted_; }

  /* A WHEP POST: 503 when every seat is taken (retry_after set), 503 while
   * the stream's media is not known yet, 400/406 for the offer
   * (inspect_whep_offer), else a viewer: done (201, answer, session) or
   * done (status, reason, "") once, from the main context. */
  void join (const std::string & offer,
      std::function<void (unsigned status, std::string body, std::string session)> done);
  /* PATCH: false with the status (404 unknown session, 400 bad fragment,
   * 422 ICE restart) and the reason */
  bool trickle (const std::string & session, const std::string & sdpfrag, unsigned & status,
      std::string & error);
  /* DELETE: false for an unknown session */
  bool leave (const std::string & session);

  /* Every viewer ends; no more join. */
  void close ();

 private:
  void drop (const std::string & session, const std::string & reason);

  Settings settings_;
  std::function<void ()> request_keyframe_;
  std::unique_ptr<WebRtcMedia> media_;
  std::map<std::string, std::unique_ptr<WhepViewer>> viewers_;
  guint64 admitted_ = 0;
  gint64 last_keyframe_us_ = 0;
  bool closed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool> (true);
};

}  // namespace castline::launcher
