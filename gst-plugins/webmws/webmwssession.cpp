#include "webmws/webmwssession.h"

#include "webmws/trackcodecs.h"

namespace castline::webmws {

namespace {

const char *
header_problem (HeaderStatus status)
{
  switch (status) {
    case HeaderStatus::not_ebml:
      return "stream must start with a WebM/EBML header";
    case HeaderStatus::truncated:
      return "truncated EBML header: the stream's first 64 KiB must hold it whole";
    case HeaderStatus::malformed:
      return "malformed EBML header";
    case HeaderStatus::unsupported_doc_type:
      return "EBML DocType must be webm or matroska";
    case HeaderStatus::ok:
      break;
  }
  return "";
}

}  // namespace

WebmWsSession::WebmWsSession (SessionLimits limits, const HeaderInfo * replaces)
    : limits_ (limits), replacing_ (replaces != nullptr)
{
  if (replaces)
    replaced_ = *replaces;
}

SessionOutcome
WebmWsSession::refuse (uint16_t code, const std::string & reason, WarningKind kind,
    const std::string & warning)
{
  SessionOutcome out;
  out.close = CloseRequest { code, utf8_prefix (reason, 123) };
  out.warning_kind = kind;
  out.warning = warning.empty () ? reason : warning;
  closing_ = true;
  return out;
}

SessionOutcome
WebmWsSession::control_error (const std::string & reason, const std::string & type)
{
  SessionOutcome out;
  out.reply = make_error (reason, type);
  if (control_warnings_ < limits_.max_control_warnings) {
    control_warnings_++;
    out.warning_kind = WarningKind::bad_control;
    out.warning = "publisher sent a bad control message: " + reason;
    if (control_warnings_ == limits_.max_control_warnings)
      out.warning += " (further ones are only answered)";
  }
  return out;
}

SessionOutcome
WebmWsSession::on_binary (GBytes * message)
{
  if (closing_)
    return {};
  gsize size = 0;
  const auto *data = static_cast<const uint8_t *> (g_bytes_get_data (message, &size));
  messages_++;
  if (size == 0)
    return {};
  if (size > limits_.max_message_size) {
    return refuse (close_code::too_big, "message too big",
        WarningKind::too_big, "publisher sent a message of " + std::to_string (size)
        + " bytes, more than max-message-size (" + std::to_string (limits_.max_message_size)
        + ")");
  }

  SessionOutcome out;
  g_autoptr (GBytes) joined = nullptr;
  if (!started_) {
    if (!held_.empty ()) {
      held_.append (reinterpret_cast<const char *> (data), size);
      joined = g_bytes_new (held_.data (), held_.size ());
      held_.clear ();
      data = static_cast<const uint8_t *> (g_bytes_get_data (joined, &size));
      message = joined;
    }
    header_ = read_webm_header (data, size);
    bool header_cut = header_.status == HeaderStatus::truncated
        || (header_.status == HeaderStatus::ok && header_.tracks_incomplete);
    if (header_cut && size < kMaxHeldHeader) {
      held_.assign (reinterpret_cast<const char *> (data), size);
      return out;                  /* the rest of the header (or its tracks) comes next */
    }
    if (header_.status != HeaderStatus::ok) {
      std::string reason = header_problem (header_.status);
      std::string detail = reason;
      if (header_.status == HeaderStatus::unsupported_doc_type)
        detail += " (got '" + utf8_prefix (header_.doc_type, 40) + "')";
      return refuse (close_code::unsupported_data, reason, WarningKind::bad_stream,
          "publisher refused: " + detail);
    }
    if (replacing_ && (!replaced_.tracks_known || !header_.tracks_known
            || replaced_.tracks != header_.tracks)) {
      std::string before = replaced_.tracks_known ? describe_tracks (replaced_.tracks) : "unknown";
      std::string now = header_.tracks_known ? describe_tracks (header_.tracks) : "unknown";
      return refuse (close_code::policy_violation,
          "recording differs from the one it replaces; the stream has ended",
          WarningKind::replacement_differs,
          "replacing publisher records other tracks (" + now + ") than the stream ("
          + before + "): the stream ends here");
    }
    /* the header says what the recording holds; a mimeType is a claim */
    if (header_.tracks_known && !mime_.media_type.empty ()) {
      std::string wrong = mime_type_contradiction (mime_, header_.tracks);
      if (!wrong.empty ())
        return refuse (close_code::unsupported_data, wrong, WarningKind::bad_stream,
            "publisher refused: " + wrong + " (" + describe_tracks (header_.tracks) + ")");
    }
    started_ = true;
    out.first_chunk = true;
  }
  bytes_ += size;
  out.chunk = std::shared_ptr<GBytes> (g_bytes_ref (message), g_bytes_unref);
  return out;
}

SessionOutcome
WebmWsSession::declare_mime_type (const std::string & mime_type)
{
  if (closing_)
    return {};
  if (started_)
    return control_error ("start must come before the first WebM data", "start");
  MimeType parsed;
  std::string error;
  if (!parse_mime_type (mime_type, parsed, error))
    return refuse (close_code::unsupported_data, "unsupported mimeType",
        WarningKind::bad_stream, "publisher refused: " + error);
  mime_ = parsed;
  return {};
}

SessionOutcome
WebmWsSession::on_text (const char *text, size_t len)
{
  if (closing_)
    return {};
  messages_++;
  if (len > limits_.max_control_size)
    return control_error ("control message too long (" + std::to_string (len)
        + " bytes, at most " + std::to_string (limits_.max_control_size) + ")", "");
  /* libsoup only delivers valid UTF-8; the fuzz target does not */
  if (!g_utf8_validate (text, (gssize) len, nullptr))
    return control_error ("control message is not UTF-8 text", "");

  ControlMessage m = parse_control_message (text, len);
  switch (m.kind) {
    case ControlKind::malformed:
      return control_error ("malformed control message: " + utf8_prefix (m.error, 200), "");
    case ControlKind::unknown:
      return control_error ("unknown message type '" + utf8_prefix (m.type, 64) + "'",
          utf8_prefix (m.type, 64));
    case ControlKind::ping: {
      SessionOutcome out;
      out.reply = make_pong (m, bytes_);
      return out;
    }
    case ControlKind::start:
      if (m.has_mime_type && m.mime_type.empty ())
        return control_error ("mimeType must be a non-empty string", m.type);
      if (!m.has_mime_type) {
        if (started_)
          return control_error ("start must come before the first WebM data", m.type);
        return {};
      }
      return declare_mime_type (m.mime_type);
    case ControlKind::stop_stream: {
      SessionOutcome out;
      if (!started_ && !held_.empty () && header_.status == HeaderStatus::ok) {
        /* a whole header still waiting for its tracks: it is the recording */
        started_ = true;
        out.first_chunk = true;
        bytes_ += held_.size ();
        out.chunk = std::shared_ptr<GBytes> (g_bytes_new (held_.data (), held_.size ()),
            g_bytes_unref);
        held_.clear ();
      }
      out.close = CloseRequest { close_code::normal, "stream stopped" };
      out.end_of_stream = true;
      closing_ = true;
      return out;
    }
  }
  return {};
}

}  // namespace castline::webmws
