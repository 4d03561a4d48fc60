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

#include <initializer_list>
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

  /* The source's message_name message (its publisher gone, the media
   * ended by the source) with a "reason" among lost_reasons: the
   * publisher is lost, "the <who> was lost (<reason>): <description>".
   * Other messages are left alone. */
  void lose_on_message (GstMessage * msg, const char *message_name,
      std::initializer_list<const char *> lost_reasons, const char *who);
  /* An error of the source or the demuxer (what it cannot read): the
   * source's end_signal closes the publisher, which is lost, "the <what>
   * cannot be read: <error>", the stream finalized as it is. True for an
   * error it takes (the pipeline's problem handler). */
  bool lose_on_error (GstMessage * msg, const char *end_signal, const char *what);

 private:
  Ingest::Hooks hooks_;
  GstElement *src_ = nullptr;      /* owned by the pipeline */
  GstElement *demux_ = nullptr;    /* owned by the pipeline */
  bool lost_ = false;
};

}  // namespace castline::launcher
