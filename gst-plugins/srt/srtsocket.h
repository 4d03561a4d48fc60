/* castline srt: libsrt's lifetime, an owned SRT socket, the receiver
 * options a listener's callers get, and a socket's link statistics. */
#pragma once

#include <srt/srt.h>

#include <cstdint>
#include <string>

namespace castline::srt {

/* srt_startup () while one lives (libsrt counts them), srt_cleanup () after. */
class SrtLibrary {
 public:
  SrtLibrary ();
  ~SrtLibrary ();
  SrtLibrary (const SrtLibrary &) = delete;
  SrtLibrary & operator= (const SrtLibrary &) = delete;
};

/* One SRT socket, closed (srt_close) when this goes. */
class SrtSocket {
 public:
  SrtSocket () = default;
  explicit SrtSocket (SRTSOCKET s) : s_ (s) {}
  ~SrtSocket () { reset (); }
  SrtSocket (SrtSocket && o) noexcept : s_ (o.release ()) {}
  SrtSocket & operator= (SrtSocket && o) noexcept;
  SrtSocket (const SrtSocket &) = delete;
  SrtSocket & operator= (const SrtSocket &) = delete;

  SRTSOCKET get () const { return s_; }
  explicit operator bool () const { return s_ != SRT_INVALID_SOCK; }
  SRTSOCKET release ();
  void reset (SRTSOCKET s = SRT_INVALID_SOCK);

 private:
  SRTSOCKET s_ = SRT_INVALID_SOCK;
};

/* What a listener's callers get (set on the listening socket before
 * srt_listen: libsrt copies them to each accepted socket). */
struct ReceiverOptions {
  unsigned latency_ms = 120;          /* SRTO_RCVLATENCY (and the peer's) */
  std::string passphrase;             /* SRTO_PASSPHRASE, 10-79 chars; "": unencrypted. Secret. */
  int pbkeylen = 0;                   /* SRTO_PBKEYLEN: 0 (the caller's), 16, 24, 32 */
  unsigned payload_size = 1316;       /* SRTO_PAYLOADSIZE: the largest message taken */
  unsigned peer_idle_timeout_ms = 5000;  /* SRTO_PEERIDLETIMEO: the link breaks after it */
  unsigned receive_buffer_bytes = 0;  /* SRTO_RCVBUF; 0: libsrt's default (about 8 MiB) */
};

/* Sets opts on s; false with libsrt's reason (a passphrase too short or
 * too long, an unknown key length). */
bool apply_receiver_options (SRTSOCKET s, const ReceiverOptions & opts, std::string & error);

/* "203.0.113.7:51234", "[2001:db8::1]:51234" */
std::string address_string (const struct sockaddr *addr);

/* srt_getlasterror_str () as a std::string */
std::string last_error ();

/* A caller's link as the receiver sees it (srt_bstats). */
struct LinkStats {
  double rtt_ms = 0;                  /* msRTT */
  double receive_rate_mbps = 0;       /* mbpsRecvRate */
  double bandwidth_mbps = 0;          /* mbpsBandwidth (estimated) */
  unsigned latency_ms = 0;            /* msRcvTsbPdDelay: the latency agreed */
  uint64_t packets_received = 0;      /* pktRecvTotal */
  uint64_t packets_lost = 0;          /* pktRcvLossTotal: gaps seen (most recovered) */
  uint64_t packets_retransmitted = 0; /* pktRcvRetransTotal: retransmissions received */
  uint64_t packets_dropped = 0;       /* pktRcvDropTotal: too late, never played */
  uint64_t packets_undecrypted = 0;   /* pktRcvUndecryptTotal */
  uint64_t bytes_received = 0;        /* byteRecvTotal */
};

/* false when s is gone */
bool read_link_stats (SRTSOCKET s, LinkStats & out);

}  // namespace castline::srt
