#include "webrtc/peerconnection.h"

#include "webrtc/webrtcdebug.h"

#include <gst/webrtc/webrtc.h>

#include <utility>

namespace castline::launcher::webrtc {

namespace {

constexpr guint kDisconnectGraceMs = 5000;

/* still disconnected after the grace: the peer is gone. Default main
 * context. */
gboolean
on_disconnect_grace_over (gpointer data)
{
  PeerPtr st = held (data);
  GSource *timer;
  {
    std::lock_guard<std::mutex> lk (st->lock);
    timer = std::exchange (st->disconnect_timer, nullptr);
  }
  if (!timer)
    return G_SOURCE_REMOVE;        /* cancelled meanwhile */
  g_source_unref (timer);          /* returning REMOVE destroys it */
  end_peer (st, "peer disconnected");
  return G_SOURCE_REMOVE;
}

void
start_disconnect_grace (const PeerPtr & st)
{
  std::lock_guard<std::mutex> lk (st->lock);
  if (!st->alive || st->closed || st->peer_ended || st->disconnect_timer)
    return;
  GST_INFO ("%s disconnected: waiting %u ms for it to come back", st->name.c_str (),
      kDisconnectGraceMs);
  st->disconnect_timer = g_timeout_source_new (kDisconnectGraceMs);
  g_source_set_callback (st->disconnect_timer, on_disconnect_grace_over, hold (st), release);
  g_source_attach (st->disconnect_timer, nullptr);
}

void
cancel_disconnect_grace (const PeerPtr & st)
{
  GSource *timer;
  {
    std::lock_guard<std::mutex> lk (st->lock);
    timer = std::exchange (st->disconnect_timer, nullptr);
  }
  if (timer)
    GST_INFO ("%s connected again", st->name.c_str ());
  drop_source (timer);
}

/* the connection is up: PeerState::connected, the first time */
void
peer_connected (const PeerPtr & st)
{
  std::lock_guard<std::recursive_mutex> call (st->call_lock);
  {
    std::lock_guard<std::mutex> lk (st->lock);
    if (!st->alive || st->closed || st->peer_ended || st->peer_connected)
      return;
    st->peer_connected = true;
  }
  GST_INFO ("%s connected", st->name.c_str ());
  if (st->connected)
    st->connected ();
}

}  // namespace

void
end_peer (const PeerPtr & st, const std::string & reason)
{
  std::lock_guard<std::recursive_mutex> call (st->call_lock);
  GSource *timer;
  {
    std::lock_guard<std::mutex> lk (st->lock);
    if (!st->alive || st->closed || st->peer_ended)
      return;
    st->peer_ended = true;
    timer = std::exchange (st->disconnect_timer, nullptr);
  }
  drop_source (timer);
  GST_WARNING ("%s gone: %s", st->name.c_str (), reason.c_str ());
  if (st->ended)
    st->ended (reason);
}

void
on_ice_connection_state (GObject * webrtc, GParamSpec *, gpointer data)
{
  PeerPtr st = held (data);
  GstWebRTCICEConnectionState s = GST_WEBRTC_ICE_CONNECTION_STATE_NEW;
  g_object_get (webrtc, "ice-connection-state", &s, nullptr);
  GST_DEBUG ("ICE connection state %d", s);
  switch (s) {
    case GST_WEBRTC_ICE_CONNECTION_STATE_FAILED:
      end_peer (st, "ICE failed");
      break;
    case GST_WEBRTC_ICE_CONNECTION_STATE_DISCONNECTED:
      start_disconnect_grace (st);
      break;
    case GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED:
    case GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED:
      cancel_disconnect_grace (st);
      break;
    default:
      break;
  }
}

void
on_connection_state (GObject * webrtc, GParamSpec *, gpointer data)
{
  PeerPtr st = held (data);
  GstWebRTCPeerConnectionState s = GST_WEBRTC_PEER_CONNECTION_STATE_NEW;
  g_object_get (webrtc, "connection-state", &s, nullptr);
  GST_DEBUG ("peer connection state %d", s);
  switch (s) {
    case GST_WEBRTC_PEER_CONNECTION_STATE_FAILED:
      end_peer (st, "ICE/DTLS failed");
      break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_DISCONNECTED:
      start_disconnect_grace (st);
      break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED:
      cancel_disconnect_grace (st);
      peer_connected (st);
      break;
    default:
      break;
  }
}

}  // namespace castline::launcher::webrtc
