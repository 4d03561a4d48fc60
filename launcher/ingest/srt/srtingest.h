/* castline-launcher: an SRT caller, as an Ingest: srtserversrc (factory
 * "srtingestsrc"; its own listener off: the launcher's SrtServer accepted
 * the caller and hands the socket over) and tsdemux in the stream's pipeline, each demuxed pad
 * linked to the graph as it appears (SourceDemux).
 *
 * The caller's end, from srtserversrc's caller-disconnected message: SRT
 * has no "unpublish", so every end but "ended" (end-caller, ours) loses
 * the publisher: "closed" (the link broke or the caller closed it),
 * "timeout" (nothing for idle_timeout), "not-ts": the stream is
 * interrupted and may resume within the reconnect window, then ends.
 * An error of tsdemux closes the caller and loses it too. SRT has no way
 * to ask a caller for a keyframe. link_stats () is srtserversrc's
 * "stats" (RTT, loss, retransmits, rate): the stream's stats.srt. */
#pragma once

#include "ingest/ingest.h"
#include "ingest/sourcedemux.h"
#include "srt/srtlistener.h"

#include <gst/gst.h>

namespace castline::launcher {

class SrtIngest : public Ingest {
 public:
  /* idle_timeout_s: srtserversrc's own, for a caller that sends nothing */
  SrtIngest (PublisherMedia media, unsigned idle_timeout_s);

  /* what attach makes (the check at start) */
  static std::vector<std::string> required_elements () { return { "srtingestsrc", "tsdemux" }; }

  const char *kind () const override { return "srt"; }
  const PublisherMedia & media () const override { return media_; }
  bool attach (StreamPipeline & pipeline, const std::string & video_codec,
      const std::string & audio_codec, Hooks hooks, std::string & error) override;
  void request_keyframe () override {}
  GstStructure *link_stats () const override;

  /* Hands the caller (past its prelude) to srtserversrc. After attach;
   * main context. False when the element would not take it (the caller
   * is closed). */
  bool add_caller (castline::srt::Caller && caller);

 private:
  PublisherMedia media_;
  unsigned idle_timeout_s_;
  SourceDemux parts_;                  /* srtserversrc ! tsdemux */
};

}  // namespace castline::launcher
