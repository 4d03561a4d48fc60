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
#include <vector>

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

  /* How a source (rtmpserversrc, srtserversrc) tells its publisher's end,
   * and how it is told to end one. */
  struct Ends {
    std::string message;               /* its element message: "reason", "description" */
    std::vector<std::string> lost;     /* the reasons that lose the publisher */
    std::string who;                   /* "RTMP publisher", for the reason */
    std::string end_signal;            /* its action signal closing the publisher */
    std::string what;                  /* "RTMP stream", for the reason */
  };

  /* After attach: the publisher is lost on the source's message with a
   * reason in ends.lost ("the <who> was lost (<reason>): <description>";
   * the source ended the media), or on an error of the source or the
   * demuxer (what it cannot read): end_signal closes the publisher, lost
   * with "the <what> cannot be read: <error>", the stream finalized as it
   * is. */
  void watch_ends (StreamPipeline & pipeline, Ends ends);

 private:
  void on_message (GstMessage * msg);
  bool on_problem (GstMessage * msg);

  Ingest::Hooks hooks_;
  Ends ends_;
  GstElement *src_ = nullptr;      /* owned by the pipeline */
  GstElement *demux_ = nullptr;    /* owned by the pipeline */
  bool lost_ = false;
};

}  // namespace castline::launcher
