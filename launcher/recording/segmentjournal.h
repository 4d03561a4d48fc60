/* castline-launcher: the segments a recording has closed so far, on disk,
 * so that a daemon that dies in the middle of a recorded stream (kill -9,
 * a crash, the machine's power) can still write its recording when it
 * starts again (streams/unfinishedstreams.h).
 *
 * One file per publisher session of a recorded stream,
 * <data_dir>/recording-journal/<id>/<session>.log (outside what is served
 * and used with S3 output too), one line per closed segment:
 * "<output>\t<uri>\t<duration ns>\n", where output is "." for the single
 * output and an abr rung's name otherwise. Each line goes to the file in
 * one write(2) as its segment closes: a process that dies keeps every line
 * written before (the kernel has it). The file is removed once the
 * session's recording is written. */
#pragma once

#include "recording/vodplaylist.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace castline::launcher {

class SegmentJournal {
 public:
  /* the journal of a stream's session, and the folder of a stream's */
  static std::string path (const std::string & data_dir, const std::string & id, unsigned session);
  static std::string folder (const std::string & data_dir, const std::string & id);

  /* Opens (creating, emptying) the journal at path for appending; nullptr with
   * error. */
  static std::unique_ptr<SegmentJournal> open (const std::string & path, std::string & error);
  ~SegmentJournal ();
  SegmentJournal (const SegmentJournal &) = delete;
  SegmentJournal & operator= (const SegmentJournal &) = delete;

  /* One closed segment of output ("" for the single output). Any thread;
   * a failed write is logged once. */
  void append (const std::string & output, const VodSegment & segment);

  /* What a journal holds: each output's segments, in the order the
   * outputs first appear. Lines that are malformed (the last one, cut by
   * a crash) are skipped. */
  using Outputs = std::vector<std::pair<std::string, std::vector<VodSegment>>>;
  static Outputs read (const std::string & path);
  /* the streams that have journals, in no order */
  static std::vector<std::string> streams (const std::string & data_dir);
  /* the sessions a stream has journals of, in order */
  static std::vector<unsigned> sessions (const std::string & data_dir, const std::string & id);
  /* removes a session's journal (and the stream's folder once empty) */
  static void remove (const std::string & data_dir, const std::string & id, unsigned session);

 private:
  SegmentJournal () = default;
  std::mutex lock_;
  int fd_ = -1;
  bool warned_ = false;
  std::string path_;
};

}  // namespace castline::launcher
