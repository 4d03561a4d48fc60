#include "rtmp/flvtags.h"

#include <cmath>
#include <cstring>
#include <string>

namespace castline::rtmp {

namespace {

constexpr uint8_t kVideoExHeader = 0x80;  /* Enhanced RTMP: IsExHeader */
constexpr uint8_t kAudioExHeader = 9;     /* Enhanced RTMP v2: SoundFormat 9 */
constexpr uint8_t kAvcCodecId = 7;
constexpr uint8_t kHevcCodecId = 12;
constexpr uint8_t kAacSoundFormat = 10;

std::string
video_codec_id (unsigned id)
{
  switch (id) {
    case 2: return "h263";
    case 3: return "screen";
    case 4: case 5: return "vp6";
    case 6: return "screen2";
    case 7: return "h264";
    case 12: return "hevc";
    default: return "";
  }
}

std::string
audio_sound_format (unsigned format)
{
  switch (format) {
    case 0: case 3: return "pcm";
    case 1: return "adpcm";
    case 2: case 14: return "mp3";
    case 4: case 5: case 6: return "nellymoser";
    case 7: return "pcma";
    case 8: return "pcmu";
    case 10: return "aac";
    case 11: return "speex";
    case 13: return "opus";
    default: return "";
  }
}

std::string
fourcc_at (const uint8_t * p)
{
  return std::string ((const char *) p, 4);
}

void
put_u24be (uint8_t * p, uint32_t v)
{
  p[0] = (uint8_t) (v >> 16);
  p[1] = (uint8_t) (v >> 8);
  p[2] = (uint8_t) v;
}

void
put_u32be (uint8_t * p, uint32_t v)
{
  p[0] = (uint8_t) (v >> 24);
  put_u24be (p + 1, v);
}

std::string
fourcc_of_number (double id)
{
  uint32_t v = (uint32_t) id;
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8)
    s.push_back ((char) ((v >> shift) & 0xff));
  return s;
}

/* a legacy id (0-255) by `legacy`, else a FourCC as a number */
std::string
codec_from_id (double id, std::string (*legacy) (unsigned))
{
  if (!std::isfinite (id) || id < 0 || id > 4294967295.0)
    return "";
  if (id > 255)
    return flv_codec_from_fourcc (fourcc_of_number (id));
  return legacy ((unsigned) id);
}

}  // namespace

FlvTag::FlvTag (FlvTag && o) noexcept
    : type (o.type), timestamp (o.timestamp), body (o.body)
{
  o.body = nullptr;
}

FlvTag &
FlvTag::operator= (FlvTag && o) noexcept
{
  if (this != &o) {
    if (body)
      g_bytes_unref (body);
    type = o.type;
    timestamp = o.timestamp;
    body = o.body;
    o.body = nullptr;
  }
  return *this;
}

FlvTag::~FlvTag ()
{
  if (body)
    g_bytes_unref (body);
}

GBytes *
flv_header (bool has_audio, bool has_video)
{
  uint8_t h[13] = {'F', 'L', 'V', 1, 0, 0, 0, 0, 9, 0, 0, 0, 0};
  h[4] = (uint8_t) ((has_audio ? 4 : 0) | (has_video ? 1 : 0));
  return g_bytes_new (h, sizeof h);
}

GBytes *
flv_tag (const FlvTag & tag)
{
  gsize size = 0;
  const uint8_t *body = tag.body ? (const uint8_t *) g_bytes_get_data (tag.body, &size) : nullptr;
  /* a DataSize field is 24 bits; RTMP message lengths are too */
  if (size > 0xffffff)
    size = 0xffffff;
  gsize total = 11 + size + 4;
  auto *p = (uint8_t *) g_malloc (total);
  p[0] = tag.type;
  put_u24be (p + 1, (uint32_t) size);
  put_u24be (p + 4, tag.timestamp & 0xffffff);
  p[7] = (uint8_t) (tag.timestamp >> 24);  /* TimestampExtended */
  put_u24be (p + 8, 0);                    /* StreamID */
  if (size)
    memcpy (p + 11, body, size);
  put_u32be (p + 11 + size, (uint32_t) (11 + size));
  return g_bytes_new_take (p, total);
}

std::string
flv_codec_from_fourcc (const std::string & fourcc)
{
  static const struct { const char *fourcc, *name; } map[] = {
    {"avc1", "h264"}, {"hvc1", "hevc"}, {"hev1", "hevc"}, {"av01", "av1"}, {"vp09", "vp9"},
    {"vp08", "vp8"}, {"mp4a", "aac"}, {"Opus", "opus"}, {".mp3", "mp3"}, {"ac-3", "ac3"},
    {"ec-3", "eac3"}, {"fLaC", "flac"},
  };
  for (const auto & m : map)
    if (fourcc == m.fourcc)
      return m.name;
  return "";
}

std::string
flv_video_codec_from_id (double id)
{
  return codec_from_id (id, video_codec_id);
}

std::string
flv_audio_codec_from_id (double id)
{
  return codec_from_id (id, audio_sound_format);
}

std::string
flv_video_codec (const uint8_t * body, size_t size)
{
  if (size == 0)
    return "";
  if (body[0] & kVideoExHeader) {
    if (size < 5)
      return "";
    return flv_codec_from_fourcc (fourcc_at (body + 1));
  }
  return video_codec_id (body[0] & 0x0f);
}

std::string
flv_audio_codec (const uint8_t * body, size_t size)
{
  if (size == 0)
    return "";
  unsigned format = body[0] >> 4;
  if (format == kAudioExHeader) {
    if (size < 5)
      return "";
    return flv_codec_from_fourcc (fourcc_at (body + 1));
  }
  return audio_sound_format (format);
}

bool
flv_is_sequence_header (uint8_t type, const uint8_t * body, size_t size)
{
  if (size < 2)
    return false;
  if (type == 9) {
    if (body[0] & kVideoExHeader)
      return (body[0] & 0x0f) == 0;  /* PacketTypeSequenceStart */
    uint8_t codec = body[0] & 0x0f;
    return (codec == kAvcCodecId || codec == kHevcCodecId) && body[1] == 0;
  }
  if (type == 8) {
    if ((body[0] >> 4) == kAudioExHeader)
      return (body[0] & 0x0f) == 0;
    return (body[0] >> 4) == kAacSoundFormat && body[1] == 0;
  }
  return false;
}

}  // namespace castline::rtmp
