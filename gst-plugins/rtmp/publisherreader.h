/* castline rtmp: rtmpserversrc's streaming-thread side of one publisher.
 *
 * It owns the connection handed to the element (past its handshake) and a
 * PublishSession that first replays what was read from it already, then
 * reads on: blocking reads, each bounded by the socket's time-out (the
 * element's idle-timeout) and interrupted by a GCancellable; the session's
 * answers written back, bounded the same way. Media becomes FLV tags.
 * Not thread-safe: the streaming thread alone uses it. */
#pragma once

#include "rtmp/rtmpsession.h"

#include <gio/gio.h>

#include <deque>
#include <memory>
#include <string>

namespace castline::rtmp {

/* Why a publisher is gone: the `reason` of the element's
 * rtmpserversrc-publisher-disconnected message. */
enum class EndReason {
  None,
  Unpublished,     /* "unpublished": FCUnpublish / deleteStream / closeStream */
  Closed,          /* "closed": the connection dropped without it */
  Timeout,         /* "timeout": nothing for idle-timeout */
  ProtocolError,   /* "protocol-error": it broke the protocol or a limit */
  Ended,           /* "ended": end-publisher */
};
const char *end_reason_name (EndReason reason);

class PublisherReader {
 public:
  /* Takes a reference to connection. idle_timeout_s 0: reads wait for ever. */
  PublisherReader (GIOStream * connection, Limits limits, unsigned idle_timeout_s);
  ~PublisherReader ();                 /* closes the connection */
  PublisherReader (const PublisherReader &) = delete;
  PublisherReader & operator= (const PublisherReader &) = delete;

  /* Replays what was read before the hand-over (nullptr: nothing), its
   * tags appended to `tags`. False when it ends the publisher (a protocol
   * error: reason (), description ()). */
  bool replay (GBytes * bytes, std::deque<FlvTag> & tags);

  enum class Read { Ok, Cancelled, Ended };
  /* One blocking read; its tags appended to `tags`. Ended: the publisher
   * is gone (reason (), description ()) and the connection closed. */
  Read read (GCancellable * cancellable, std::deque<FlvTag> & tags);

  /* end-publisher: onStatus NetStream.Unpublish.Success (description),
   * then the close; reason () becomes Ended. */
  void end (const std::string & description);

  const PublishedCodecs & codecs () const;
  EndReason reason () const { return reason_; }
  const std::string & description () const { return description_; }
  bool tls () const;
  uint64_t bytes_received () const;

 private:
  bool take_events (std::deque<FlvTag> & tags);
  bool send_output (GCancellable * cancellable);
  void linger ();
  void finish (EndReason reason, const std::string & description);

  GIOStream *connection_;
  std::unique_ptr<PublishSession> session_;
  unsigned idle_timeout_s_;
  std::string pending_output_;
  std::string buffer_;
  EndReason reason_ = EndReason::None;
  std::string description_;
};

}  // namespace castline::rtmp
