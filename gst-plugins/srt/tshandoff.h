/* castline srt: the MPEG-TS an SRT caller sends, made whole before it goes
 * downstream. Pure; fuzzed (tests/fuzz/fuzz_srt.cpp).
 *
 * An SRT message (live mode) normally carries 7 TS packets (1316 bytes),
 * but a caller may send any size, garbage before the first sync byte, or
 * lose messages (too-late drops). TsHandoff takes the payloads as they
 * come and gives out only whole 188-byte packets that start with 0x47:
 *   - before sync: a packet boundary is where 0x47 stands at i, i+188 and
 *     i+376 (or at i and i+188 when the buffer ends before); what comes
 *     before it is dropped and counted. No sync within max_unsynced bytes
 *     (64 KiB by default): not_ts, and every later push says not_ts too
 *     (the caller does not send MPEG-TS: the element ends it).
 *   - after sync: a packet that does not start with 0x47 loses sync
 *     (counted as a resync), the search starts again from the next byte.
 *   - a packet split over two messages is put back together, if the
 *     byte after it (when the second message has one) is a sync byte:
 *     else a message was lost between them, the joined bytes are no
 *     packet and sync is looked for again; at most
 *     188 bytes are held between pushes (187 synced; before sync, a 0x47
 *     whose packet cannot be checked yet and what follows it).
 * Memory is bounded by what one push gives plus 188 bytes. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace castline::srt {

inline constexpr size_t kTsPacketSize = 188;

class TsHandoff {
 public:
  enum class Result { ok, not_ts };

  explicit TsHandoff (size_t max_unsynced = 64 * 1024) : max_unsynced_ (max_unsynced) {}

  /* Appends the whole packets data completes to out (which is not
   * cleared); not_ts once no sync was found in time. */
  Result push (const uint8_t *data, size_t size, std::vector<uint8_t> & out);

  bool synced () const { return synced_; }
  uint64_t resyncs () const { return resyncs_; }            /* sync lost after it was found */
  uint64_t dropped_bytes () const { return dropped_bytes_; } /* thrown away looking for sync */
  uint64_t packets () const { return packets_; }            /* whole packets given out */

 private:
  size_t max_unsynced_;
  std::vector<uint8_t> held_;      /* bytes not given out yet */
  bool synced_ = false;
  bool not_ts_ = false;
  size_t unsynced_ = 0;            /* bytes dropped since sync was last had (or ever) */
  uint64_t resyncs_ = 0;
  uint64_t dropped_bytes_ = 0;
  uint64_t packets_ = 0;
};

}  // namespace castline::srt
