/* castline-launcher: the state a webrtcbin peer (a WHIP publisher, a WHEP
 * viewer) shares with webrtcbin's callbacks, and how a C callback holds
 * it. The negotiation (negotiation.h) and the connection state
 * (peerconnection.h) work on it; each user derives its own state from it. */
#pragma once

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace castline::launcher::webrtc {

/* Everything webrtcbin's callbacks may touch. They hold it through a
 * shared_ptr, so it outlives its owner as long as a callback can still
 * run; `alive` and `closed` tell them to do nothing. */
struct PeerState {
  virtual ~PeerState () = default;

  /* Held while a listener or `done` runs and while `alive`/`closed` are
   * set: once the owner's destructor has set `alive` under it, no callback
   * is running or starts. Recursive: a callback may destroy the owner. It
   * is never held across a state change of webrtcbin, whose streaming
   * threads take it. */
  std::recursive_mutex call_lock;

  /* read-only after construction */
  std::string name;                      /* for the log: "WHIP publisher" */
  /* what some audio/video m-line of an acceptable answer says:
   * "recvonly" (an ingest) or "sendonly" (a player) */
  std::string answer_direction = "recvonly";
  /* any thread, at most once: the peer is gone */
  std::function<void (const std::string & reason)> ended;
  /* any thread, at most once: the connection is up (may be empty) */
  std::function<void ()> connected;

  std::mutex lock;                       /* the members below */
  bool alive = true;
  bool closed = false;
  GstPipeline *pipeline = nullptr;       /* ref until close */
  GstElement *webrtc = nullptr;          /* ref until close */
  std::vector<GstElement *> elements;    /* our others in the pipeline, refs */
  std::vector<gulong> handlers;          /* on webrtc */
  bool peer_ended = false;
  bool peer_connected = false;
  GSource *disconnect_timer = nullptr;   /* ref; default main context */

  bool negotiation_started = false;
  std::function<void (unsigned, std::string)> done;  /* empty once called */
  bool answer_set = false;               /* the answer is the local description */
  GSource *answer_timer = nullptr;       /* ref; default main context */
  /* the latest promise given to webrtcbin, ref: close interrupts it, or
   * webrtcbin would drop it unanswered when it stops (a critical) */
  GstPromise *promise = nullptr;
  std::vector<std::string> mids;         /* of the offer's m-lines */
  std::string ice_ufrag;                 /* the offer's first */
};

using PeerPtr = std::shared_ptr<PeerState>;

/* C callback data: a heap copy of the state pointer */
inline gpointer
hold (const PeerPtr & st)
{
  return new PeerPtr (st);
}

inline void
release (gpointer data)
{
  delete static_cast<PeerPtr *> (data);
}

inline void
release_closure (gpointer data, GClosure *)
{
  release (data);
}

inline const PeerPtr &
held (gpointer data)
{
  return *static_cast<PeerPtr *> (data);
}

/* the webrtcbin, reffed, unless the peer is closed */
inline GstElement *
webrtc_of (const PeerPtr & st)
{
  std::lock_guard<std::mutex> lk (st->lock);
  if (st->closed || !st->webrtc)
    return nullptr;
  return GST_ELEMENT (gst_object_ref (st->webrtc));
}

/* a timer of ours gone: destroyed and unreffed; NULL is fine */
inline void
drop_source (GSource * source)
{
  if (source) {
    g_source_destroy (source);
    g_source_unref (source);
  }
}

/* Makes the peer's webrtcbin (max-bundle, STUN/TURN from `ice_servers`:
 * whip::set_ice_servers, libnice's UPnP off), connects what every peer needs (ICE gathering:
 * the answer; the ICE and peer connection states) and adds it to
 * `pipeline`, in the pipeline's state. false and the reason when no
 * webrtcbin can be made. Main context, once, before anything else. */
bool add_webrtcbin (const PeerPtr & st, GstPipeline * pipeline,
    const std::vector<std::string> & ice_servers, std::string & error);

/* Connects `handler` to `signal` of the peer's webrtcbin (before close),
 * holding the state; close disconnects it. Main context. */
void connect_handler (const PeerPtr & st, const char *signal, GCallback handler);

/* Marks the peer closed, answers a negotiation still under way 503,
 * interrupts the promise webrtcbin holds, and sets the webrtcbin and
 * `elements` to NULL and removes them from the pipeline. No callback
 * starts after it returns. Idempotent. Main context. */
void close_peer (const PeerPtr & st);

/* the castline-webrtc debug category, registered before first use */
void init_debug ();

}  // namespace castline::launcher::webrtc
