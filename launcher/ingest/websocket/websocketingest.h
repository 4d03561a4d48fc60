/* castline-launcher: a MediaRecorder publisher over a WebSocket, as an
 * Ingest: webmwssrc (its own server off: the connection is handed over)
 * and matroskademux in the stream's pipeline, each demuxed track linked to
 * the graph as it appears. A publisher that closes with another code than
 * 1000 (a normal stop), or that webmwssrc cuts off (idle, broken media),
 * is lost: webmwssrc ends its media itself. A MediaRecorder cannot be
 * asked for a keyframe. */
#pragma once

#include "common/http/websocket.h"
#include "ingest/ingest.h"
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

  /* Hands the publisher's WebSocket to webmwssrc. After attach; main
   * context (the one the connection was made on). */
  void add_connection (http::WebSocket * connection);

 private:
  void on_message (GstMessage * msg);

  PublisherMedia media_;
  unsigned idle_timeout_s_;
  Hooks hooks_;
  GstElement *src_ = nullptr;      /* webmwssrc, owned by the pipeline */
};

}  // namespace castline::launcher
