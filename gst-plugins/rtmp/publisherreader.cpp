#include "rtmp/publisherreader.h"

#include "rtmp/connectionio.h"

namespace castline::rtmp {

namespace {

constexpr size_t kReadSize = 64 * 1024;
/* the last answer before a close (an error, Unpublish.Success), at most */
constexpr unsigned kGoodbyeTimeoutS = 3;

}  // namespace

const char *
end_reason_name (EndReason reason)
{
  switch (reason) {
    case EndReason::None:
      return "none";
    case EndReason::Unpublished:
      return "unpublished";
    case EndReason::Closed:
      return "closed";
    case EndReason::Timeout:
      return "timeout";
    case EndReason::ProtocolError:
      return "protocol-error";
    case EndReason::Ended:
      return "ended";
  }
  return "none";
}

PublisherReader::PublisherReader (GIOStream * connection, Limits limits,
    unsigned idle_timeout_s)
    : connection_ (G_IO_STREAM (g_object_ref (connection))),
      session_ (std::make_unique<PublishSession> (PublishSession::Start::AfterHandshake, limits)),
      idle_timeout_s_ (idle_timeout_s), buffer_ (kReadSize, '\0')
{
  /* whoever handed the connection over checked its application */
  session_->accept_app ("");
  if (GSocket *socket = socket_of (connection_))
    g_socket_set_timeout (socket, idle_timeout_s_);
}

PublisherReader::~PublisherReader ()
{
  if (reason_ == EndReason::None)
    close_now (connection_);
  g_object_unref (connection_);
}

bool
PublisherReader::replay (GBytes * bytes, std::deque<FlvTag> & tags)
{
  if (!bytes || g_bytes_get_size (bytes) == 0)
    return true;
  gsize size = 0;
  auto *data = static_cast<const uint8_t *> (g_bytes_get_data (bytes, &size));
  session_->begin_replay ();
  bool ok = session_->feed (data, size);
  /* events while replaying (the publish in it is answered already), and
   * before an error */
  ok = take_events (tags) && ok;
  session_->end_replay ();
  if (!ok && reason_ == EndReason::None)
    finish (EndReason::ProtocolError, session_->error ());
  return ok;
}

PublisherReader::Read
PublisherReader::read (GCancellable * cancellable, std::deque<FlvTag> & tags)
{
  if (reason_ != EndReason::None)
    return Read::Ended;
  if (!send_output (cancellable))
    return reason_ == EndReason::None ? Read::Cancelled : Read::Ended;
  GError *err = nullptr;
  gssize n = g_input_stream_read (g_io_stream_get_input_stream (connection_), &buffer_[0],
      buffer_.size (), cancellable, &err);
  if (n < 0) {
    Read result = Read::Ended;
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      result = Read::Cancelled;
    else if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
      finish (EndReason::Timeout,
          "nothing from the publisher for " + std::to_string (idle_timeout_s_) + " s");
    else
      finish (EndReason::Closed, std::string ("the connection failed: ") + err->message);
    g_error_free (err);
    return result;
  }
  if (n == 0) {
    finish (EndReason::Closed, "the publisher closed the connection without unpublishing");
    return Read::Ended;
  }
  if (!session_->feed ((const uint8_t *) buffer_.data (), (size_t) n)) {
    std::string why = session_->error ();
    take_events (tags);                /* what came before the error goes out */
    send_output (nullptr);             /* the error answer, if the session made one */
    finish (EndReason::ProtocolError, why);
    return Read::Ended;
  }
  if (!take_events (tags))
    return Read::Ended;
  if (!send_output (cancellable))
    return reason_ == EndReason::None ? Read::Cancelled : Read::Ended;
  return Read::Ok;
}

bool
PublisherReader::take_events (std::deque<FlvTag> & tags)
{
  Event event;
  while (session_->next_event (event)) {
    switch (event.type) {
      case EventType::Connect:
        break;
      case EventType::Publish:
        /* a publish in the replay was answered by whoever read it; one
         * read here was vouched for by whoever handed the connection over */
        if (!session_->publishing ())
          session_->accept_publish ();
        break;
      case EventType::Metadata:
      case EventType::Media:
        tags.push_back (std::move (event.tag));
        break;
      case EventType::Unpublish:
        session_->end_publish ("Stopped publishing.");
        send_output (nullptr);
        /* publishers send FCUnpublish and deleteStream, then close: a
         * close after the first would fail the second */
        linger ();
        finish (EndReason::Unpublished, "the publisher ended the stream");
        return false;
    }
  }
  return true;
}

/* Sends what the session has to say, blocking, bounded by the socket's
 * time-out. False when it could not: cancelled (reason () None), or the
 * publisher is gone. */
bool
PublisherReader::send_output (GCancellable * cancellable)
{
  if (session_->has_output ())
    pending_output_ += session_->take_output ();
  if (pending_output_.empty () || reason_ != EndReason::None)
    return reason_ == EndReason::None;
  if (!cancellable) {
    /* a last answer: not worth waiting a whole idle-timeout for */
    if (GSocket *socket = socket_of (connection_))
      g_socket_set_timeout (socket, idle_timeout_s_ && idle_timeout_s_ < kGoodbyeTimeoutS ?
          idle_timeout_s_ : kGoodbyeTimeoutS);
  }
  gsize written = 0;
  GError *err = nullptr;
  gboolean ok = g_output_stream_write_all (g_io_stream_get_output_stream (connection_),
      pending_output_.data (), pending_output_.size (), &written, cancellable, &err);
  pending_output_.erase (0, written);
  if (ok)
    return true;
  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    finish (EndReason::Timeout, "the publisher took nothing we sent for "
        + std::to_string (idle_timeout_s_) + " s");
  else if (!g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    finish (EndReason::Closed, std::string ("the connection failed: ") + err->message);
  g_error_free (err);
  return false;
}

/* Reads and drops what the publisher still sends until it closes, for at
 * most kGoodbyeTimeoutS. */
void
PublisherReader::linger ()
{
  GSocket *socket = socket_of (connection_);
  if (!socket)
    return;
  gint64 deadline = g_get_monotonic_time () + kGoodbyeTimeoutS * G_USEC_PER_SEC;
  while (true) {
    gint64 left = deadline - g_get_monotonic_time ();
    if (left <= 0)
      return;
    g_socket_set_timeout (socket, (guint) ((left + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC));
    gssize n = g_input_stream_read (g_io_stream_get_input_stream (connection_), &buffer_[0],
        buffer_.size (), nullptr, nullptr);
    if (n <= 0)
      return;
  }
}

void
PublisherReader::end (const std::string & description)
{
  if (reason_ != EndReason::None)
    return;
  session_->end_publish (description);
  send_output (nullptr);
  if (reason_ == EndReason::None)
    close_now (connection_);
  /* ended by us, whether the answer got through or not */
  reason_ = EndReason::Ended;
  description_ = description;
}

void
PublisherReader::finish (EndReason reason, const std::string & description)
{
  if (reason_ != EndReason::None)
    return;
  reason_ = reason;
  description_ = description;
  close_now (connection_);
}

const PublishedCodecs &
PublisherReader::codecs () const
{
  return session_->codecs ();
}

bool
PublisherReader::tls () const
{
  return G_IS_TLS_CONNECTION (connection_);
}

uint64_t
PublisherReader::bytes_received () const
{
  return session_->bytes_received ();
}

}  // namespace castline::rtmp
