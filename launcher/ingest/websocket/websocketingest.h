/* castline-launcher: a MediaRecorder publisher over a WebSocket, as an
 * Ingest: webmwssrc (its own server off: the connection is handed over)
 * and matroskademux in the stream's pipeline, each demuxed track linked to
 * the graph as it appears. A publisher that closes with another code than
 * 1000 (a normal stop), or that webmwssrc cuts off (idle, a message over
 * max-message-size), is lost: webmwssrc ends its media itself. So is one
 * whose recording turns out unreadable once live (garbage where WebM
 * should go on): the demuxer's error is taken, not the stream's failure;
 * the publisher is closed with 1003 and the reason, and the pipeline is
 * finalized, as after a network drop (the stream is interrupted and may
 * resume). A MediaRecorder cannot be asked for a keyframe. */
#pragma once

#include "common/http/websocket.h"
#include "ingest/ingest.h"
#include "ingest/sourcedemux.h"
#include "webmws/controlmessage.h"

#include <gst/gst.h>

namespace castline::launcher {

/* What a MediaRecorder mimeType says the recording holds, in our codec
 * names: "video/webm;codecs=vp8,opus" is vp8 and opus; an audio/ type
 * without codecs is opus; an unknown codec is kept as it is (no pipeline
 * takes it). */
PublisherMedia media_of_mime_type (const castline::webmws::MimeType & mime);

class WebSocketIngest : public Ingest {
 public:
  /* idle_timeout_s: webmwssrc's own, for a publisher that sends nothing */
  WebSocketIngest (PublisherMedia media, unsigned idle_timeout_s);

  /* what attach makes (the check at start) */
  static std::vector<std::string> required_elements () { return { "webmwssrc", "matroskademux" }; }

  const char *kind () const override { return "websocket"; }
  const PublisherMedia & media () const override { return media_; }
  bool attach (StreamPipeline & pipeline, const std::string & video_codec,
      const std::string & audio_codec, Hooks hooks, std::string & error) override;
  void request_keyframe () override {}

  /* Hands the publisher's WebSocket to webmwssrc with what was read of it
   * already: the declared mimeType ("": none) and the first WebM bytes
   * (WebSocketPrelude). After attach; main context (the one the
   * connection was made on). */
  void add_connection (http::WebSocket * connection, const std::string & mime_type,
      GBytes * first_bytes);

 private:
  void on_message (GstMessage * msg);
  /* errors and warnings of the pipeline; true for an error it takes */
  bool on_problem (GstMessage * msg);

  PublisherMedia media_;
  unsigned idle_timeout_s_;
  SourceDemux parts_;              /* webmwssrc ! matroskademux */
};

}  // namespace castline::launcher
