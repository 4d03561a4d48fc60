#include "whep/webrtcroom.h"

#include "streams/maincontext.h"

namespace castline::launcher {

GST_DEBUG_CATEGORY_STATIC (castline_whep_room_debug);
#define GST_CAT_DEFAULT castline_whep_room_debug

namespace {

/* how long a viewer refused while the stream's media is unknown waits */
constexpr unsigned kMediaRetryAfterS = 1;
/* and one refused for want of a seat (seats free as viewers leave) */
constexpr unsigned kSeatsRetryAfterS = 10;

}  // namespace

WebRtcRoom::WebRtcRoom (StreamPipeline & pipeline, Settings settings,
    std::function<void ()> request_keyframe)
    : settings_ (std::move (settings)),
      keyframes_ (std::make_shared<KeyframeThrottle> (std::move (request_keyframe)))
{
  static gsize debug_once = 0;
  if (g_once_init_enter (&debug_once)) {
    GST_DEBUG_CATEGORY_INIT (castline_whep_room_debug, "castline-whep-room", 0,
        "castline's WebRTC viewers of a stream (WHEP)");
    g_once_init_leave (&debug_once, 1);
  }
  WebRtcMedia::Hooks hooks;
  /* a viewer's PLI, on a streaming thread */
  hooks.keyframe_wanted = [throttle = keyframes_] { throttle->want (); };
  media_ = std::make_unique<WebRtcMedia> (pipeline, std::move (hooks));
  pipeline_ = pipeline.pipeline ();
  /* a viewer's failure is that viewer's, never the stream's; main context */
  std::weak_ptr<bool> alive = alive_;
  pipeline.add_problem_handler ([this, alive] (GstMessage * msg) {
        return !alive.expired () && take_problem (msg);
      });
}

std::vector<std::string>
WebRtcRoom::required_elements ()
{
  std::vector<std::string> all = WebRtcMedia::required_elements ();
  for (auto & e : WhepViewer::required_elements ())
    all.push_back (e);
  return all;
}

WebRtcRoom::~WebRtcRoom ()
{
  *alive_ = false;
  keyframes_->cancel ();
  close ();
  media_.reset ();
}

void
WebRtcRoom::join (const std::string & offer, std::function<void (WhepJoin)> done)
{
  if (closed_) {
    done ({ 409, "the stream has ended", "", 0 });
    return;
  }
  if (viewers_.size () >= settings_.seats) {
    refused_++;
    done ({ 503, "every WebRTC seat of the stream is taken: watch its HLS", "",
        kSeatsRetryAfterS });
    return;
  }
  WhepMedia media = media_->media ();
  if (media.video.empty () && media.audio.empty ()) {
    done ({ 503, "the stream's media is not known yet", "", kMediaRetryAfterS });
    return;
  }
  WhepOfferInfo info;
  unsigned status = 0;
  std::string error;
  if (!inspect_whep_offer (offer, media, info, status, error)) {
    done ({ status, error, "", 0 });
    return;
  }
  media_->prepare ();

  std::weak_ptr<bool> alive = alive_;
  WhepViewer::Listener listener;
  auto session_of = std::make_shared<std::string> ();
  /* any thread: to the main context, where the room may be gone */
  listener.ended = [this, alive, session_of] (const std::string & reason) {
    run_on_main_context ([this, alive, session_of, reason] {
          if (!alive.expired ())
            drop (*session_of, reason);
        });
  };
  /* any thread: a picture for it soon, and it counts as a viewer */
  listener.connected = [this, alive, session_of, throttle = keyframes_] {
    throttle->want ();
    run_on_main_context ([this, alive, session_of] {
          if (!alive.expired () && viewers_.count (*session_of))
            connected_.insert (*session_of);
        });
  };
  auto viewer = std::make_unique<WhepViewer> (pipeline_, settings_.ice_servers,
      std::move (listener));
  if (!viewer->error ().empty ()) {
    done ({ 500, viewer->error (), "", 0 });
    return;
  }
  std::string session = viewer->session ();
  *session_of = session;

  std::vector<GstPad *> sources;
  WhepOfferInfo tracks = info;
  for (WhepTrack & t : tracks.tracks) {
    GstPad *pad = media_->add_branch (session, t.kind, t.pt, t.ssrc, error);
    if (!pad) {
      for (GstPad *p : sources)
        gst_object_unref (p);
      viewer->close ();
      media_->remove_branches (session);
      done ({ 503, "cannot send the stream's " + t.kind + ": " + error, "", kMediaRetryAfterS });
      return;
    }
    sources.push_back (pad);
  }
  WhepViewer *v = viewer.get ();
  viewers_[session] = std::move (viewer);
  GST_INFO ("viewer %s joins (%zu track(s), %zu of %u seats taken)", session.c_str (),
      info.tracks.size (), viewers_.size (), settings_.seats);
  v->negotiate (offer, tracks, sources, settings_.negotiation_timeout_ms,
      [this, alive, session, done] (unsigned status, std::string text) {
        /* any thread; the answer goes out from the main context */
        run_on_main_context ([this, alive, session, done, status, text] {
              if (alive.expired ()) {
                done ({ 503, "the stream has ended", "", 0 });
                return;
              }
              if (status != 201) {
                drop (session, "negotiation failed: " + text);
                done ({ status, text, "", 0 });
              } else if (!viewers_.count (session)) {
                done ({ 503, "the viewer's connection ended while it was negotiated", "", 0 });
              } else {
                admitted_++;
                done ({ 201, text, session, 0 });
              }
            });
      });
  for (GstPad *p : sources)
    gst_object_unref (p);
}

bool
WebRtcRoom::take_problem (GstMessage * msg)
{
  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ERROR)
    return false;
  GstObject *src = GST_MESSAGE_SRC (msg);
  std::string session;
  for (auto & [s, viewer] : viewers_)
    if (viewer->owns (src))
      session = s;
  /* an element of a viewer gone already: it has left the pipeline */
  bool departed = !gst_object_has_as_ancestor (src, GST_OBJECT (pipeline_));
  if (session.empty () && !departed)
    return false;
  GError *e = nullptr;
  gst_message_parse_error (msg, &e, nullptr);
  std::string what = std::string (GST_OBJECT_NAME (src)) + ": " + (e ? e->message : "");
  g_clear_error (&e);
  if (session.empty ())
    GST_INFO ("error of a departed viewer's element, ignored: %s", what.c_str ());
  else
    drop (session, "its webrtcbin failed: " + what);
  return true;
}

bool
WebRtcRoom::trickle (const std::string & session, const std::string & sdpfrag,
    unsigned & status, std::string & error)
{
  auto it = viewers_.find (session);
  if (it == viewers_.end ()) {
    status = 404;
    error = "no such WHEP session";
    return false;
  }
  bool ice_restart = false;
  if (it->second->add_remote_candidates (sdpfrag, error, &ice_restart))
    return true;
  /* as WHIP (RFC 9725 4.3.2): a session without ICE restarts answers 422 */
  status = ice_restart ? 422 : 400;
  return false;
}

bool
WebRtcRoom::leave (const std::string & session)
{
  if (!viewers_.count (session))
    return false;
  drop (session, "the viewer left");
  return true;
}

void
WebRtcRoom::close ()
{
  closed_ = true;
  keyframes_->cancel ();
  while (!viewers_.empty ())
    drop (viewers_.begin ()->first, "the stream ended");
}

void
WebRtcRoom::drop (std::string session, const std::string & reason)
{
  auto it = viewers_.find (session);
  if (it == viewers_.end ())
    return;                            /* gone already */
  std::unique_ptr<WhepViewer> viewer = std::move (it->second);
  viewers_.erase (it);
  connected_.erase (session);
  viewer->close ();
  media_->remove_branches (session);
  GST_INFO ("viewer %s is gone (%s); %zu of %u seats taken", session.c_str (), reason.c_str (),
      viewers_.size (), settings_.seats);
}

}  // namespace castline::launcher
