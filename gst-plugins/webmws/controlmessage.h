/* castline: the JSON control protocol of webmwssrc.
 *
 * Text WebSocket messages are small JSON objects with a string "type":
 *   {"type":"start","mimeType":"video/webm;codecs=vp8,opus"}  ("hello" too)
 *   {"type":"stop-stream"}
 *   {"type":"ping", ...}  answered {"type":"pong", ...the ping's other
 *                          members..., "received-bytes":N}
 * and anything else is answered {"type":"error","reason":"...",
 * "in-reply-to":"<type>"}. Parsing never trusts the input: nesting depth is
 * checked before json-glib sees the text (its parser recurses).
 */
#pragma once

#include "common/http/websocket.h"

#include <json-glib/json-glib.h>

#include <cstdint>
#include <memory>
#include <string>

namespace castline::webmws {

/* What a MediaRecorder mimeType says, e.g. "video/webm;codecs=vp8,opus". */
struct MimeType {
  std::string media_type;      /* video/webm, audio/webm, video/x-matroska or audio/x-matroska */
  std::string codecs;          /* "vp8,opus", or empty */

  std::string to_string () const
  {
    return codecs.empty () ? media_type : media_type + ";codecs=" + codecs;
  }
};

/* False, with a reason, for anything but WebM or Matroska audio/video. */
bool parse_mime_type (const std::string & text, MimeType & out, std::string & error);

/* The caps media type for a stream: video or audio from what the publisher
 * (or the element's default) says, container from the EBML DocType, since
 * that is what the bytes are ("video/webm" + "matroska" -> "video/x-matroska"). */
std::string media_type_for (const std::string & declared, const std::string & doc_type);

enum class ControlKind { start, stop_stream, ping, unknown, malformed };

struct ControlMessage {
  ControlKind kind = ControlKind::malformed;
  std::string type;            /* as sent, when it was a string */
  std::string error;           /* malformed: why */
  bool has_mime_type = false;  /* start: a "mimeType" member was present */
  std::string mime_type;
  std::shared_ptr<JsonNode> root;  /* the parsed object (ping echoes it) */
};

/* Deepest nesting of arrays and objects the parser is given. */
inline constexpr int kMaxJsonDepth = 16;

ControlMessage parse_control_message (const char *text, size_t len);

/* {"type":"pong", <the ping's members but type>, "received-bytes":N} */
std::string make_pong (const ControlMessage & ping, uint64_t received_bytes);

/* {"type":"error","reason":reason[,"in-reply-to":type]} */
std::string make_error (const std::string & reason, const std::string & in_reply_to);

/* (common/http/websocket.h) */
using castline::http::utf8_prefix;


}  // namespace castline::webmws
