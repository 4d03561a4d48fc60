/* castline srt: what an SRT caller's stream id asks for (srtstreamid.h).
 *
 * The Access Control form is libsrt's docs/features/access-control.md:
 * "#!::" then "key=value" pairs joined by commas. Its nested form
 * ("#!:{...}") and any other "#!" prefix are not taken (BAD_REQUEST): an
 * encoder that sends them means something a bare key cannot carry.
 * Reasons never quote the id: any part of it may be the key. */
#include "srt/srtstreamid.h"

#include <srt/access_control.h>
#include <srt/srt.h>

#include <cstring>
#include <iterator>

namespace castline::srt {

namespace {

constexpr char kAccessControlPrefix[] = "#!::";
constexpr size_t kAccessControlPrefixLength = sizeof (kAccessControlPrefix) - 1;

bool
refuse (StreamIdRefusal & refusal, int code, const char *reason)
{
  refusal.code = code;
  refusal.reason = reason;
  return false;
}

/* One "k=v" of the Access Control form into out; false with why. seen:
 * the keys read so far, as a bit each. */
bool
take_pair (const char *pair, size_t size, StreamIdRequest & out, unsigned & seen,
    bool & has_resource, StreamIdRefusal & refusal)
{
  const char *eq = (const char *) memchr (pair, '=', size);
  if (!eq)
    return refuse (refusal, SRT_REJX_BAD_REQUEST,
        "malformed stream id: an Access Control field without '='");
  std::string key (pair, eq - pair);
  std::string value (eq + 1, pair + size);

  static const char *const known[] = { "r", "m", "u", "h", "s", "t" };
  unsigned bit = 0;
  for (unsigned i = 0; i < std::size (known); i++) {
    if (key == known[i])
      bit = 1u << i;
  }
  if (!bit)
    return refuse (refusal, SRT_REJX_KEY_NOTSUP,
        "stream id: an Access Control key other than r, m, u, h, s, t");
  if (seen & bit)
    return refuse (refusal, SRT_REJX_BAD_REQUEST,
        "malformed stream id: an Access Control key given twice");
  seen |= bit;

  if (key == "r") {
    if (value.empty ())
      return refuse (refusal, SRT_REJX_BAD_REQUEST, "stream id: the resource (r=) is empty");
    out.key = std::move (value);
    has_resource = true;
  } else if (key == "m") {
    if (value == "request")
      return refuse (refusal, SRT_REJX_BAD_MODE,
          "m=request (playback) is not served: castline takes publishers only");
    if (value == "bidirectional")
      return refuse (refusal, SRT_REJX_BAD_MODE,
          "m=bidirectional is not served: castline takes publishers only");
    if (value != "publish")
      return refuse (refusal, SRT_REJX_BAD_MODE,
          "stream id: an unknown mode (m=): castline takes m=publish only");
  } else if (key == "t") {
    if (value != "stream")
      return refuse (refusal, SRT_REJX_NOTSUP_MEDIA,
          "stream id: only live streams (t=stream) are taken");
  } else if (key == "u") {
    out.user = std::move (value);
  } else if (key == "h") {
    out.host = std::move (value);
  } else {
    out.session = std::move (value);
  }
  return true;
}

}  // namespace

bool
parse_stream_id (const char *id, size_t size, StreamIdRequest & out, StreamIdRefusal & refusal)
{
  out = StreamIdRequest ();
  refusal = StreamIdRefusal ();

  if (!id || size == 0)
    return refuse (refusal, SRT_REJX_BAD_REQUEST, "no stream id: it names the stream key");
  if (size > kMaxStreamIdLength)
    return refuse (refusal, SRT_REJX_BAD_REQUEST, "stream id longer than 512 bytes");
  for (size_t i = 0; i < size; i++) {
    auto c = (unsigned char) id[i];
    if (c < 0x20 || c >= 0x7f)
      return refuse (refusal, SRT_REJX_BAD_REQUEST,
          "malformed stream id: a control or non-ASCII byte");
  }

  if (size < 2 || id[0] != '#' || id[1] != '!') {
    out.key.assign (id, size);
    return true;
  }
  if (size < kAccessControlPrefixLength
      || memcmp (id, kAccessControlPrefix, kAccessControlPrefixLength) != 0)
    return refuse (refusal, SRT_REJX_BAD_REQUEST,
        "malformed stream id: '#!' but not the \"#!::\" Access Control form");

  out.access_control = true;
  unsigned seen = 0;
  bool has_resource = false;
  const char *p = id + kAccessControlPrefixLength, *end = id + size;
  while (true) {
    const char *comma = (const char *) memchr (p, ',', end - p);
    const char *stop = comma ? comma : end;
    if (stop == p) {
      out = StreamIdRequest ();
      return refuse (refusal, SRT_REJX_BAD_REQUEST,
          "malformed stream id: an empty Access Control field");
    }
    if (!take_pair (p, stop - p, out, seen, has_resource, refusal)) {
      out = StreamIdRequest ();
      return false;
    }
    if (!comma)
      break;
    p = comma + 1;
  }
  if (!has_resource) {
    out = StreamIdRequest ();
    return refuse (refusal, SRT_REJX_BAD_REQUEST,
        "stream id: the Access Control form names no resource (r=): the stream key");
  }
  return true;
}

const char *
reject_reason_name (int code)
{
  switch (code) {
    case SRT_REJ_UNKNOWN: return "unknown";
    case SRT_REJ_SYSTEM: return "system error";
    case SRT_REJ_PEER: return "rejected by peer";
    case SRT_REJ_RESOURCE: return "resource allocation failed";
    case SRT_REJ_ROGUE: return "incorrect handshake data";
    case SRT_REJ_BACKLOG: return "listener backlog exceeded";
    case SRT_REJ_IPE: return "internal program error";
    case SRT_REJ_CLOSE: return "socket closing";
    case SRT_REJ_VERSION: return "peer too old";
    case SRT_REJ_RDVCOOKIE: return "rendezvous cookie collision";
    case SRT_REJ_BADSECRET: return "bad secret";
    case SRT_REJ_UNSECURE: return "encryption required or unexpected";
    case SRT_REJ_MESSAGEAPI: return "message API mismatch";
    case SRT_REJ_CONGESTION: return "congestion controller mismatch";
    case SRT_REJ_FILTER: return "packet filter mismatch";
    case SRT_REJ_GROUP: return "group mismatch";
    case SRT_REJ_TIMEOUT: return "timeout";
    case SRT_REJX_FALLBACK: return "rejected";
    case SRT_REJX_KEY_NOTSUP: return "key not supported";
    case SRT_REJX_FILEPATH: return "bad file path";
    case SRT_REJX_HOSTNOTFOUND: return "host not found";
    case SRT_REJX_BAD_REQUEST: return "bad request";
    case SRT_REJX_UNAUTHORIZED: return "unauthorized";
    case SRT_REJX_OVERLOAD: return "overloaded";
    case SRT_REJX_FORBIDDEN: return "forbidden";
    case SRT_REJX_NOTFOUND: return "not found";
    case SRT_REJX_BAD_MODE: return "bad mode";
    case SRT_REJX_UNACCEPTABLE: return "unacceptable";
    case SRT_REJX_CONFLICT: return "conflict";
    case SRT_REJX_NOTSUP_MEDIA: return "media type not supported";
    case SRT_REJX_LOCKED: return "locked";
    case SRT_REJX_FAILED_DEPEND: return "failed dependency";
    case SRT_REJX_ISE: return "internal server error";
    case SRT_REJX_UNIMPLEMENTED: return "not implemented";
    case SRT_REJX_GW: return "gateway error";
    case SRT_REJX_DOWN: return "service down";
    case SRT_REJX_VERSION: return "version not supported";
    case SRT_REJX_NOROOM: return "no room";
    default:
      break;
  }
  if (code >= SRT_REJC_USERDEFINED)
    return "application-defined";
  if (code >= SRT_REJC_PREDEFINED)
    return "server-defined";
  return "unknown";
}

}  // namespace castline::srt
