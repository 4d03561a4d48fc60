/* castline-launcher: one MP4 of a recorded stream (recording.mp4), made
 * from the segments its HLS output kept, without a second encode:
 *   MPEG-TS (hlssink2): splitmuxsrc (exactly those segments, in order,
 *   their timestamps made continuous) ! h264parse / aacparse
 *   ! mp4mux faststart=true ! filesink
 *   fMP4 (llhlssink, an init segment first): the init and the segments
 *   concatenated into one fragmented MP4 (recording.mp4.cmaf, on a worker
 *   thread: a long recording is gigabytes), then filesrc ! qtdemux
 *   ! h264parse / aacparse ! mp4mux faststart=true ! filesink. splitmuxsrc
 *   opens each file alone and a CMAF segment has no moov; the segments of
 *   one output share the init and run on one timeline, so their
 *   concatenation is one valid fragmented file.
 * Remuxing at the end, rather than a tee before the HLS sink, leaves the
 * live graph alone (no second muxer holding the stream's media while it
 * is live, nothing to undo when a stream fails) and costs a fraction of a
 * second per minute of media. The file is written as recording.mp4.part
 * and renamed when complete, so recording.mp4 is never a partial file.
 *
 * The pipeline runs on its own streaming threads; its bus is watched on
 * the main context, and it is stopped after a time bound. Only for local
 * output: with S3 the segments are not on this machine. Main context. */
#pragma once

#include <gst/gst.h>

#include <functional>
#include <gio/gio.h>
#include <memory>
#include <string>
#include <vector>

namespace castline::launcher {

class Mp4Remux {
 public:
  /* ok: out_path is complete, bytes long; otherwise error says why */
  using Done = std::function<void (bool ok, guint64 bytes, const std::string & error)>;

  /* Starts remuxing segments (paths, in order) into out_path; done runs
   * once on the main context, unless the Mp4Remux is destroyed first.
   * nullptr with error when it cannot start. */
  /* what a remux makes (the check at start) */
  static std::vector<std::string> required_elements ()
  {
    return { "splitmuxsrc", "mp4mux", "filesink", "queue", "h264parse", "aacparse", "fakesink",
      "filesrc", "qtdemux" };
  }

  /* init: the fMP4 segments' init segment (path); "" for MPEG-TS ones */
  static std::unique_ptr<Mp4Remux> start (const std::vector<std::string> & segments,
      const std::string & out_path, guint timeout_s, Done done, std::string & error,
      const std::string & init = "");
  ~Mp4Remux ();
  Mp4Remux (const Mp4Remux &) = delete;
  Mp4Remux & operator= (const Mp4Remux &) = delete;

 private:
  Mp4Remux () = default;
  static gboolean on_bus (GstBus *, GstMessage * msg, gpointer self);
  static void on_pad_added (GstElement *, GstPad * pad, gpointer self);
  void finish (bool ok, const std::string & error);
  /* fMP4: the concatenation is written (or failed: error); main context */
  void concatenated (bool ok, const std::string & error);
  void play ();

  GstElement *pipeline_ = nullptr;
  GstElement *mux_ = nullptr;          /* owned by the pipeline */
  std::vector<std::string> segments_;  /* given to splitmuxsrc's format-location */
  std::string out_path_;
  std::string part_path_;
  std::string cmaf_path_;              /* fMP4: init + segments, removed at the end */
  GCancellable *cancel_ = nullptr;     /* fMP4: the concatenation */
  bool concatenating_ = false;
  std::shared_ptr<Mp4Remux *> alive_;  /* the concatenation's end holds it weakly */
  guint bus_watch_ = 0;
  guint timer_ = 0;
  Done done_;
};

}  // namespace castline::launcher
