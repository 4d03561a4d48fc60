#include "webmws/ebmlheader.h"

#include <algorithm>
#include <cstring>

namespace castline::webmws {

namespace {

constexpr uint32_t kIdEbml = 0x1A45DFA3;
constexpr uint32_t kIdDocType = 0x4282;
constexpr uint32_t kIdSegment = 0x18538067;
constexpr uint32_t kIdTracks = 0x1654AE6B;
constexpr uint32_t kIdTrackEntry = 0xAE;
constexpr uint32_t kIdTrackNumber = 0xD7;
constexpr uint32_t kIdTrackType = 0x83;
constexpr uint32_t kIdCodecId = 0x86;
constexpr uint32_t kIdCluster = 0x1F43B675;

constexpr uint64_t kUnknownSize = UINT64_MAX;
/* more tracks than any recorder writes: stop reading instead */
constexpr size_t kMaxTracks = 64;
constexpr size_t kMaxCodecIdLength = 64;

enum class Read { ok, more, bad };

struct Element {
  uint32_t id = 0;
  uint64_t size = 0;           /* kUnknownSize when the stream does not say */
  size_t header = 0;           /* bytes of ID and size */
};

/* An element ID keeps its length marker: 1 to 4 bytes. */
Read
read_id (const uint8_t * p, size_t avail, uint32_t & id, size_t & len)
{
  if (avail == 0)
    return Read::more;
  uint8_t b = p[0];
  if (b & 0x80)
    len = 1;
  else if (b & 0x40)
    len = 2;
  else if (b & 0x20)
    len = 3;
  else if (b & 0x10)
    len = 4;
  else
    return Read::bad;
  if (avail < len)
    return Read::more;
  id = 0;
  for (size_t i = 0; i < len; i++)
    id = (id << 8) | p[i];
  return Read::ok;
}

/* An element size: 1 to 8 bytes, marker removed; all value bits set means
 * "unknown" (live recordings write their Segment and Clusters that way). */
Read
read_size (const uint8_t * p, size_t avail, uint64_t & size, size_t & len)
{
  if (avail == 0)
    return Read::more;
  uint8_t b = p[0];
  if (b == 0)
    return Read::bad;
  len = 1;
  uint8_t mask = 0x80;
  while (!(b & mask)) {
    mask >>= 1;
    len++;
  }
  if (avail < len)
    return Read::more;
  uint64_t value = b & (mask - 1);
  bool all_ones = value == (uint64_t) (mask - 1);
  for (size_t i = 1; i < len; i++) {
    value = (value << 8) | p[i];
    all_ones = all_ones && p[i] == 0xFF;
  }
  size = all_ones ? kUnknownSize : value;
  return Read::ok;
}

Read
read_element (const uint8_t * p, size_t avail, Element & e)
{
  size_t id_len = 0, size_len = 0;
  Read r = read_id (p, avail, e.id, id_len);
  if (r != Read::ok)
    return r;
  r = read_size (p + id_len, avail - id_len, e.size, size_len);
  if (r != Read::ok)
    return r;
  e.header = id_len + size_len;
  return Read::ok;
}

bool
read_uint (const uint8_t * p, uint64_t size, uint64_t & value)
{
  if (size > 8)
    return false;
  value = 0;
  for (uint64_t i = 0; i < size; i++)
    value = (value << 8) | p[i];
  return true;
}

std::string
read_string (const uint8_t * p, uint64_t size)
{
  std::string s (reinterpret_cast<const char *> (p), (size_t) size);
  /* EBML strings may be padded with NULs */
  size_t end = s.find ('\0');
  if (end != std::string::npos)
    s.resize (end);
  return s;
}

/* The children of a master element that lies wholly in [p, p + size). */
template <typename F>
bool
for_each_child (const uint8_t * p, uint64_t size, F && f)
{
  uint64_t pos = 0;
  while (pos < size) {
    Element e;
    if (read_element (p + pos, (size_t) (size - pos), e) != Read::ok)
      return false;
    if (e.size == kUnknownSize || e.size > size - pos - e.header)
      return false;
    if (!f (e.id, p + pos + e.header, e.size))
      return false;
    pos += e.header + e.size;
  }
  return true;
}

bool
read_tracks (const uint8_t * p, uint64_t size, std::vector<TrackInfo> & tracks)
{
  return for_each_child (p, size, [&] (uint32_t id, const uint8_t * body, uint64_t len) {
    if (id != kIdTrackEntry)
      return true;
    if (tracks.size () >= kMaxTracks)
      return false;
    TrackInfo t;
    bool ok = for_each_child (body, len, [&] (uint32_t cid, const uint8_t * v, uint64_t vlen) {
      switch (cid) {
        case kIdTrackNumber:
          return read_uint (v, vlen, t.number);
        case kIdTrackType:
          return read_uint (v, vlen, t.type);
        case kIdCodecId:
          if (vlen > kMaxCodecIdLength)
            return false;
          t.codec_id = read_string (v, vlen);
          return true;
        default:
          return true;
      }
    });
    if (!ok)
      return false;
    tracks.push_back (std::move (t));
    return true;
  });
}

/* After the EBML header: the Segment, and in it the Tracks if the bytes
 * hold them whole. Anything incomplete leaves the tracks unknown, and says
 * so when more bytes could complete them (the bytes end inside the
 * Segment's start, before its Tracks and its first Cluster). */
void
find_tracks (const uint8_t * p, size_t avail, HeaderInfo & info)
{
  Element seg;
  switch (read_element (p, avail, seg)) {
    case Read::more:
      info.tracks_incomplete = true;
      return;
    case Read::bad:
      return;
    case Read::ok:
      break;
  }
  if (seg.id != kIdSegment)
    return;
  size_t pos = seg.header;
  size_t end = avail;
  bool cut = true;             /* the bytes end before the Segment does */
  if (seg.size != kUnknownSize && seg.size <= avail - seg.header) {
    end = seg.header + (size_t) seg.size;
    cut = false;
  }
  while (pos < end) {
    Element e;
    Read r = read_element (p + pos, end - pos, e);
    if (r == Read::more)
      info.tracks_incomplete = cut;
    if (r != Read::ok || e.id == kIdCluster || e.size == kUnknownSize)
      return;
    if (e.size > end - pos - e.header) {
      info.tracks_incomplete = cut;
      return;
    }
    if (e.id == kIdTracks) {
      std::vector<TrackInfo> tracks;
      if (read_tracks (p + pos + e.header, e.size, tracks)) {
        std::sort (tracks.begin (), tracks.end (), [] (const TrackInfo & a, const TrackInfo & b) {
          return a.number < b.number;
        });
        info.tracks = std::move (tracks);
        info.tracks_known = true;
      }
      return;
    }
    pos += e.header + (size_t) e.size;
  }
  info.tracks_incomplete = cut;
}

}  // namespace

HeaderInfo
read_webm_header (const uint8_t * data, size_t size)
{
  HeaderInfo info;
  size_t magic = std::min (size, sizeof (kEbmlMagic));
  if (size == 0 || memcmp (data, kEbmlMagic, magic) != 0) {
    info.status = HeaderStatus::not_ebml;
    return info;
  }

  Element ebml;
  switch (read_element (data, size, ebml)) {
    case Read::more:
      info.status = HeaderStatus::truncated;
      return info;
    case Read::bad:
      info.status = HeaderStatus::malformed;
      return info;
    case Read::ok:
      break;
  }
  if (ebml.id != kIdEbml || ebml.size == kUnknownSize) {
    info.status = HeaderStatus::malformed;
    return info;
  }
  if (ebml.size > size - ebml.header) {
    info.status = HeaderStatus::truncated;
    return info;
  }

  /* DocType defaults to "matroska" when absent (EBML specification) */
  std::string doc_type = "matroska";
  bool ok = for_each_child (data + ebml.header, ebml.size,
      [&] (uint32_t id, const uint8_t * body, uint64_t len) {
        if (id == kIdDocType)
          doc_type = read_string (body, std::min<uint64_t> (len, 64));
        return true;
      });
  if (!ok) {
    info.status = HeaderStatus::malformed;
    return info;
  }
  info.doc_type = doc_type;
  if (doc_type != "webm" && doc_type != "matroska") {
    info.status = HeaderStatus::unsupported_doc_type;
    return info;
  }
  info.status = HeaderStatus::ok;

  size_t after = ebml.header + (size_t) ebml.size;
  find_tracks (data + after, size - after, info);
  return info;
}

std::string
describe_tracks (const std::vector<TrackInfo> & tracks)
{
  std::string s;
  for (const TrackInfo & t : tracks) {
    if (!s.empty ())
      s += ", ";
    const char *kind = t.type == 1 ? "video" : t.type == 2 ? "audio" : "other";
    s += std::to_string (t.number) + ":" + kind + ":" + t.codec_id;
  }
  return s.empty () ? "no tracks" : s;
}

}  // namespace castline::webmws
