#include "whep/whepviewer.h"

#include "store/streamstore.h"
#include "webrtc/negotiation.h"
#include "whep/silentviewer.h"
#include "whep/viewertracks.h"
#include "whep/whepdebug.h"
#include "whep/whepviewerstate.h"

#include <gst/webrtc/webrtc.h>

#include <mutex>
#include <utility>

GST_DEBUG_CATEGORY (castline_whepviewer_debug);

namespace castline::launcher {

using namespace whep;

namespace {

void
init_whep_debug ()
{
  static std::once_flag once;
  std::call_once (once, [] {
        GST_DEBUG_CATEGORY_INIT (castline_whepviewer_debug, "castline-whep", 0,
            "castline WHEP viewers");
      });
  webrtc::init_debug ();
}

}  // namespace

WhepViewer::WhepViewer (GstPipeline * pipeline, std::vector<std::string> ice_servers,
    Listener listener) : state_ (std::make_shared<WhepViewerState> ()),
    session_ (random_token (16))
{
  init_whep_debug ();
  WhepViewerState & st = *state_;
  st.name = "WHEP viewer";
  st.answer_direction = "sendonly";
  st.ended = std::move (listener.ended);
  /* the room's hook, and the silence watch, once the connection is up;
   * weak: the state must not own itself */
  std::weak_ptr<WhepViewerState> weak = state_;
  st.connected = [weak, connected = std::move (listener.connected)] {
    if (WhepViewerPtr s = weak.lock ())
      watch_silence (s);
    if (connected)
      connected ();
  };
  if (!webrtc::add_webrtcbin (state_, pipeline, ice_servers, error_))
    return;
  std::lock_guard<std::mutex> lk (st.lock);
  webrtc_id_ = st.webrtc;
}

WhepViewer::~WhepViewer ()
{
  {
    std::lock_guard<std::recursive_mutex> call (state_->call_lock);
    std::lock_guard<std::mutex> lk (state_->lock);
    state_->alive = false;
  }
  close ();
}

std::vector<std::string>
WhepViewer::required_elements ()
{
  return { "webrtcbin" };
}

void
WhepViewer::negotiate (const std::string & offer, const WhepOfferInfo & info,
    const std::vector<GstPad *> & sources, unsigned timeout_ms,
    std::function<void (unsigned status, std::string answer_or_error)> done)
{
  if (sources.size () != info.tracks.size ()) {
    done (500, "a WHEP viewer needs one source per track");
    return;
  }
  bool video = false;
  for (auto & t : info.tracks)
    video = video || t.kind == "video";
  state_->silence_limit_us.store (silence_limit_us (video));
  GstElement *webrtc = nullptr;
  webrtc::SdpMessagePtr msg = webrtc::begin_negotiation (state_, offer, timeout_ms,
      std::move (done), webrtc);
  if (!msg)
    return;

  std::string error;
  bool ok = true;
  for (guint i = 0; ok && i < gst_sdp_message_medias_len (msg.get ()); i++) {
    const WhepTrack *track = nullptr;
    size_t index = 0;
    for (size_t t = 0; t < info.tracks.size (); t++)
      if (info.tracks[t].mline == i) {
        track = &info.tracks[t];
        index = t;
      }
    if (track) {
      WhepViewerState::Source linked;
      ok = sources[index] && link_track (webrtc, *track, sources[index], linked, error);
      if (!sources[index])
        error = "no source for the " + track->kind + " track";
      std::lock_guard<std::mutex> lk (state_->lock);
      if (linked.pad)
        state_->sources.push_back (linked);
      continue;
    }
    const GstSDPMedia *media = gst_sdp_message_get_media (msg.get (), i);
    std::string kind = webrtc::lower (gst_sdp_media_get_media (media));
    if (kind == "video" || kind == "audio") {
      GST_INFO ("m-line %u (%s): nothing to send, answered inactive", i, kind.c_str ());
      add_inactive (webrtc, media);
    }
  }
  gst_object_unref (webrtc);
  if (!ok) {
    webrtc::finish_negotiation (state_, 500, error);
    return;
  }
  webrtc::apply_offer (state_, std::move (msg));
}

bool
WhepViewer::add_remote_candidates (const std::string & sdpfrag, std::string & error,
    bool *ice_restart)
{
  return webrtc::add_remote_candidates (state_, sdpfrag, error, ice_restart);
}

void
WhepViewer::close ()
{
  std::vector<WhepViewerState::Source> sources;
  {
    std::lock_guard<std::mutex> lk (state_->lock);
    sources = std::move (state_->sources);
    state_->sources.clear ();
  }
  /* webrtcbin stops first: a branch pushing into it meanwhile gets
   * FLUSHING (it pauses quietly), never NOT_LINKED (an error) */
  webrtc::close_peer (state_);
  /* after close_peer: a connection coming up meanwhile starts no timer
   * once `closed` is set */
  stop_watching_silence (state_);
  for (auto & s : sources)
    unlink_track (s);
}

bool
WhepViewer::owns (GstObject * object) const
{
  if (!webrtc_id_ || !object)
    return false;
  GstObject *o = GST_OBJECT (gst_object_ref (object));
  while (o) {
    if (o == webrtc_id_) {
      gst_object_unref (o);
      return true;
    }
    GstObject *parent = gst_object_get_parent (o);
    gst_object_unref (o);
    o = parent;
  }
  return false;
}

}  // namespace castline::launcher
