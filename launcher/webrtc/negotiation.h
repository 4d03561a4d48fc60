/* castline-launcher: answering a browser's offer on a peer's webrtcbin
 * (the WHIP ingest, a WHEP viewer). The caller checks the offer
 * (begin_negotiation), adds its transceivers, then apply_offer runs
 * set-remote-description, create-answer and set-local-description, each
 * from the previous one's promise on webrtcbin's threads. The answer is
 * given once ICE gathering is complete, or at the time-out with the
 * candidates gathered so far. Trickled candidates are taken after the
 * offer. */
#pragma once

#include "webrtc/peerstate.h"
#include "webrtc/sdputil.h"

#include <gst/gst.h>

#include <functional>
#include <string>

namespace castline::launcher::webrtc {

/* The checks that answer at once through `done` (400 not SDP, 503 closed
 * or no webrtcbin, 409 a second offer; nullptr is returned then), else:
 * `done` kept for finish_negotiation, the offer's mids and ice-ufrag
 * noted, the time-out started (default main context), webrtcbin brought
 * to READY at least (500 and nullptr when it does not start), and the
 * parsed offer returned with the webrtcbin in `webrtc` (a ref for the
 * caller). Main context. */
SdpMessagePtr begin_negotiation (const PeerPtr & st, const std::string & offer,
    unsigned timeout_ms, std::function<void (unsigned, std::string)> done,
    GstElement *& webrtc);

/* After begin_negotiation and the caller's transceivers: applies the
 * offer and answers it; ends in finish_negotiation (201 and the answer;
 * 400 an offer webrtcbin refuses; 406 an answer without an m-line of
 * st->answer_direction; 500 webrtcbin failing or the time-out without an
 * answer). Main context. */
void apply_offer (const PeerPtr & st, SdpMessagePtr offer);

/* Calls `done` if it was not called yet. Any thread. */
void finish_negotiation (const PeerPtr & st, unsigned status, std::string text);

/* webrtcbin's notify::ice-gathering-state handler: the answer once
 * gathering is complete; data: a held PeerPtr. webrtcbin's threads. */
void on_ice_gathering_state (GObject *, GParamSpec *, gpointer data);

/* A PATCH body (application/trickle-ice-sdpfrag: whip::parse_trickle_ice)
 * given to webrtcbin. false and the reason for a malformed fragment, an
 * unknown mid, an ICE restart (*ice_restart set when given) or a call
 * before the offer (nothing is added then). Main context. */
bool add_remote_candidates (const PeerPtr & st, const std::string & sdpfrag,
    std::string & error, bool *ice_restart);

}  // namespace castline::launcher::webrtc
