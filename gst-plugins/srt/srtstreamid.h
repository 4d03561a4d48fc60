/* castline srt: what an SRT caller's stream id asks for. Pure (no libsrt
 * call), fuzzed (tests/fuzz/fuzz_srt.cpp).
 *
 * Two forms are taken:
 *   - the bare stream key: "k3y-abc" (what OBS's and ffmpeg's
 *     ?streamid=KEY gives, and castline's srt_url hands out);
 *   - SRT Access Control (libsrt docs/features/access-control.md), what
 *     SRS, MediaMTX and many encoders send: "#!::" then comma-separated
 *     key=value pairs, of which r (the resource: the stream key) and m
 *     (mode: "publish", the default when absent; "request" and
 *     "bidirectional" are refused with SRT_REJX_BAD_MODE) are read;
 *     u, h, s, t are allowed and kept (t other than "stream" is refused
 *     with SRT_REJX_NOTSUP_MEDIA), any other key is refused with
 *     SRT_REJX_KEY_NOTSUP. Without r, "#!::" is SRT_REJX_BAD_REQUEST.
 *
 * Refused outright (SRT_REJX_BAD_REQUEST): an empty id, one longer than
 * kMaxStreamIdLength (libsrt's own limit), one holding a byte below 0x20
 * or 0x7f and above, a repeated key in the Access Control form, an empty
 * resource. The reason is for logs and the caller: it never contains the
 * key. */
#pragma once

#include <cstddef>
#include <string>

namespace castline::srt {

/* libsrt's SRT_STREAMID_MAX (512) */
inline constexpr size_t kMaxStreamIdLength = 512;

struct StreamIdRequest {
  std::string key;              /* the stream key (secret: never logged) */
  bool access_control = false;  /* it came as "#!::" */
  std::string user;             /* u=, "" when absent */
  std::string host;             /* h=, "" when absent */
  std::string session;          /* s=, "" when absent */
};

struct StreamIdRefusal {
  int code = 0;                 /* SRT_REJX_* (access_control.h) */
  std::string reason;           /* "m=request (playback) is not served: castline takes publishers only" */
};

/* Parses id (size bytes, not NUL-terminated); false with why. */
bool parse_stream_id (const char *id, size_t size, StreamIdRequest & out,
    StreamIdRefusal & refusal);

/* A short English name of an SRT reject reason, SRT_REJ_* (libsrt's own,
 * below 1000: "bad secret", "timeout", ...) or SRT_REJX_* ("unauthorized",
 * "not found", "conflict", "overloaded", ...), for logs and tests. */
const char *reject_reason_name (int code);

}  // namespace castline::srt
