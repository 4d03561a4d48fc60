/* castline srt: whole TS packets out of SRT messages (tshandoff.h).
 *
 * The common case (synced, nothing held, whole packets in the message) is
 * read straight from the message; only a tail or a packet split over
 * messages is copied into held_. */
#include "srt/tshandoff.h"

namespace castline::srt {

namespace {

constexpr uint8_t kSync = 0x47;

}  // namespace

TsHandoff::Result
TsHandoff::push (const uint8_t *data, size_t size, std::vector<uint8_t> & out)
{
  if (not_ts_)
    return Result::not_ts;

  /* what is read: the message itself, or what is held with it appended */
  const uint8_t *buf = data;
  size_t n = size;
  size_t joint = 0;                    /* where the message starts in buf */
  if (!held_.empty ()) {
    joint = held_.size ();
    held_.insert (held_.end (), data, data + size);
    buf = held_.data ();
    n = held_.size ();
  }

  auto drop = [this] (size_t count) {
    dropped_bytes_ += count;
    unsynced_ += count;
  };

  size_t pos = 0;
  while (true) {
    if (!synced_) {
      /* a boundary: sync bytes at i, i+188 and i+376 (when there) */
      size_t i = pos;
      bool found = false;
      for (; i + kTsPacketSize < n; i++) {
        if (buf[i] == kSync && buf[i + kTsPacketSize] == kSync
            && (i + 2 * kTsPacketSize >= n || buf[i + 2 * kTsPacketSize] == kSync)) {
          found = true;
          break;
        }
      }
      if (!found) {
        /* the tail cannot be told yet; what cannot start a packet goes */
        while (i < n && buf[i] != kSync)
          i++;
      }
      drop (i - pos);
      pos = i;
      if (!found)
        break;
      synced_ = true;
      unsynced_ = 0;
    }
    while (n - pos >= kTsPacketSize && buf[pos] == kSync) {
      /* a packet joined over the messages' boundary is whole only if the
       * next packet starts after it: a message lost between them leaves
       * the head of one packet and the tail of another */
      if (pos < joint && pos + kTsPacketSize < n && buf[pos + kTsPacketSize] != kSync)
        break;
      out.insert (out.end (), buf + pos, buf + pos + kTsPacketSize);
      pos += kTsPacketSize;
      packets_++;
    }
    if (n - pos < kTsPacketSize)
      break;
    /* a packet without its sync byte (or a broken join): look again from
     * the next byte */
    synced_ = false;
    resyncs_++;
    drop (1);
    pos++;
  }

  /* keep the tail (at most 188 bytes: a packet not complete yet) */
  if (buf == data) {
    held_.assign (data + pos, data + n);
  } else {
    held_.erase (held_.begin (), held_.begin () + pos);
  }

  if (!synced_ && unsynced_ > max_unsynced_) {
    not_ts_ = true;
    held_.clear ();
    held_.shrink_to_fit ();
    return Result::not_ts;
  }
  return Result::ok;
}

}  // namespace castline::srt
