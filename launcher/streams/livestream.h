/* castline-launcher: a stream while it has a publisher: its ingest, its
 * pipeline and its WebRTC viewers, and what the manager keeps of the
 * session. */
#pragma once

#include "ingest/ingest.h"
#include "streams/streampipeline.h"
#include "store/streamstore.h"
#include "whep/webrtcroom.h"

#include <memory>
#include <string>

namespace castline::launcher {

struct LiveStream {
  /* Declared before the pipeline, so destroyed after it: the pipeline is
   * at NULL (no streaming thread calls the ingest any more) when the
   * ingest is torn down. */
  std::unique_ptr<Ingest> ingest;
  std::unique_ptr<StreamPipeline> pipeline;
  /* its WebRTC viewers (none when WHEP is off): declared after the
   * pipeline, so destroyed before it, while its elements' pipeline is
   * there to leave */
  std::unique_ptr<WebRtcRoom> room;
  std::string pipeline_name;
  /* what the publisher is to send, of what it offered: the codec the
   * pipeline takes ("" for a kind the pipeline has no branch for) */
  std::string video_codec;
  std::string audio_codec;
  /* the publisher session: 1 for the stream's first, one more after each
   * interruption it came back from */
  unsigned session_number = 1;
  /* set when the publisher was lost without stopping: the stream is then
   * interrupted, not ended, once the pipeline is finalized */
  std::string lost_reason;
  bool stop_requested = false;         /* end() or shutdown(): an end, whatever the publisher did */
  /* the stream's record as it was before admit, for abandon: a publisher
   * that could not be connected leaves the stream exactly as it was */
  StreamRecord before_admit;
  /* the record's epoch once admit claimed it: while it is the store's,
   * the stream is this node's (StreamStore's fencing) */
  int64_t epoch = 0;
};

}  // namespace castline::launcher
