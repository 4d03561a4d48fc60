/* castline-launcher: a stream's recording. While a recorded stream is
 * live, its HLS sink keeps every segment (max-files=0; the live playlist
 * still rolls); a SegmentLog per HLS output follows the segments it closes
 * and, when the stream ends, the Recorder writes each output's vod.m3u8
 * next to its live playlist: into its directory, or to its S3 key prefix.
 *
 * Segments are followed through splitmuxsink's `splitmuxsink-fragment-opened`
 * and `-closed` element messages, which hlssink2 (inside s3hlssink too)
 * passes up to the pipeline bus, and llhlssink posts the same way, rather than by reading playlists: the
 * live playlist names only the last playlist_length segments, and with S3
 * there is no local file to read. The durations are those hlssink2 itself
 * puts in its playlist (closing minus opening running time). The messages
 * carry no location (hlssink2 names the files itself, from splitmuxsink's
 * fragment id, counted from 0): the n-th fragment opened is the sink's
 * segment n. They are taken from the bus's sync-message signal, on the
 * streaming thread that posts them, so that a stream that fails (its bus
 * watch gone at the first error) still has every segment closed before.
 *
 * A stream that fails keeps what it has: its VOD lists the segments closed
 * before the failure (the one being written then is incomplete and left
 * out). A stream with no closed segment has no recording.
 *
 * Several outputs (an ABR ladder: one sink per rung) give one VOD per
 * output, each next to its own live playlist, and a VOD master at the
 * stream's root (set_root) made from its live master. With mp4, the first output
 * attached (local only) is also remuxed into recording.mp4 next to its
 * VOD (Mp4Remux); a remux that fails is logged and recorded with its
 * error. Main context, but for the bus handler. */
#pragma once

#include "recording/mp4remux.h"
#include "recording/segmentjournal.h"
#include "store/streamstore.h"
#include "recording/vodplaylist.h"

#include "s3/s3client.h"

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace castline::launcher {

/* One HLS sink a recording follows, and where its files go. */
struct RecordedOutput {
  /* the output's folder under the stream's: "" for the single output
   * `out`, an abr rung's name ("720p") */
  std::string name;
  GstElement *sink = nullptr;      /* hlssink2, llhlssink or s3hlssink; not owned (the log refs it) */
  std::string dir;                 /* local output: its directory; "" with S3 */
  std::string key_prefix;          /* S3 output: "<key_prefix><id>/[name/]"; "" locally */
  /* the file name of the sink's segment n, as its location template makes it */
  std::function<std::string (guint)> segment_name;
  /* fMP4 segments (llhlssink): their init segment's file name, next to
   * them (the VOD's EXT-X-MAP, the MP4's start); "" for MPEG-TS */
  std::string init;
};

/* The segments one HLS sink has closed, from its fragment messages. */
class SegmentLog {
 public:
  /* closed: told of each segment as it closes (the journal), on the
   * streaming thread */
  SegmentLog (GstElement * sink, std::function<std::string (guint)> segment_name,
      std::function<void (const VodSegment &)> closed = nullptr);
  /* the segments of a sink that is gone (a session a crash cut short),
   * read back from its journal: follows nothing */
  explicit SegmentLog (std::vector<VodSegment> segments);
  ~SegmentLog ();
  SegmentLog (const SegmentLog &) = delete;
  SegmentLog & operator= (const SegmentLog &) = delete;

  /* Keeps msg if it is a fragment message from inside this sink; true
   * then. Any thread. */
  bool on_message (GstMessage * msg);
  /* the segments closed so far, in order */
  std::vector<VodSegment> segments () const;

 private:
  GstElement *sink_ = nullptr;
  std::function<std::string (guint)> segment_name_;
  std::function<void (const VodSegment &)> closed_;
  mutable std::mutex lock_;        /* below */
  std::vector<VodSegment> segments_;
  GstClockTime opened_at_ = GST_CLOCK_TIME_NONE;   /* running time */
  guint opened_ = 0;               /* fragments opened: the next one's number */
};

class Recorder {
 public:
  /* done's argument: the recordings written (one "hls" per output that
   * closed a segment; empty when none) */
  using Done = std::function<void (std::vector<RecordingRecord>)>;

  /* s3: the client VODs of S3 outputs are uploaded with (nullptr for
   * local outputs only); mp4: also make recording.mp4; name_prefix: put
   * before the VOD's and the MP4's names, so that each publisher session
   * of a stream that was interrupted has its own ("s2-vod.m3u8") */
  Recorder (std::string stream_id, std::shared_ptr<castline::s3::S3Client> s3,
      bool mp4 = false, std::string name_prefix = "");
  ~Recorder ();
  Recorder (const Recorder &) = delete;
  Recorder & operator= (const Recorder &) = delete;

  /* Listens to the pipeline's bus (its sync-message signal). Main
   * context, before the pipeline starts. */
  void follow (GstPipeline * pipeline);
  /* Where the stream's own playlists are (its directory, or its S3 key
   * prefix ending in '/'): with rungs (named outputs), the VOD master goes
   * there, made from the live master playlist there. */
  void set_root (std::string dir, std::string key_prefix);
  /* Follows output's segments from now on: before its sink gets data.
   * Any thread (an ABR rung's sink is made on a streaming thread). */
  void attach (RecordedOutput output);
  /* Every closed segment also goes to journal, from now on (before any
   * attach), so that a daemon that dies still has them. */
  void set_journal (std::unique_ptr<SegmentJournal> journal) { journal_ = std::move (journal); }
  /* An output whose sink is gone, with the segments it closed (read back
   * from a journal after a crash); output.sink is unused. Main context,
   * before finish. */
  void attach_closed (RecordedOutput output, std::vector<VodSegment> segments);

  /* The pipeline is at NULL: stops following it and writes each output's
   * vod.m3u8 (a local file at once; an S3 PutObject asynchronously, on the
   * S3 client's thread); then done, on the main context, once. A failed
   * write is logged and that output left out. Destroying the Recorder
   * first drops done. */
  void finish (Done done);

  /* the name of a VOD playlist, next to each output's live one */
  static constexpr const char *kVodName = "vod.m3u8";
  static constexpr const char *kMp4Name = "recording.mp4";
  /* this recording's: the above with its name prefix */
  std::string vod_name () const { return name_prefix_ + kVodName; }
  std::string mp4_name () const { return name_prefix_ + kMp4Name; }

 private:
  struct Output {
    RecordedOutput where;
    std::unique_ptr<SegmentLog> log;
  };
  static void on_sync_message (GstBus *, GstMessage * msg, gpointer self);
  void detach ();
  void output_done (std::optional<RecordingRecord> r);
  /* writes text as dir/vod.m3u8, or uploads it as key_prefix + vod.m3u8;
   * output_done (r, or nothing when it fails) follows, at once or later.
   * false when it failed at once */
  bool store (const std::string & dir, const std::string & key_prefix, const std::string & text,
      const RecordingRecord & r);
  void write_master ();
  /* Made on the main context, called from any thread: runs fn there
   * unless this is destroyed by then. */
  using Poster = std::function<void (std::function<void ()> fn)>;
  Poster poster () const;
  void start_mp4 (const Output & o, const std::vector<VodSegment> & segments,
      const RecordingRecord & vod);

  std::string stream_id_;
  std::shared_ptr<castline::s3::S3Client> s3_;
  bool mp4_ = false;
  std::string name_prefix_;
  std::string root_dir_;
  std::string root_key_prefix_;
  bool master_started_ = false;
  std::unique_ptr<Mp4Remux> remux_;
  std::unique_ptr<SegmentJournal> journal_;
  std::mutex lock_;                /* outputs_: attach and the bus handler */
  std::vector<Output> outputs_;
  GstBus *bus_ = nullptr;
  gulong handler_ = 0;
  GMainContext *context_ = nullptr;          /* where done runs */
  std::shared_ptr<Recorder *> alive_;        /* S3 callbacks hold it weakly */
  Done done_;
  size_t pending_ = 0;
  std::vector<RecordingRecord> written_;
};

}  // namespace castline::launcher
