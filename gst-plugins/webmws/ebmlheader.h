/* castline: what the first message of a WebM publisher says about its
 * recording.
 *
 * Reads the EBML header (magic, DocType) at the start of a WebM/Matroska
 * byte stream and, when the same bytes hold it, the Tracks element (number,
 * type and codec of every track). webmwssrc uses it to refuse a stream that
 * is not WebM before anything goes downstream, to fix the caps, and to tell
 * whether a replacing publisher records the same tracks as the one it
 * replaces. Never reads past the given bytes: every size is checked before
 * use, whatever the input (it is fuzzed).
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace castline::webmws {

/* 1A 45 DF A3: the EBML header element's ID, the first bytes of any WebM */
inline constexpr uint8_t kEbmlMagic[4] = { 0x1A, 0x45, 0xDF, 0xA3 };

struct TrackInfo {
  uint64_t number = 0;
  uint64_t type = 0;           /* Matroska TrackType: 1 video, 2 audio... */
  std::string codec_id;        /* V_VP8, V_VP9, V_MPEG4/ISO/AVC, A_OPUS... */

  bool operator== (const TrackInfo & o) const
  {
    return number == o.number && type == o.type && codec_id == o.codec_id;
  }
  bool operator!= (const TrackInfo & o) const { return !(*this == o); }
};

enum class HeaderStatus {
  ok,                          /* a complete EBML header, DocType webm or matroska */
  not_ebml,                    /* does not start with 1A 45 DF A3 */
  truncated,                   /* the EBML header goes past the bytes given */
  malformed,                   /* sizes or IDs that no muxer writes */
  unsupported_doc_type,        /* e.g. an EBML document that is not Matroska */
};

struct HeaderInfo {
  HeaderStatus status = HeaderStatus::not_ebml;
  std::string doc_type;        /* "webm" or "matroska" when ok */
  bool tracks_known = false;   /* the bytes held a complete Tracks element */
  /* the header is ok but the bytes end before a whole Tracks element and
   * before any Cluster: the next bytes of the stream may hold the tracks */
  bool tracks_incomplete = false;
  std::vector<TrackInfo> tracks;  /* sorted by number, when tracks_known */
};

/* Reads the start of a stream (typically the publisher's first message). */
HeaderInfo read_webm_header (const uint8_t * data, size_t size);

/* "1:video:V_VP8, 2:audio:A_OPUS" for logs and close reasons */
std::string describe_tracks (const std::vector<TrackInfo> & tracks);

}  // namespace castline::webmws
