/* castline srt: one UDP port taking many SRT callers, each routed by its
 * stream id. Used by srtserversrc standalone (one stream id) and by
 * castline-launcher (every stream's key), which owns the port.
 *
 * Threads:
 *   - libsrt's receiver thread calls `decide` from srt_listen_callback,
 *     before the handshake is answered, with what the stream id asks
 *     (srtstreamid.h). It must answer at once and be thread-safe: a
 *     refusal (any SRT_REJX_* code) goes back to the caller in the
 *     handshake, who sees why ("unauthorized", "conflict", ...).
 *     Malformed ids and over max_pending callers are refused before decide
 *     is asked (SRT_REJX_BAD_REQUEST..., SRT_REJX_OVERLOAD).
 *     While decide runs, libsrt receives nothing on this port: not the
 *     other handshakes, and not the packets of the callers already handed
 *     out (they share the port's UDP socket and receiver thread), so a
 *     slow decide costs every live SRT stream of the port its latency.
 *     A caller decide accepts may still be refused by libsrt after it (a
 *     passphrase mismatch: SRT_REJ_BADSECRET, or SRT_REJ_UNSECURE when one
 *     side has none) and never reach ready: decide must not reserve
 *     anything. decide is asked again for a caller only after a refusal
 *     (the caller repeats its handshake when the answer is lost).
 *   - the listener's own thread (start () begins it, stop () joins it)
 *     runs srt_epoll over the listening socket and the callers past
 *     accept: it reads each caller's first bytes (the prelude) through a
 *     TsHandoff and a TsProbe until the PMT says which codecs it sends,
 *     then calls `ready` with the Caller: its socket (taken off the
 *     listener's epoll, still non-blocking), every byte read so far, as
 *     read (replay: the element puts it through a TsHandoff of its own,
 *     then what follows, so a packet split across the hand-over is kept),
 *     and the codecs.
 *     A caller that does not send MPEG-TS (TsHandoff::not_ts), sends no
 *     PMT within prelude_timeout_s, or breaks, is closed and counted.
 *
 * Bounds: max_pending callers between accept and ready (and as many in
 * libsrt's listen backlog, between decide and accept: SRT_REJ_BACKLOG
 * past it); the prelude at most max_prelude_bytes each (past it without a
 * PMT: counted as not_ts); a stream id over 512 bytes cannot arrive
 * (libsrt's limit). The key is never logged. */
#pragma once

#include "srt/srtsocket.h"
#include "srt/srtstreamid.h"

#include <glib.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace castline::srt {

struct ListenerSettings {
  std::string host = "0.0.0.0";       /* "localhost": 127.0.0.1; "::" for IPv6 */
  int port = 8890;                    /* 0: a free one (port () says which) */
  ReceiverOptions receiver;
  unsigned prelude_timeout_s = 5;
  size_t max_pending = 64;
  size_t max_prelude_bytes = 4 * 1024 * 1024;
};

/* What a caller asks, given to decide. */
struct CallerRequest {
  StreamIdRequest stream;             /* stream.key: secret */
  std::string remote_address;         /* "203.0.113.7:51234" */
};

/* decide's answer: code 0 accepts; else an SRT_REJX_* code and the reason
 * for the log (the caller sees the code only: SRT carries no text). */
struct Verdict {
  int code = 0;
  std::string reason;

  static Verdict accept () { return {}; }
  bool refused () const { return code != 0; }
};

/* A caller past its prelude: what srtserversrc's add-caller takes. Whoever
 * keeps socket keeps an SrtLibrary alive as long (libsrt's last
 * srt_cleanup closes every socket). */
struct Caller {
  SrtSocket socket;                   /* connected, non-blocking (SRTO_RCVSYN false) */
  GBytes *replay = nullptr;           /* owned: every payload byte read in the prelude, as read */
  CallerRequest request;
  std::string video, audio;           /* TsProbe's codec names, "" for none */

  Caller () = default;
  Caller (Caller &&) noexcept;
  Caller & operator= (Caller &&) noexcept;
  ~Caller ();
};

class SrtListener {
 public:
  using DecideFunc = std::function<Verdict (const CallerRequest &)>;
  using ReadyFunc = std::function<void (Caller &&)>;

  SrtListener (ListenerSettings settings, DecideFunc decide, ReadyFunc ready);
  ~SrtListener ();                    /* stop () */
  SrtListener (const SrtListener &) = delete;
  SrtListener & operator= (const SrtListener &) = delete;

  /* Binds, listens, starts the thread; false with why (port in use, bad
   * passphrase). Any thread. */
  bool start (std::string & error);
  /* Stops the thread and closes the listening socket and every caller not
   * handed out yet; callers handed out go on. No callback runs after it
   * returns. Not from a callback. From stop () on, decide is no longer
   * asked (callers are refused SRT_REJX_OVERLOAD), but a decide already
   * running is waited for (libsrt's srt_close of the listener waits for
   * its hook): the thread calling stop () must not be one that decide
   * waits on, or that wait must be bounded (stop () then takes up to the
   * bound). */
  void stop ();
  int port () const;                  /* the bound port, 0 before start */

  /* counts, for metrics; thread-safe */
  uint64_t accepted () const;         /* callers past accept */
  uint64_t refused () const;          /* by decide, malformed ids, over max_pending */
  uint64_t not_ts () const;           /* closed: what they sent was no MPEG-TS */
  uint64_t timed_out () const;        /* closed: no PMT within prelude_timeout_s */

 private:
  struct Private;
  std::unique_ptr<Private> priv_;
};

}  // namespace castline::srt
