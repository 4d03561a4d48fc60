/* castline-launcher: the webrtcbin side of a WHIP (RFC 9725) ingest.
 *
 * inspect_whip_offer checks a publisher's SDP offer before anything is
 * built; WhipIngest then adds a receive-only webrtcbin to the stream's
 * pipeline, answers the offer (after ICE gathering, so the answer carries
 * our candidates), takes trickled candidates, and hands each received
 * track to its listener depayloaded and parsed (H.264 as byte-stream AUs,
 * VP8, VP9, Opus). A peer that fails ICE/DTLS or stays disconnected for
 * over 5 s is reported once through Listener::ended.
 *
 * webrtcbin signals come from its own threads and may outlive the
 * WhipIngest: every callback holds a shared state with an `alive` flag,
 * never `this` (whipingeststate.h, webrtc/peerstate.h). The parts, each in
 * its own file: whipoffer (the offer), whipnegotiation (the receiving
 * transceivers), trickleice (PATCH bodies), iceservers (STUN/TURN),
 * whiptracks (received tracks); the answer and the connection state are
 * shared with WHEP playback (webrtc/negotiation, webrtc/peerconnection);
 * whipingest.cpp sets webrtcbin up, passes the calls on and closes. */
#pragma once

#include "ingest/whip/whipoffer.h"   /* inspect_whip_offer, OfferInfo */

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace castline::launcher {

struct WhipIngestState;

class WhipIngest {
 public:
  struct Listener {
    /* streaming thread, once per received track, with the depayloaded and
     * parsed pad: kind "video" or "audio", codec "h264"/"vp8"/"vp9"/"opus";
     * the callee links `pad` */
    std::function<void (const std::string & kind, const std::string & codec, GstPad * pad)>
        media_pad;
    /* any thread, at most once: the peer went away (ICE/DTLS failed, or
     * disconnected for more than 5 s) */
    std::function<void (const std::string & reason)> ended;
  };

  /* Adds a webrtcbin (max-bundle) to `pipeline`, which the caller starts
   * and stops and may be NULL or PLAYING already. ice_servers:
   * "stun:host:port", "turn:user:pass@host:port", "turns:..." or the same
   * with "//" after the scheme. Main context. */
  WhipIngest (GstPipeline * pipeline, std::vector<std::string> ice_servers, Listener listener);
  /* Closes; a negotiation still under way is answered 503 first. After it
   * returns no callback runs. Main context. */
  ~WhipIngest ();
  WhipIngest (const WhipIngest &) = delete;
  /* what a WHIP ingest makes: webrtcbin and each track's depayloader and
   * parser (the check at start) */
  static std::vector<std::string> required_elements ();

  /* why no webrtcbin could be made (then nothing else works); "" when
   * one was */
  const std::string & error () const { return error_; }
  WhipIngest & operator= (const WhipIngest &) = delete;

  /* Optional, before negotiate: answer only these codecs (names as in
   * OfferInfo), e.g. the ones the stream's pipeline takes, so the publisher
   * cannot pick another. An empty list leaves that kind unrestricted; by
   * default every codec we can take is answered. Main context. */
  void restrict_codecs (std::vector<std::string> video, std::vector<std::string> audio);

  /* Applies the offer, answers it receive-only (m-lines with no codec we
   * take are answered inactive), and once ICE gathering is complete, or
   * timeout_ms after this call with the candidates gathered so far, calls
   * done (201, answer SDP) -- or done (4xx/5xx, reason) -- exactly once,
   * from any thread. Works with the pipeline NULL (webrtcbin is brought to
   * READY on its own) or PLAYING. The time-out runs on the default main
   * context. Main context. */
  void negotiate (const std::string & offer, unsigned timeout_ms,
      std::function<void (unsigned status, std::string answer_or_error)> done);

  /* A WHIP PATCH body (application/trickle-ice-sdpfrag): a=candidate
   * lines, optionally under a=mid: or m= lines (bundled: m-line 0 by
   * default); a=end-of-candidates is accepted. false and the reason for a
   * malformed fragment, an unknown mid, an ICE restart or a call before
   * negotiate (nothing is added then); *ice_restart, when given, tells
   * the ICE restart apart (WHIP answers it 422). Main context. */
  bool add_remote_candidates (const std::string & sdpfrag, std::string & error,
      bool *ice_restart = nullptr);

  /* Sets the webrtcbin and the depayloaders to NULL and removes them from
   * the pipeline. Idempotent. Main context. */
  void close ();

 private:
  std::shared_ptr<WhipIngestState> state_;
  std::string error_;
};

}  // namespace castline::launcher
