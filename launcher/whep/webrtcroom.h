/* castline-launcher: a live stream's WebRTC viewers (WHEP): its seats
 * (Config webrtc.max_viewers), one WhepViewer per viewer over the
 * stream's WebRtcMedia, keyframe requests to the publisher throttled to
 * one a second for the stream (a viewer connecting, a viewer's PLI), and
 * viewers reaped when they go (their seat is free at once).
 *
 * Made by the StreamManager with the stream's pipeline (before it starts),
 * closed when the stream's pipeline is finished: every viewer session
 * ends. A viewer's webrtcbin error ends that viewer, never the stream
 * (a problem handler on the pipeline). Main context. */
#pragma once

#include "streams/streampipeline.h"
#include "whep/keyframethrottle.h"
#include "whep/webrtcmedia.h"
#include "whep/whepviewer.h"

#include <functional>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

namespace castline::launcher {

/* What a WHEP POST gets: 201 with the answer and the session, or a status
 * with the reason (retry_after: seconds for a 503's Retry-After). */
struct WhepJoin {
  unsigned status = 0;
  std::string body;
  std::string session;
  unsigned retry_after = 0;
};

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

  /* the elements its media and viewers may make (the check at start:
   * without them WHEP is off) */
  static std::vector<std::string> required_elements ();

  /* viewers whose connection is up (the audience) */
  unsigned viewers () const { return (unsigned) connected_.size (); }
  /* sessions: being negotiated, answered or connected (the seats taken) */
  unsigned sessions () const { return (unsigned) viewers_.size (); }
  unsigned seats () const { return settings_.seats; }
  /* viewers ever admitted (201), and refused for want of a seat (metrics) */
  guint64 admitted () const { return admitted_; }
  guint64 refused () const { return refused_; }

  /* A WHEP POST: 503 when every seat is taken (a viewer being negotiated
   * holds one), 503 while the stream's media is not known yet
   * (retry_after set), 400/406 for the offer (inspect_whep_offer), 409
   * once closed, else a viewer: done with 201, the answer and the session,
   * or the status and the reason, once, from the main context (at once
   * for a refusal). */
  void join (const std::string & offer, std::function<void (WhepJoin)> done);
  /* PATCH: false with the status (404 unknown session, 400 bad fragment,
   * 422 ICE restart) and the reason */
  bool trickle (const std::string & session, const std::string & sdpfrag, unsigned & status,
      std::string & error);
  /* DELETE: false for an unknown session */
  bool leave (const std::string & session);

  /* Every viewer ends; no more join. */
  void close ();

 private:
  /* session by value: a caller may pass a key of viewers_, which this
   * erases */
  void drop (std::string session, const std::string & reason);
  /* a bus error of a viewer's webrtcbin: that viewer goes, and the error
   * is taken (the stream goes on); main context */
  bool take_problem (GstMessage * msg);

  Settings settings_;
  GstPipeline *pipeline_ = nullptr;    /* the stream's, which outlives the room */
  std::unique_ptr<WebRtcMedia> media_;
  std::map<std::string, std::unique_ptr<WhepViewer>> viewers_;
  std::set<std::string> connected_;    /* of viewers_ */
  guint64 admitted_ = 0;
  guint64 refused_ = 0;
  std::shared_ptr<KeyframeThrottle> keyframes_;
  bool closed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool> (true);
};

}  // namespace castline::launcher
