/* castline srt: srtserversrc's reading of its one caller, on the
 * streaming thread: the caller's socket polled in bounded slices, every
 * message available drained (non-blocking) up to a bound, made whole TS
 * packets by a TsHandoff, and the caller's end told apart.
 *
 * How an end is named (the element's caller-disconnected reason):
 *   - "closed": the link broke while the caller was sending, that is the
 *     caller closed it (SRT's shutdown) or its network went;
 *   - "timeout": no payload for idle_timeout_s (the caller keeps the link
 *     alive but sends nothing), or the link broke after the caller had
 *     been silent for about SRTO_PEERIDLETIMEO: libsrt breaks a link that
 *     carries no packet at all (not even a keep-alive) that long (and
 *     16 expiry periods: about 5 s at least), and says nothing else
 *     about why: seen with libsrt 1.5.1, a link the caller closed and
 *     one that timed out are both SRTS_BROKEN, srt_recvmsg fails with
 *     SRT_ECONNLOST and srt_getrejectreason is SRT_REJ_UNKNOWN, so the
 *     age of the last payload is what tells a vanished caller from a
 *     closed one;
 *   - "not-ts": TsHandoff found no MPEG-TS sync;
 *   - "ended": end () (the element's end-caller). */
#pragma once

#include "srt/srtsocket.h"
#include "srt/tshandoff.h"

#include <glib.h>

#include <cstdint>
#include <string>
#include <vector>

namespace castline::srt {

enum class CallerEnd { none, closed, timeout, not_ts, ended };

/* "closed", "timeout", "not-ts", "ended" ("" for none) */
const char *caller_end_name (CallerEnd end);

class CallerReader {
 public:
  /* socket: connected; made non-blocking here. idle_timeout_s 0: no limit */
  CallerReader (SrtSocket socket, unsigned idle_timeout_s);
  ~CallerReader ();
  CallerReader (const CallerReader &) = delete;
  CallerReader & operator= (const CallerReader &) = delete;

  /* false when the socket cannot be polled (why in description ()) */
  bool ok () const { return epoll_ >= 0; }

  /* what was read before the hand-over (the listener's prelude), first;
   * false: the caller ended (not_ts) */
  bool replay (GBytes *replay, std::vector<uint8_t> & out);

  enum class Read { data, nothing, ended };
  /* Waits at most slice_ms for the caller, then appends the whole packets
   * of every message available (until out holds max_bytes or more) to
   * out. ended: reason () says why; the socket is closed. */
  Read read (int slice_ms, size_t max_bytes, std::vector<uint8_t> & out);

  /* closes the caller: reason () "ended" */
  void end (const std::string & description);

  CallerEnd reason () const { return end_; }
  const std::string & description () const { return description_; }
  SRTSOCKET socket () const { return socket_.get (); }
  uint64_t resyncs () const { return handoff_.resyncs (); }
  uint64_t bytes_received () const { return bytes_; }

 private:
  bool push (const uint8_t *data, size_t size, std::vector<uint8_t> & out);
  void finish (CallerEnd end, std::string description);
  CallerEnd broken_reason (std::string & description) const;

  SrtSocket socket_;
  int epoll_ = -1;
  TsHandoff handoff_;
  gint64 idle_timeout_us_;
  gint64 last_data_us_;               /* g_get_monotonic_time () of the last payload */
  int peer_idle_ms_ = 5000;           /* the socket's SRTO_PEERIDLETIMEO */
  int latency_ms_ = 120;              /* the socket's SRTO_RCVLATENCY */
  uint64_t bytes_ = 0;
  CallerEnd end_ = CallerEnd::none;
  std::string description_;
};

}  // namespace castline::srt
