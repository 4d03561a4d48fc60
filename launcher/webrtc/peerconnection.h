/* castline-launcher: a webrtcbin peer's connection state. A peer whose
 * ICE or DTLS fails is reported at once; one that is disconnected and does
 * not come back within 5 s (a timer on the default main context) is
 * reported when the timer fires. Either way through PeerState::ended,
 * once, and never after close or destruction. PeerState::connected is
 * called once, when the connection is first up. */
#pragma once

#include "webrtc/peerstate.h"

#include <gst/gst.h>

namespace castline::launcher::webrtc {

/* webrtcbin's notify::ice-connection-state and notify::connection-state
 * handlers; data: a held PeerPtr. webrtcbin's threads. */
void on_ice_connection_state (GObject * webrtc, GParamSpec *, gpointer data);
void on_connection_state (GObject * webrtc, GParamSpec *, gpointer data);

/* The peer is gone: PeerState::ended, once, unless closed. Any thread. */
void end_peer (const PeerPtr & st, const std::string & reason);

}  // namespace castline::launcher::webrtc
