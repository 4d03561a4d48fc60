/* castline-launcher: an RTMP (or RTMPS) publisher, as an Ingest:
 * rtmpserversrc (its own listener off: the launcher's RtmpServer accepted
 * the publisher and hands the connection over) and flvdemux in the
 * stream's pipeline, each demuxed pad linked to the graph as it appears
 * (the descriptions' branches have queues that hold a whole GOP).
 *
 * The publisher's end, from rtmpserversrc's disconnected message:
 * "unpublished" (FCUnpublish / deleteStream) is a normal end; "closed"
 * (the connection dropped), "timeout" (nothing for idle_timeout) and
 * "protocol-error" lose the publisher: the stream is interrupted and may
 * resume within the reconnect window. rtmpserversrc ends its media (EOS)
 * in every case. An error of flvdemux (tags it cannot read) closes the
 * publisher and loses it too, rather than failing the stream. RTMP has no
 * way to ask a publisher for a keyframe. */
#pragma once

#include "ingest/ingest.h"
#include "ingest/sourcedemux.h"
#include "rtmp/rtmplistener.h"

#include <gst/gst.h>

namespace castline::launcher {

class RtmpIngest : public Ingest {
 public:
  /* tls: RTMPS (the record's ingest is "rtmps"); idle_timeout_s:
   * rtmpserversrc's own, for a publisher that sends nothing */
  RtmpIngest (PublisherMedia media, bool tls, unsigned idle_timeout_s);

  /* what attach makes (the check at start) */
  static std::vector<std::string> required_elements () { return { "rtmpserversrc", "flvdemux" }; }

  const char *kind () const override { return tls_ ? "rtmps" : "rtmp"; }
  const PublisherMedia & media () const override { return media_; }
  bool attach (StreamPipeline & pipeline, const std::string & video_codec,
      const std::string & audio_codec, Hooks hooks, std::string & error) override;
  void request_keyframe () override {}

  /* Hands the publisher (past its publish answer, with every byte read of
   * it) to rtmpserversrc. After attach; main context. False when the
   * element would not take it (the publisher is closed). */
  bool add_connection (castline::rtmp::Publisher && publisher);

 private:
  PublisherMedia media_;
  bool tls_;
  unsigned idle_timeout_s_;
  SourceDemux parts_;              /* rtmpserversrc ! flvdemux */
};

}  // namespace castline::launcher
