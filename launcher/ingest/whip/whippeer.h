/* castline-launcher, private to the WHIP ingest: the publisher's
 * connection state. A peer whose ICE or DTLS fails is reported at once; one
 * that is disconnected and does not come back within 5 s (a timer on the
 * default main context) is reported when the timer fires. Either way
 * through Listener::ended, once, and never after close or destruction. */
#pragma once

#include <gst/gst.h>

namespace castline::launcher::whip {

/* webrtcbin's notify::ice-connection-state and notify::connection-state
 * handlers; data: a held StatePtr. webrtcbin's threads. */
void on_ice_connection_state (GObject * webrtc, GParamSpec *, gpointer data);
void on_connection_state (GObject * webrtc, GParamSpec *, gpointer data);

}  // namespace castline::launcher::whip
