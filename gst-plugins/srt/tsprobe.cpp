/* castline srt: codecs from an MPEG-TS's PAT and PMT (tsprobe.h).
 *
 * ISO/IEC 13818-1: 2.4.3.2 (the packet header), 2.4.4 (PSI: pointer
 * field, section header, PAT, PMT), Annex A (the CRC32 a whole section
 * sums to zero under). Continuity counters are not checked: a lost packet
 * inside a section breaks its CRC, and the section is waited for again. */
#include "srt/tsprobe.h"

#include "srt/tshandoff.h"

#include <algorithm>
#include <array>

namespace castline::srt {

namespace {

constexpr size_t kMaxSection = 1024;     /* 3 + section_length's 1021 */
constexpr uint16_t kPatPid = 0;
constexpr uint8_t kPatTable = 0x00, kPmtTable = 0x02;
constexpr uint8_t kRegistrationDescriptor = 0x05;

std::array<uint32_t, 256>
make_crc_table ()
{
  std::array<uint32_t, 256> t {};
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i << 24;
    for (int k = 0; k < 8; k++)
      c = (c & 0x80000000u) ? (c << 1) ^ 0x04c11db7u : c << 1;
    t[i] = c;
  }
  return t;
}

size_t
section_total (const std::vector<uint8_t> & s)
{
  return 3 + (((size_t) (s[1] & 0x0f) << 8) | s[2]);
}

struct Codec {
  const char *name;
  bool video;
};

/* The codec an elementary stream of the PMT carries; name nullptr: skipped */
Codec
codec_of (uint8_t stream_type, const uint8_t *descriptors, size_t size)
{
  /* the registration descriptor's format identifier, if any */
  uint32_t format = 0;
  for (size_t i = 0; i + 2 <= size;) {
    uint8_t tag = descriptors[i], len = descriptors[i + 1];
    if (i + 2 + len > size)
      break;
    if (tag == kRegistrationDescriptor && len >= 4 && !format) {
      const uint8_t *f = descriptors + i + 2;
      format = ((uint32_t) f[0] << 24) | ((uint32_t) f[1] << 16) | ((uint32_t) f[2] << 8) | f[3];
    }
    i += 2 + len;
  }
  constexpr uint32_t kOpus = 0x4f707573, kAv01 = 0x41563031, kAc3 = 0x41432d33;

  switch (stream_type) {
    case 0x01: case 0x02: return { "mpeg2", true };
    case 0x03: case 0x04: return { "mp3", false };
    case 0x0f: return { "aac", false };
    case 0x11: return { "aac-latm", false };
    case 0x1b: return { "h264", true };
    case 0x24: return { "h265", true };
    case 0x81: return { "ac3", false };
    default: break;
  }
  if (format == kAc3)
    return { "ac3", false };
  if (stream_type == 0x06 && format == kOpus)
    return { "opus", false };
  if (stream_type == 0x06 && format == kAv01)
    return { "av1", true };
  return { nullptr, false };
}

}  // namespace

/* not reflected, initial all ones, no final xor */
uint32_t
mpeg_crc32 (const uint8_t *data, size_t size)
{
  static const std::array<uint32_t, 256> table = make_crc_table ();
  uint32_t crc = 0xffffffffu;
  for (size_t i = 0; i < size; i++)
    crc = (crc << 8) ^ table[((crc >> 24) ^ data[i]) & 0xff];
  return crc;
}

void
TsProbe::push (const uint8_t *packets, size_t size)
{
  for (size_t off = 0; !done_ && off + kTsPacketSize <= size; off += kTsPacketSize)
    on_packet (packets + off);
  if (done_)
    sections_.clear ();
}

void
TsProbe::on_packet (const uint8_t *p)
{
  if (p[0] != 0x47 || (p[1] & 0x80))   /* not a packet, or a transport error */
    return;
  uint16_t pid = ((uint16_t) (p[1] & 0x1f) << 8) | p[2];
  if (pid != kPatPid && (pmt_pid_ < 0 || pid != pmt_pid_))
    return;
  bool unit_start = p[1] & 0x40;
  uint8_t adaptation = (p[3] >> 4) & 0x3;
  if (!(adaptation & 0x1))             /* no payload */
    return;
  size_t off = 4;
  if (adaptation & 0x2)
    off += 1 + (size_t) p[4];
  if (off >= kTsPacketSize)
    return;
  const uint8_t *payload = p + off;
  size_t left = kTsPacketSize - off;

  Section & s = sections_[pid];
  /* what ends the section under way (before a new one starts) */
  size_t cont = left;
  if (unit_start) {
    size_t pointer = payload[0];
    payload++;
    left--;
    cont = pointer <= left ? pointer : left;
  }

  auto feed = [&] (const uint8_t *data, size_t count) {
    /* appends to the section under way; reads it when whole. Returns the
     * bytes used. */
    size_t used = 0;
    while (s.started && used < count) {
      size_t want;
      if (s.data.size () < 3) {
        want = 3 - s.data.size ();
      } else {
        size_t total = section_total (s.data);
        if (total > kMaxSection) {   /* not PSI: the rest of the packet goes */
          s = Section ();
          used = count;
          break;
        }
        want = total - s.data.size ();
      }
      size_t take = std::min (want, count - used);
      s.data.insert (s.data.end (), data + used, data + used + take);
      used += take;
      if (s.data.size () >= 3 && s.data.size () == section_total (s.data)) {
        std::vector<uint8_t> whole;
        whole.swap (s.data);
        s = Section ();
        on_section (pid, whole);
        break;
      }
    }
    return used;
  };

  if (s.started)
    feed (payload, cont);
  if (!unit_start || done_)
    return;
  if (cont > left)
    return;
  /* sections starting in this packet, one after the other, until stuffing */
  size_t at = cont;
  while (!done_ && at < left && payload[at] != 0xff) {
    s = Section ();
    s.started = true;
    size_t used = feed (payload + at, left - at);
    if (s.started)                     /* goes on in the next packet */
      return;
    at += used;
  }
}

void
TsProbe::on_section (uint16_t pid, const std::vector<uint8_t> & section)
{
  size_t total = section.size ();
  /* the long form (syntax indicator), current, room for its header and CRC */
  if (total < 12 || !(section[1] & 0x80) || !(section[5] & 0x01))
    return;
  if (mpeg_crc32 (section.data (), total) != 0)
    return;
  size_t end = total - 4;

  if (pid == kPatPid) {
    if (section[0] != kPatTable || pmt_pid_ >= 0)
      return;
    for (size_t i = 8; i + 4 <= end; i += 4) {
      uint16_t program = ((uint16_t) section[i] << 8) | section[i + 1];
      uint16_t map_pid = ((uint16_t) (section[i + 2] & 0x1f) << 8) | section[i + 3];
      if (program == 0)                /* the network PID */
        continue;
      if (map_pid == kPatPid || map_pid == 0x1fff)
        return;
      pmt_pid_ = map_pid;
      return;
    }
    return;
  }

  if ((int) pid != pmt_pid_ || section[0] != kPmtTable)
    return;
  size_t program_info = ((size_t) (section[10] & 0x0f) << 8) | section[11];
  size_t i = 12 + program_info;
  if (i > end)
    return;
  std::string video, audio;
  while (i + 5 <= end) {
    uint8_t stream_type = section[i];
    size_t es_info = ((size_t) (section[i + 3] & 0x0f) << 8) | section[i + 4];
    if (i + 5 + es_info > end)
      return;                          /* a PMT that lies about its sizes */
    Codec c = codec_of (stream_type, section.data () + i + 5, es_info);
    if (c.name && c.video && video.empty ())
      video = c.name;
    else if (c.name && !c.video && audio.empty ())
      audio = c.name;
    i += 5 + es_info;
  }
  video_ = std::move (video);
  audio_ = std::move (audio);
  done_ = true;                        /* push () frees the sections */
}

}  // namespace castline::srt
