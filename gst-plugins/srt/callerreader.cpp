/* castline srt: srtserversrc's reading of its one caller (callerreader.h). */
#include "srt/callerreader.h"

#include <algorithm>

namespace castline::srt {

/* SRT_LIVE_MAX_PLSIZE: no live message is larger */
static constexpr size_t kMaxMessage = 1456;

const char *
caller_end_name (CallerEnd end)
{
  switch (end) {
    case CallerEnd::closed:
      return "closed";
    case CallerEnd::timeout:
      return "timeout";
    case CallerEnd::not_ts:
      return "not-ts";
    case CallerEnd::ended:
      return "ended";
    case CallerEnd::none:
      break;
  }
  return "";
}

CallerReader::CallerReader (SrtSocket socket, unsigned idle_timeout_s)
    : socket_ (std::move (socket)), idle_timeout_us_ ((gint64) idle_timeout_s * G_USEC_PER_SEC),
      last_data_us_ (g_get_monotonic_time ())
{
  bool no = false;
  int len = sizeof (peer_idle_ms_);
  srt_getsockflag (socket_.get (), SRTO_PEERIDLETIMEO, &peer_idle_ms_, &len);
  len = sizeof (latency_ms_);
  srt_getsockflag (socket_.get (), SRTO_RCVLATENCY, &latency_ms_, &len);
  if (srt_setsockflag (socket_.get (), SRTO_RCVSYN, &no, sizeof (no)) != 0) {
    finish (CallerEnd::closed, "the caller's socket is unusable: " + last_error ());
    return;
  }
  epoll_ = srt_epoll_create ();
  int events = SRT_EPOLL_IN | SRT_EPOLL_ERR;
  if (epoll_ < 0 || srt_epoll_add_usock (epoll_, socket_.get (), &events) != 0) {
    finish (CallerEnd::closed, "the caller's socket cannot be polled: " + last_error ());
    if (epoll_ >= 0)
      srt_epoll_release (epoll_);
    epoll_ = -1;
  }
}

CallerReader::~CallerReader ()
{
  if (epoll_ >= 0)
    srt_epoll_release (epoll_);
}

void
CallerReader::finish (CallerEnd end, std::string description)
{
  if (end_ != CallerEnd::none)
    return;
  end_ = end;
  description_ = std::move (description);
  if (epoll_ >= 0)
    srt_epoll_remove_usock (epoll_, socket_.get ());
  socket_.reset ();
}

bool
CallerReader::push (const uint8_t *data, size_t size, std::vector<uint8_t> & out)
{
  bytes_ += size;
  last_data_us_ = g_get_monotonic_time ();
  if (handoff_.push (data, size, out) == TsHandoff::Result::not_ts) {
    finish (CallerEnd::not_ts, "no MPEG-TS sync in the first "
        + std::to_string (handoff_.dropped_bytes ()) + " bytes: the caller does not send MPEG-TS");
    return false;
  }
  return true;
}

bool
CallerReader::replay (GBytes *replay, std::vector<uint8_t> & out)
{
  if (end_ != CallerEnd::none)
    return false;
  if (!replay || g_bytes_get_size (replay) == 0)
    return true;
  gsize size = 0;
  auto *data = (const uint8_t *) g_bytes_get_data (replay, &size);
  return push (data, size, out);
}

/* The link is gone: closed by the caller, or timed out by libsrt after
 * SRTO_PEERIDLETIMEO without a packet (see the header). Payload reaches us
 * latency_ms after it arrived, so a silence that long counts from then. */
CallerEnd
CallerReader::broken_reason (std::string & description) const
{
  gint64 silent_ms = (g_get_monotonic_time () - last_data_us_) / 1000;
  if (silent_ms + latency_ms_ + 250 >= peer_idle_ms_) {
    description = "nothing from the caller for " + std::to_string (silent_ms)
        + " ms: the link timed out (SRTO_PEERIDLETIMEO " + std::to_string (peer_idle_ms_) + " ms)";
    return CallerEnd::timeout;
  }
  description = "the caller closed the link (" + last_error () + ")";
  return CallerEnd::closed;
}

CallerReader::Read
CallerReader::read (int slice_ms, size_t max_bytes, std::vector<uint8_t> & out)
{
  if (end_ != CallerEnd::none)
    return Read::ended;
  SRT_EPOLL_EVENT event;
  int n = srt_epoll_uwait (epoll_, &event, 1, slice_ms);
  if (n < 0 && srt_getlasterror (nullptr) != SRT_ETIMEOUT) {
    finish (CallerEnd::closed, "polling the caller failed: " + last_error ());
    return Read::ended;
  }
  size_t before = out.size ();
  if (n > 0) {
    uint8_t message[kMaxMessage];
    while (out.size () < max_bytes) {
      int got = srt_recvmsg (socket_.get (), (char *) message, sizeof (message));
      if (got > 0) {
        if (!push (message, got, out))
          return Read::ended;
        continue;
      }
      if (got == SRT_ERROR && srt_getlasterror (nullptr) == SRT_EASYNCRCV)
        break;                         /* drained */
      std::string description;
      CallerEnd why = broken_reason (description);
      finish (why, description);
      /* the packets of the messages read before the break still go out */
      return out.size () > before ? Read::data : Read::ended;
    }
  }
  if (out.size () > before)
    return Read::data;
  if (idle_timeout_us_ > 0 && g_get_monotonic_time () - last_data_us_ >= idle_timeout_us_) {
    finish (CallerEnd::timeout, "nothing from the caller for "
        + std::to_string (idle_timeout_us_ / G_USEC_PER_SEC) + " s (idle-timeout)");
    return Read::ended;
  }
  return Read::nothing;
}

void
CallerReader::end (const std::string & description)
{
  finish (CallerEnd::ended, description);
}

}  // namespace castline::srt
