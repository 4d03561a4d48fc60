/* castline-launcher, private to the WHIP ingest's .cpp files: the state
 * that WhipIngest shares with webrtcbin's callbacks (webrtc/peerstate.h,
 * plus what only the ingest has). */
#pragma once

#include "ingest/whip/whipingest.h"
#include "webrtc/peerstate.h"

#include <memory>
#include <string>
#include <vector>

namespace castline::launcher {

struct WhipIngestState : webrtc::PeerState {
  WhipIngest::Listener listener;         /* read-only after construction */
  /* under `lock` */
  std::vector<std::string> allowed_video; /* empty: all we take */
  std::vector<std::string> allowed_audio;
};

namespace whip {

using StatePtr = std::shared_ptr<WhipIngestState>;

/* the ingest's state from C callback data (webrtc::hold of its state) */
inline StatePtr
ingest_state (gpointer data)
{
  return std::static_pointer_cast<WhipIngestState> (webrtc::held (data));
}

}  // namespace whip

}  // namespace castline::launcher
