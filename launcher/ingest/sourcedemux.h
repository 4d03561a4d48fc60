/* castline-launcher: what the ingests built on a network source element
 * share (the WebSocket's webmwssrc ! matroskademux, RTMP's rtmpserversrc !
 * flvdemux): the source, its own server off (the launcher accepts the
 * publisher and hands the connection over), and the demuxer after it in
 * the stream's pipeline, each demuxed pad linked to the graph as it
 * appears and the entries it has no pad for ended once it has made its
 * pads; and the publisher_lost hook, called once at most. Main context. */
#pragma once

#include "ingest/ingest.h"

#include <gst/gst.h>

#include <string>

namespace castline::launcher {

/* the kind ("video", "audio", or "") of a demuxer's pad, from its caps or
 * its name */
std::string demuxed_pad_kind (GstPad * pad);

class SourceDemux {
 public:
  /* Adds source (port -1, idle-timeout idle_timeout_s) ! demuxer to the
   * pipeline; false with the reason. */
  bool attach (StreamPipeline & pipeline, const char *source, const char *demuxer,
      unsigned idle_timeout_s, Ingest::Hooks hooks, std::string & error);

  GstElement *source () const { return src_; }
  GstElement *demuxer () const { return demux_; }
  /* whether msg comes from the source or the demuxer */
  bool posted (GstMessage * msg) const;

  /* publisher_lost, the first time only */
  void lose (const std::string & reason, bool media_ended);
  bool lost () const { return lost_; }

 private:
  Ingest::Hooks hooks_;
  GstElement *src_ = nullptr;      /* owned by the pipeline */
  GstElement *demux_ = nullptr;    /* owned by the pipeline */
  bool lost_ = false;
};

}  // namespace castline::launcher
