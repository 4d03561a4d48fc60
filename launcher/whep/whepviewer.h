/* castline-launcher: one WHEP viewer's webrtcbin, sending the stream's RTP
 * to one browser.
 *
 * The viewer gets, per track it sends (WhepOfferInfo::tracks), a source pad
 * carrying that track's RTP already payloaded with the offer's payload type
 * (WebRtcMedia::add_branch: a leaky queue of the stream's shared RTP). It
 * adds a webrtcbin to the stream's pipeline, links each source to a
 * send-only transceiver on the track's m-line (codec-preferences: the
 * offer's caps for the chosen payload type; m-lines without a track are
 * answered inactive), answers the offer once ICE gathering is complete (or
 * at the time-out with the candidates so far), takes trickled candidates,
 * and reports the viewer gone: ICE/DTLS failed, disconnected for over 5 s,
 * or silent (no packet from the browser, RTCP or ICE consent, for
 * kSilentViewerS: a browser killed without a goodbye).
 *
 * Like WhipIngest, webrtcbin's callbacks hold a shared state, never `this`.
 * Reuses the WHIP ingest's trickle-ICE parser and ICE server settings. */
#pragma once

#include "whep/whepoffer.h"

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace castline::launcher {

struct WhepViewerState;

/* s without a packet from a connected browser before it is taken as gone */
constexpr unsigned kSilentViewerS = 8;

class WhepViewer {
 public:
  struct Listener {
    /* any thread, at most once: the viewer is gone (reason for the log) */
    std::function<void (const std::string & reason)> ended;
    /* any thread: the viewer's connection is up (it needs a keyframe) */
    std::function<void ()> connected;
  };

  /* Adds a webrtcbin (max-bundle) to `pipeline` (PLAYING or not). Main
   * context. */
  WhepViewer (GstPipeline * pipeline, std::vector<std::string> ice_servers, Listener listener);
  /* Closes; a negotiation under way is answered 503 first. No callback
   * runs after it returns. Main context. */
  ~WhepViewer ();
  WhepViewer (const WhepViewer &) = delete;
  WhepViewer & operator= (const WhepViewer &) = delete;

  /* what a viewer needs: webrtcbin (the check at start) */
  static std::vector<std::string> required_elements ();

  /* "" or why no webrtcbin could be made */
  const std::string & error () const { return error_; }
  /* random, unique: the WHEP session URL's last part */
  const std::string & session () const { return session_; }

  /* Links sources[i] (a src pad, not linked, for info.tracks[i]) to its
   * transceiver, applies the offer and answers it send-only; done (201,
   * answer SDP) or done (4xx/5xx, reason) exactly once, from any thread
   * (the time-out runs on the default main context). Main context. */
  void negotiate (const std::string & offer, const WhepOfferInfo & info,
      const std::vector<GstPad *> & sources, unsigned timeout_ms,
      std::function<void (unsigned status, std::string answer_or_error)> done);

  /* A PATCH body (application/trickle-ice-sdpfrag), as
   * WhipIngest::add_remote_candidates. Main context. */
  bool add_remote_candidates (const std::string & sdpfrag, std::string & error,
      bool *ice_restart = nullptr);

  /* Sets webrtcbin to NULL, removes it from the pipeline and unlinks the
   * sources. Idempotent. Main context. */
  void close ();

  /* true when `object` is this viewer's webrtcbin or inside it (a bus
   * message's source: the room keeps the viewer's errors from failing the
   * stream), also after close. Any thread. */
  bool owns (GstObject * object) const;

 private:
  std::shared_ptr<WhepViewerState> state_;
  std::string error_;
  std::string session_;
  /* the webrtcbin's address, only compared (owns), never dereferenced */
  const void *webrtc_id_ = nullptr;
};

}  // namespace castline::launcher
