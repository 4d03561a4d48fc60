/* Tests: an ingest without a network (FakeIngest) that says what the
 * manager gave it and, asked to, sends a live H.264 + Opus test stream as
 * a publisher would; and admit () with it. */
#pragma once

#include "ingest/ingest.h"
#include "routetest.h"

#include <gst/check/gstcheck.h>

#include <memory>
#include <string>

namespace routetest {

using castline::launcher::Ingest;
using castline::launcher::PublisherMedia;
using castline::launcher::Refusal;
using castline::launcher::StreamPipeline;

/* an ingest that says what it was given; with media, it sends a live test
 * picture (H.264) and tone (Opus), as a publisher would */
class FakeIngest : public Ingest {
 public:
  explicit FakeIngest (PublisherMedia media, bool fail_attach = false, bool with_media = false)
      : media_ (std::move (media)), fail_attach_ (fail_attach), with_media_ (with_media) {}

  const char *kind () const override { return "fake"; }
  const PublisherMedia & media () const override { return media_; }
  bool attach (StreamPipeline & pipeline, const std::string & video_codec,
      const std::string & audio_codec, Hooks hooks, std::string & error) override
  {
    if (fail_attach_) {
      error = "no such element";
      return false;
    }
    attached_to = &pipeline;
    video = video_codec;
    audio = audio_codec;
    this->hooks = std::move (hooks);
    if (with_media_) {
      send ("video", "videotestsrc is-live=true"
          " ! video/x-raw,width=160,height=120,framerate=15/1,format=I420"
          " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15"
          " ! h264parse config-interval=-1"
          " ! capsfilter caps=\"video/x-h264,stream-format=byte-stream,alignment=au\"");
      send ("audio", "audiotestsrc is-live=true ! audio/x-raw,rate=48000,channels=1 ! opusenc"
          " ! opusparse");
    }
    return true;
  }
  void request_keyframe () override { keyframes++; }

  StreamPipeline *attached_to = nullptr;
  std::string video, audio;
  Hooks hooks;
  int keyframes = 0;

 private:
  void send (const char *kind, const char *graph)
  {
    g_autoptr (GError) error = nullptr;
    GstElement *bin = gst_parse_bin_from_description (graph, TRUE, &error);
    fail_unless (bin != nullptr && !error, "%s: %s", graph, error ? error->message : "");
    gst_bin_add (GST_BIN (attached_to->pipeline ()), bin);
    g_autoptr (GstPad) pad = gst_element_get_static_pad (bin, "src");
    attached_to->link_media (kind, pad);
  }

  PublisherMedia media_;
  bool fail_attach_;
  bool with_media_;
};

inline PublisherMedia
h264_opus ()
{
  return { { "h264" }, { "opus" } };
}

/* admit with a FakeIngest; the ingest (owned by the stream) or nullptr */
inline FakeIngest *
admit (StreamManager & m, const Created & s, Refusal & refusal,
    PublisherMedia media = h264_opus (), const std::string & key = "")
{
  auto ingest = std::make_unique<FakeIngest> (std::move (media));
  FakeIngest *raw = ingest.get ();
  return m.admit (s.id, key.empty () ? s.key : key, std::move (ingest), refusal) ? raw : nullptr;
}

}  // namespace routetest
