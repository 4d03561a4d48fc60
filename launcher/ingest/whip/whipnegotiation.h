/* castline-launcher, private to the WHIP ingest: answering the publisher's
 * offer on the ingest's webrtcbin (webrtc/negotiation.h) with one
 * receive-only transceiver per m-line (codec preferences: the codecs we
 * take and the stream allows; inactive where none is left). */
#pragma once

#include "ingest/whip/whipingeststate.h"

#include <functional>
#include <string>

namespace castline::launcher::whip {

/* WhipIngest::negotiate. Main context. */
void start_negotiation (const StatePtr & st, const std::string & offer, unsigned timeout_ms,
    std::function<void (unsigned, std::string)> done);

}  // namespace castline::launcher::whip
