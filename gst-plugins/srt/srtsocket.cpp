/* castline srt: libsrt's lifetime, owned sockets, receiver options, link
 * statistics (srtsocket.h).
 *
 * libsrt 1.5.1 counts srt_startup () calls (CUDTUnited::startup) and
 * srt_cleanup () tears down only at the last one: when it does, every
 * socket still open is closed. Whoever holds a socket keeps an SrtLibrary
 * alive as long.
 *
 * libsrt logs to stderr by default (a warning for each refused caller);
 * its log goes to the GStreamer debug category "srtlib" instead, as
 * GStreamer's own srt plugin does (libsrt has one handler per process:
 * whichever plugin set it last has it). */
#include "srt/srtsocket.h"

#include <arpa/inet.h>
#include <gst/gst.h>
#include <netinet/in.h>
#include <srt/logging_api.h>
#include <sys/syslog.h>

#include <cstdio>

GST_DEBUG_CATEGORY_STATIC (srt_lib_debug);

namespace castline::srt {

namespace {

/* libsrt's threads: GStreamer's log is thread-safe */
void
log_to_gst (void *, int level, const char *file, int line, const char *area, const char *message)
{
  GstDebugLevel gst_level = level <= LOG_ERR ? GST_LEVEL_ERROR
      : level == LOG_WARNING ? GST_LEVEL_WARNING
      : level == LOG_NOTICE ? GST_LEVEL_INFO : GST_LEVEL_DEBUG;
  gst_debug_log (srt_lib_debug, gst_level, file ? file : "", area ? area : "", line, nullptr,
      "%s", message ? message : "");
}

}  // namespace

SrtLibrary::SrtLibrary ()
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (srt_lib_debug, "srtlib", 0, "libsrt's own log");
    srt_setloghandler (nullptr, log_to_gst);
    srt_setlogflags (SRT_LOGF_DISABLE_TIME | SRT_LOGF_DISABLE_THREADNAME
        | SRT_LOGF_DISABLE_SEVERITY | SRT_LOGF_DISABLE_EOL);
    srt_setloglevel (LOG_NOTICE);
    g_once_init_leave (&once, 1);
  }
  srt_startup ();
}

SrtLibrary::~SrtLibrary ()
{
  srt_cleanup ();
}

SrtSocket &
SrtSocket::operator= (SrtSocket && o) noexcept
{
  if (this != &o)
    reset (o.release ());
  return *this;
}

SRTSOCKET
SrtSocket::release ()
{
  SRTSOCKET s = s_;
  s_ = SRT_INVALID_SOCK;
  return s;
}

void
SrtSocket::reset (SRTSOCKET s)
{
  if (s_ != SRT_INVALID_SOCK && s_ != s)
    srt_close (s_);
  s_ = s;
}

namespace {

template <typename T>
bool
set_option (SRTSOCKET s, SRT_SOCKOPT opt, const char *name, T value, std::string & error)
{
  if (srt_setsockflag (s, opt, &value, sizeof (value)) == 0)
    return true;
  error = std::string (name) + ": " + last_error ();
  return false;
}

}  // namespace

bool
apply_receiver_options (SRTSOCKET s, const ReceiverOptions & opts, std::string & error)
{
  /* SRTO_LATENCY sets both the receiver's and the peer's latency */
  if (!set_option (s, SRTO_LATENCY, "latency", (int) opts.latency_ms, error))
    return false;
  if (!set_option (s, SRTO_PAYLOADSIZE, "payload size", (int) opts.payload_size, error))
    return false;
  if (!set_option (s, SRTO_PEERIDLETIMEO, "peer idle timeout", (int) opts.peer_idle_timeout_ms,
          error))
    return false;
  if (opts.receive_buffer_bytes
      && !set_option (s, SRTO_RCVBUF, "receive buffer", (int) opts.receive_buffer_bytes, error))
    return false;
  if (opts.pbkeylen && !set_option (s, SRTO_PBKEYLEN, "key length", opts.pbkeylen, error))
    return false;
  if (!opts.passphrase.empty ()) {
    if (srt_setsockflag (s, SRTO_PASSPHRASE, opts.passphrase.data (),
            (int) opts.passphrase.size ()) != 0) {
      /* libsrt's text does not quote the passphrase */
      error = "passphrase (10 to 79 characters): " + last_error ();
      return false;
    }
  }
  return true;
}

std::string
address_string (const struct sockaddr *addr)
{
  if (!addr)
    return "";
  char host[INET6_ADDRSTRLEN] = "";
  char out[INET6_ADDRSTRLEN + 16];
  if (addr->sa_family == AF_INET) {
    const auto *in = (const struct sockaddr_in *) addr;
    inet_ntop (AF_INET, &in->sin_addr, host, sizeof (host));
    snprintf (out, sizeof (out), "%s:%u", host, (unsigned) ntohs (in->sin_port));
  } else if (addr->sa_family == AF_INET6) {
    const auto *in6 = (const struct sockaddr_in6 *) addr;
    inet_ntop (AF_INET6, &in6->sin6_addr, host, sizeof (host));
    snprintf (out, sizeof (out), "[%s]:%u", host, (unsigned) ntohs (in6->sin6_port));
  } else {
    return "";
  }
  return out;
}

std::string
last_error ()
{
  const char *e = srt_getlasterror_str ();
  return e ? e : "";
}

bool
read_link_stats (SRTSOCKET s, LinkStats & out)
{
  SRT_TRACEBSTATS perf {};
  /* not cleared, so the interval counters (pktRcvRetrans) count since the
   * connection; instantaneous RTT and rates */
  if (srt_bistats (s, &perf, 0, 1) != 0)
    return false;
  out.rtt_ms = perf.msRTT;
  out.receive_rate_mbps = perf.mbpsRecvRate;
  out.bandwidth_mbps = perf.mbpsBandwidth;
  out.latency_ms = perf.msRcvTsbPdDelay > 0 ? (unsigned) perf.msRcvTsbPdDelay : 0;
  out.packets_received = perf.pktRecvTotal > 0 ? (uint64_t) perf.pktRecvTotal : 0;
  out.packets_lost = perf.pktRcvLossTotal > 0 ? (uint64_t) perf.pktRcvLossTotal : 0;
  out.packets_retransmitted = perf.pktRcvRetrans > 0 ? (uint64_t) perf.pktRcvRetrans : 0;
  out.packets_dropped = perf.pktRcvDropTotal > 0 ? (uint64_t) perf.pktRcvDropTotal : 0;
  out.packets_undecrypted = perf.pktRcvUndecryptTotal > 0 ? (uint64_t) perf.pktRcvUndecryptTotal : 0;
  out.bytes_received = perf.byteRecvTotal;
  return true;
}

}  // namespace castline::srt
