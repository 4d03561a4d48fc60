#include "ingest/whip/whipingest.h"

#include "ingest/whip/whipdebug.h"
#include "ingest/whip/whipingeststate.h"
#include "ingest/whip/whipnegotiation.h"
#include "ingest/whip/whiptracks.h"
#include "webrtc/negotiation.h"

#include <gst/webrtc/webrtc.h>

#include <mutex>
#include <utility>

GST_DEBUG_CATEGORY (castline_whip_debug);

namespace castline::launcher {

using namespace whip;
using namespace webrtc;

namespace {

void
init_whip_debug ()
{
  static std::once_flag once;
  std::call_once (once, [] {
        GST_DEBUG_CATEGORY_INIT (castline_whip_debug, "castline-whip", 0,
            "castline WHIP ingest");
      });
  webrtc::init_debug ();
}

}  // namespace

WhipIngest::WhipIngest (GstPipeline * pipeline, std::vector<std::string> ice_servers,
    Listener listener) : state_ (std::make_shared<WhipIngestState> ())
{
  init_whip_debug ();
  WhipIngestState & st = *state_;
  st.name = "WHIP publisher";
  st.answer_direction = "recvonly";
  st.ended = listener.ended;
  st.listener = std::move (listener);
  if (!add_webrtcbin (state_, pipeline, ice_servers, error_))
    return;
  connect_handler (state_, "pad-added", G_CALLBACK (on_pad_added));
}

std::vector<std::string>
WhipIngest::required_elements ()
{
  return whip::required_elements ();
}

WhipIngest::~WhipIngest ()
{
  {
    std::lock_guard<std::recursive_mutex> call (state_->call_lock);
    std::lock_guard<std::mutex> lk (state_->lock);
    state_->alive = false;
  }
  close ();
}

void
WhipIngest::restrict_codecs (std::vector<std::string> video, std::vector<std::string> audio)
{
  std::lock_guard<std::mutex> lk (state_->lock);
  state_->allowed_video = std::move (video);
  state_->allowed_audio = std::move (audio);
}

void
WhipIngest::negotiate (const std::string & offer, unsigned timeout_ms,
    std::function<void (unsigned status, std::string answer_or_error)> done)
{
  start_negotiation (state_, offer, timeout_ms, std::move (done));
}

bool
WhipIngest::add_remote_candidates (const std::string & sdpfrag, std::string & error,
    bool *ice_restart)
{
  return webrtc::add_remote_candidates (state_, sdpfrag, error, ice_restart);
}

void
WhipIngest::close ()
{
  close_peer (state_);
}

}  // namespace castline::launcher
