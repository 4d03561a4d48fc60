/* castline-launcher, private to the WHIP ingest's .cpp files: the state
 * that WhipIngest shares with webrtcbin's callbacks, and how a C callback
 * holds it. */
#pragma once

#include "ingest/whip/whipingest.h"

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace castline::launcher {

/* Everything webrtcbin's callbacks may touch. They hold it through a
 * shared_ptr, so it outlives the WhipIngest as long as a callback can
 * still run; `alive` and `closed` tell them to do nothing. */
struct WhipIngestState {
  /* Held while a listener or `done` runs and while `alive`/`closed` are
   * set: once the destructor has set `alive` under it, no callback is
   * running or starts. Recursive: a callback may destroy the ingest. It is
   * never held across a state change of webrtcbin, whose streaming
   * threads take it. */
  std::recursive_mutex call_lock;

  std::mutex lock;                       /* the members below */
  bool alive = true;
  bool closed = false;
  WhipIngest::Listener listener;         /* read-only after construction */
  GstPipeline *pipeline = nullptr;       /* ref until close */
  GstElement *webrtc = nullptr;          /* ref until close */
  std::vector<GstElement *> elements;    /* our depayloaders and parsers, refs */
  std::vector<gulong> handlers;          /* on webrtc */
  bool peer_ended = false;
  GSource *disconnect_timer = nullptr;   /* ref; default main context */

  bool negotiation_started = false;
  std::function<void (unsigned, std::string)> done;  /* empty once called */
  bool answer_set = false;               /* the answer is the local description */
  GSource *answer_timer = nullptr;       /* ref; default main context */
  /* the latest promise given to webrtcbin, ref: close() interrupts it, or
   * webrtcbin would drop it unanswered when it stops (a critical) */
  GstPromise *promise = nullptr;
  std::vector<std::string> allowed_video; /* empty: all we take */
  std::vector<std::string> allowed_audio;
  std::vector<std::string> mids;         /* of the offer's m-lines */
  std::string ice_ufrag;                 /* the offer's first */
};

namespace whip {

using StatePtr = std::shared_ptr<WhipIngestState>;

/* C callback data: a heap copy of the state pointer */
inline gpointer
hold (const StatePtr & st)
{
  return new StatePtr (st);
}

inline void
release (gpointer data)
{
  delete static_cast<StatePtr *> (data);
}

inline void
release_closure (gpointer data, GClosure *)
{
  release (data);
}

inline const StatePtr &
held (gpointer data)
{
  return *static_cast<StatePtr *> (data);
}

/* the webrtcbin, reffed, unless the ingest is closed */
inline GstElement *
webrtc_of (const StatePtr & st)
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

}  // namespace whip

}  // namespace castline::launcher
