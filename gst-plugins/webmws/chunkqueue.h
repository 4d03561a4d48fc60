/* castline: the bounded queue between webmwssrc's connections and its
 * streaming thread.
 *
 * Network threads push the WebM chunks of the publisher; the streaming
 * thread pops them in create(), waiting on a condition variable that also
 * wakes for the end of the stream, for a flush (unlock()), and when nothing
 * has arrived for the idle time-out. Memory is bounded: a chunk that would
 * take the queue past max_bytes is refused (the caller closes the
 * publisher), except into an empty queue, so one message always fits. Each
 * chunk is counted with a fixed overhead, so many tiny messages cannot
 * outgrow the bound either.
 */
#pragma once

#include <gst/gst.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

namespace castline::webmws {

struct Chunk {
  std::shared_ptr<GBytes> bytes;
  bool first_of_publisher = false; /* DISCONT; media_type applies from here */
  bool continues_stream = false;   /* a replacing publisher: new segment */
  std::string media_type;          /* caps, on first_of_publisher */
};

/* The chunk as the buffer create() pushes: the bytes wrapped, not copied,
 * DISCONT on a publisher's first chunk, byte offsets from offset. */
GstBuffer *chunk_to_buffer (const Chunk & chunk, uint64_t offset);

class ChunkQueue {
 public:
  static constexpr uint64_t kChunkOverhead = 256;

  explicit ChunkQueue (uint64_t max_bytes);
  ChunkQueue (const ChunkQueue &) = delete;
  ChunkQueue & operator= (const ChunkQueue &) = delete;

  enum class PushResult {
    queued,
    queued_high,               /* queued, and the queue just passed 75 % */
    full,                      /* not queued */
    ended,                     /* not queued: the stream has ended */
  };
  PushResult push (Chunk chunk);
  /* The stream ends once what is queued is out. */
  void push_end ();
  /* A publisher arrived: starts (or restarts) the idle clock. */
  void touch ();

  enum class PopResult { chunk, end, flushing, idle };
  /* Waits for a chunk. idle_timeout_us > 0: gives up with `idle` once
   * nothing was pushed or touched for that long (the clock starts with the
   * first touch or push: waiting for a first publisher is not idleness). */
  PopResult pop (Chunk & out, int64_t idle_timeout_us);
  void set_flushing (bool flushing);

  uint64_t bytes () const;
  uint64_t max_bytes () const { return max_bytes_; }
  bool ended () const;

 private:
  const uint64_t max_bytes_;
  mutable std::mutex lock_;
  std::condition_variable cond_;
  std::deque<Chunk> chunks_;
  uint64_t bytes_ = 0;
  bool end_ = false;
  bool flushing_ = false;
  bool high_ = false;          /* above 75 %, warned; re-armed below 50 % */
  bool clock_started_ = false;
  int64_t last_activity_us_ = 0;
};

}  // namespace castline::webmws
