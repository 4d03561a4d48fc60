#include "ingest/whip/whippublisher.h"

#include "streams/maincontext.h"

#include <gst/video/video.h>

namespace castline::launcher {

WhipPublisher::WhipPublisher (const OfferInfo & offer, std::vector<std::string> ice_servers,
    unsigned idle_timeout_s, std::string stream_id)
    : media_ { offer.video_codecs, offer.audio_codecs }, ice_servers_ (std::move (ice_servers)),
      idle_timeout_s_ (idle_timeout_s), stream_id_ (std::move (stream_id))
{
}

WhipPublisher::~WhipPublisher ()
{
  alive_.reset ();
  webrtc_.reset ();                /* no callback after this */
  if (video_pad_)
    gst_object_unref (video_pad_);
}

bool
WhipPublisher::attach (StreamPipeline & pipeline, const std::string & video_codec,
    const std::string & audio_codec, Hooks hooks, std::string & error)
{
  WhipIngest::Listener l;
  StreamPipeline *graph = &pipeline;
  pipeline_ = graph;
  l.media_pad = [this, graph] (const std::string & kind, const std::string &, GstPad * pad) {
    graph->link_media (kind, pad);
    if (kind == "video") {
      std::lock_guard<std::mutex> lk (lock_);
      gst_object_replace ((GstObject **) &video_pad_, GST_OBJECT (pad));
    }
  };
  std::string id = stream_id_;
  auto lost = std::move (hooks.publisher_lost);
  l.ended = [id, lost] (const std::string & reason) {
    /* any thread: on the main context, the publisher is lost (the stream
     * is interrupted), unless this session is over by then */
    g_message ("stream %s: WHIP peer gone (%s)", id.c_str (), reason.c_str ());
    run_on_main_context ([lost, reason] {
          if (lost)
            lost ("the WHIP peer went away: " + reason, false);
        });
  };
  webrtc_ = std::make_unique<WhipIngest> (pipeline.pipeline (), ice_servers_, l);
  if (!webrtc_->error ().empty ()) {
    error = webrtc_->error ();
    return false;
  }
  /* the answer names only what the chosen pipeline takes: offered VP8
   * first and H.264 too, the publisher sends H.264 (passthrough) */
  auto only = [] (const std::string & c) {
    return c.empty () ? std::vector<std::string> () : std::vector<std::string> { c };
  };
  webrtc_->restrict_codecs (only (video_codec), only (audio_codec));
  return true;
}

void
WhipPublisher::negotiate (const std::string & offer, unsigned timeout_ms,
    std::function<void (unsigned status, std::string answer_or_error)> done)
{
  /* on the main context the pipeline is there as long as this ingest is:
   * a stream's ingest and pipeline go together */
  std::weak_ptr<bool> alive = alive_;
  StreamPipeline *pipeline = pipeline_;
  unsigned idle = idle_timeout_s_;
  webrtc_->negotiate (offer, timeout_ms, [=] (unsigned status, std::string text) {
        run_on_main_context ([=] {
              if (status == 201 && !alive.expired ())
                pipeline->watch_idle (idle);
              done (status, text);
            });
      });
}

/* upstream from the received video: webrtcbin's RTP session turns it into
 * a PLI */
void
WhipPublisher::request_keyframe ()
{
  GstPad *pad = nullptr;
  {
    std::lock_guard<std::mutex> lk (lock_);
    if (video_pad_)
      pad = GST_PAD (gst_object_ref (video_pad_));
  }
  if (!pad)
    return;
  gst_pad_send_event (pad, gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
          TRUE, 0));
  gst_object_unref (pad);
}

}  // namespace castline::launcher
