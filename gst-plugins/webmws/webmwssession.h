/* castline: one WebM publisher's protocol, with no network in sight.
 *
 * A WebmWsSession takes the WebSocket messages of one publisher, in order,
 * and says what to do with each: WebM bytes to queue, a text reply, a close
 * code and reason, a warning for the application, the end of the stream.
 * webmwssrc feeds it from libsoup; unit tests and the fuzz target feed it
 * directly. It keeps the rules in one place:
 *  - binary messages carry WebM; the first must start with a complete EBML
 *    header (1A 45 DF A3 ..., DocType webm or matroska), else 1003; the
 *    first messages are held (at most kMaxHeldHeader bytes) until they
 *    hold the header and the Tracks, so that the first chunk says what the
 *    recording holds (a stop-stream meanwhile lets a whole header go as
 *    it is);
 *  - a declared mimeType is a claim the header is checked against: one
 *    that contradicts the tracks' CodecIDs (trackcodecs.h) closes 1003
 *    with a reason naming the difference;
 *  - a message over max_message_size closes 1009;
 *  - a publisher that replaces another must record the same tracks, else
 *    1008 (the demuxer downstream cannot switch tracks mid-stream);
 *  - text messages are the JSON control protocol (controlmessage.h);
 *    unknown or malformed ones get an error reply and a warning;
 *  - empty binary messages are ignored (MediaRecorder can emit empty
 *    chunks before the first frame).
 * Once a close is asked for, later messages are ignored.
 */
#pragma once

#include "webmws/controlmessage.h"
#include "webmws/ebmlheader.h"

#include <glib.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace castline::webmws {

/* WebSocket close codes webmwssrc sends (RFC 6455 7.4.1 and the IANA
 * registry). 1013 (Try Again Later) is registered after RFC 6455: browsers
 * report it as sent, but a libsoup 3.2 client takes any unlisted code under
 * 3000 for a protocol error and reports 1002. */
namespace close_code {
inline constexpr uint16_t normal = 1000;
inline constexpr uint16_t going_away = 1001;
inline constexpr uint16_t unsupported_data = 1003;
inline constexpr uint16_t abnormal = 1006;       /* never sent: no close frame came */
inline constexpr uint16_t policy_violation = 1008;
inline constexpr uint16_t too_big = 1009;
inline constexpr uint16_t try_again_later = 1013;  /* downstream too slow */
}  // namespace close_code

struct SessionLimits {
  uint64_t max_message_size = 4 * 1024 * 1024;
  size_t max_control_size = 64 * 1024;
  /* warnings about control messages per publisher; later ones are only
   * answered (a publisher must not flood the application's bus) */
  unsigned max_control_warnings = 10;
};

struct CloseRequest {
  uint16_t code = close_code::normal;
  std::string reason;          /* short ASCII, fits a close frame */
};

enum class WarningKind { none, bad_stream, too_big, bad_control, replacement_differs };

struct SessionOutcome {
  std::shared_ptr<GBytes> chunk;   /* WebM bytes for downstream */
  bool first_chunk = false;        /* the publisher's first WebM bytes */
  std::string reply;               /* text message to send back */
  std::optional<CloseRequest> close;
  WarningKind warning_kind = WarningKind::none;
  std::string warning;             /* for the application, when warning_kind != none */
  bool end_of_stream = false;      /* the publisher ended the stream (stop-stream) */
};

class WebmWsSession {
 public:
  /* how much of a stream's start is held while its EBML header is cut
   * short (a real one is about 40 bytes): past it, the stream is refused */
  static constexpr size_t kMaxHeldHeader = 64 * 1024;

  /* replaces: the header of the recording this publisher takes over from
   * (replace-publisher), or nullptr for the stream's first publisher. */
  explicit WebmWsSession (SessionLimits limits, const HeaderInfo * replaces = nullptr);

  SessionOutcome on_binary (GBytes * message);
  SessionOutcome on_text (const char *text, size_t len);
  /* The mimeType given in the URL (?mimeType=...), like a start message. */
  SessionOutcome declare_mime_type (const std::string & mime_type);

  bool started () const { return started_; }      /* first WebM bytes accepted */
  bool closing () const { return closing_; }      /* a close was asked for */
  bool replacing () const { return replacing_; }
  const MimeType & mime_type () const { return mime_; }   /* empty media_type: none given */
  const HeaderInfo & header () const { return header_; }
  uint64_t bytes () const { return bytes_; }
  uint64_t messages () const { return messages_; }

 private:
  SessionOutcome refuse (uint16_t code, const std::string & reason, WarningKind kind,
      const std::string & warning);
  SessionOutcome control_error (const std::string & reason, const std::string & type);

  const SessionLimits limits_;
  const bool replacing_;
  HeaderInfo replaced_;
  bool started_ = false;
  bool closing_ = false;
  MimeType mime_;
  HeaderInfo header_;
  /* the first messages, while they hold only part of the EBML header (a
   * recorder may send its first bytes on their own), at most
   * kMaxHeldHeader bytes */
  std::string held_;
  uint64_t bytes_ = 0;
  uint64_t messages_ = 0;
  unsigned control_warnings_ = 0;
};

}  // namespace castline::webmws
