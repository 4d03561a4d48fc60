#include "webmws/chunkqueue.h"

#include <chrono>

namespace castline::webmws {

GstBuffer *
chunk_to_buffer (const Chunk & chunk, uint64_t offset)
{
  GstBuffer *buf = gst_buffer_new_wrapped_bytes (chunk.bytes.get ());
  gsize size = g_bytes_get_size (chunk.bytes.get ());
  GST_BUFFER_OFFSET (buf) = offset;
  GST_BUFFER_OFFSET_END (buf) = offset + size;
  if (chunk.first_of_publisher)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
  return buf;
}

ChunkQueue::ChunkQueue (uint64_t max_bytes) : max_bytes_ (max_bytes)
{
}

ChunkQueue::PushResult
ChunkQueue::push (Chunk chunk)
{
  uint64_t cost = g_bytes_get_size (chunk.bytes.get ()) + kChunkOverhead;
  std::lock_guard<std::mutex> lk (lock_);
  if (end_)
    return PushResult::ended;
  if (!chunks_.empty () && bytes_ + cost > max_bytes_)
    return PushResult::full;
  chunks_.push_back (std::move (chunk));
  bytes_ += cost;
  clock_started_ = true;
  last_activity_us_ = g_get_monotonic_time ();
  cond_.notify_all ();
  if (!high_ && bytes_ * 4 >= max_bytes_ * 3) {
    high_ = true;
    return PushResult::queued_high;
  }
  return PushResult::queued;
}

void
ChunkQueue::push_end ()
{
  std::lock_guard<std::mutex> lk (lock_);
  end_ = true;
  cond_.notify_all ();
}

void
ChunkQueue::touch ()
{
  std::lock_guard<std::mutex> lk (lock_);
  clock_started_ = true;
  last_activity_us_ = g_get_monotonic_time ();
  cond_.notify_all ();
}

ChunkQueue::PopResult
ChunkQueue::pop (Chunk & out, int64_t idle_timeout_us)
{
  std::unique_lock<std::mutex> lk (lock_);
  while (true) {
    if (flushing_)
      return PopResult::flushing;
    if (!chunks_.empty ()) {
      out = std::move (chunks_.front ());
      chunks_.pop_front ();
      bytes_ -= g_bytes_get_size (out.bytes.get ()) + kChunkOverhead;
      if (high_ && bytes_ * 2 < max_bytes_)
        high_ = false;
      return PopResult::chunk;
    }
    if (end_)
      return PopResult::end;
    if (idle_timeout_us <= 0 || !clock_started_) {
      cond_.wait (lk);
      continue;
    }
    int64_t now = g_get_monotonic_time ();
    int64_t deadline = last_activity_us_ + idle_timeout_us;
    if (now >= deadline)
      return PopResult::idle;
    cond_.wait_for (lk, std::chrono::microseconds (deadline - now));
  }
}

void
ChunkQueue::set_flushing (bool flushing)
{
  std::lock_guard<std::mutex> lk (lock_);
  flushing_ = flushing;
  cond_.notify_all ();
}

uint64_t
ChunkQueue::bytes () const
{
  std::lock_guard<std::mutex> lk (lock_);
  return bytes_;
}

bool
ChunkQueue::ended () const
{
  std::lock_guard<std::mutex> lk (lock_);
  return end_;
}

}  // namespace castline::webmws
