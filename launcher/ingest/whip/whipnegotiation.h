/* castline-launcher, private to the WHIP ingest: answering the publisher's
 * offer on the ingest's webrtcbin. One receive-only transceiver per m-line
 * (codec preferences: the codecs we take and the stream allows; inactive
 * where none is left), then set-remote-description, create-answer and
 * set-local-description, each from the previous one's promise on
 * webrtcbin's threads. The answer is given once ICE gathering is complete,
 * or at the time-out with the candidates gathered so far. */
#pragma once

#include "ingest/whip/whipingeststate.h"

#include <gst/gst.h>

#include <functional>
#include <string>

namespace castline::launcher::whip {

/* WhipIngest::negotiate: the checks that answer at once (400 not SDP,
 * 503 closed or no webrtcbin, 409 a second offer), then the negotiation
 * above, which ends in finish_negotiation. Main context. */
void start_negotiation (const StatePtr & st, const std::string & offer, unsigned timeout_ms,
    std::function<void (unsigned, std::string)> done);

/* Calls `done` if it was not called yet. Any thread. */
void finish_negotiation (const StatePtr & st, unsigned status, std::string text);

/* webrtcbin's notify::ice-gathering-state handler: the answer once
 * gathering is complete; data: a held StatePtr. webrtcbin's threads. */
void on_ice_gathering_state (GObject *, GParamSpec *, gpointer data);

}  // namespace castline::launcher::whip
