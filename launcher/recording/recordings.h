/* castline-launcher: the recordings of a daemon's recorded stream sessions.
 * A session's Recorder follows every HLS output of its pipeline from before
 * its sinks get data; once the pipeline is at NULL its VODs are written
 * (a session's may still be written when the stream's next one has
 * started), stored, and told to the listeners ("recording.ready").
 * Recordings are removed (their files, then their rows) by remove
 * (recording/recordingremoval.h), told to the removed listeners
 * ("recording.deleted"). Main context. */
#pragma once

#include "config/config.h"
#include "recording/recorder.h"
#include "recording/recordingremoval.h"
#include "streams/streampipeline.h"
#include "store/streamstore.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace castline::launcher {

class Recordings {
 public:
  using Listener = std::function<void (const StreamRecord &, const std::vector<RecordingRecord> &)>;
  /* a stream's recordings removed: what went, and why ("api",
   * "retention") */
  using RemovedListener = std::function<void (const StreamRecord &, const RemovalResult &,
      const std::string & reason)>;

  /* s3: the client VODs are uploaded with (S3 output), else nullptr */
  Recordings (const Config & config, StreamStore & store,
      std::shared_ptr<castline::s3::S3Client> s3);
  ~Recordings ();
  Recordings (const Recordings &) = delete;
  Recordings & operator= (const Recordings &) = delete;

  /* Records publisher session `session` of stream id: every HLS output of
   * pipeline (not started yet). */
  void start (const std::string & id, unsigned session, StreamPipeline & pipeline);
  /* The session's pipeline is at NULL: its VODs are written, stored and
   * told (not when none could be); then the idle callback. */
  void finish (const std::string & id, unsigned session);
  /* The session never ran: its recorder is dropped. */
  void drop (const std::string & id, unsigned session);

  /* A daemon that died left session `session` of stream id unfinished:
   * its recording is written from the segments its journal names
   * (recording/segmentjournal.h), those that are there (local output:
   * their files; S3 output: those up to last_uploaded's segment of each
   * output, the newest its live playlist in the bucket names, "" for
   * none), then stored and told as any other. False when there is no
   * journal, or nothing to record. */
  bool settle (const std::string & id, unsigned session,
      const std::map<std::string, std::string> & last_uploaded = {});

  /* no recording being written */
  bool idle () const { return recorders_.empty (); }
  /* runs after each recording is written (a shutdown waits for them) */
  void set_idle_callback (std::function<void ()> callback) { on_written_ = std::move (callback); }
  void add_listener (Listener listener) { listeners_.push_back (std::move (listener)); }

  /* whether a recording of stream id is being written now */
  bool writing (const std::string & id) const;
  /* Removes the files of `which` (recordings of stream id), then the
   * rows of those whose files went; logged, and told to the removed
   * listeners when any went (reason: "api", "retention"); then done.
   * Main context; done runs there, unless this is destroyed first. */
  void remove (const std::string & id, std::vector<RecordingRecord> which,
      const std::string & reason, RemovalDone done);
  void add_removed_listener (RemovedListener listener)
  {
    removed_listeners_.push_back (std::move (listener));
  }

 private:
  /* a session's recorder, its VOD master at the stream's root */
  std::unique_ptr<Recorder> make_recorder (const std::string & id, unsigned session) const;
  void on_recorded (const std::string & key, const std::string & id, unsigned session,
      std::vector<RecordingRecord> recordings);

  const Config & config_;
  StreamStore & store_;
  std::shared_ptr<castline::s3::S3Client> s3_;
  /* by "<id>/<session number>" */
  std::map<std::string, std::unique_ptr<Recorder>> recorders_;
  std::vector<Listener> listeners_;
  std::vector<RemovedListener> removed_listeners_;
  std::function<void ()> on_written_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool> (true);   /* removals hold it weakly */
};

/* what the files of publisher session n are named with: "" for the first,
 * "s<n>-" after */
std::string session_prefix (unsigned n);

}  // namespace castline::launcher
