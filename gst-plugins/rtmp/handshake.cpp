#include "rtmp/handshake.h"

#include <glib.h>

#include <algorithm>
#include <cstring>

namespace castline::rtmp {

namespace {

constexpr size_t kDigestSize = 32;
constexpr size_t kPlayerKeyText = 30;
constexpr size_t kServerKeyText = 36;
constexpr uint8_t kRtmpVersion = 3;
/* what nginx-rtmp and SRS put in S1's version field when they sign it */
constexpr uint8_t kServerVersion[4] = {0x0d, 0x0e, 0x0a, 0x0d};

/* HMAC of a 1536-byte packet without the 32 bytes at `gap` */
void
packet_digest (const uint8_t * packet, size_t gap, const uint8_t * key, size_t key_size,
    uint8_t * out)
{
  g_autoptr (GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, key, key_size);
  g_hmac_update (hmac, packet, gap);
  g_hmac_update (hmac, packet + gap + kDigestSize, kHandshakeSize - gap - kDigestSize);
  gsize len = kDigestSize;
  g_hmac_get_digest (hmac, out, &len);
}

void
fill_random (uint8_t * p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t) g_random_int_range (0, 256);
}

}  // namespace

static const uint8_t kPlayerKey[62] = {
  'G', 'e', 'n', 'u', 'i', 'n', 'e', ' ', 'A', 'd', 'o', 'b', 'e', ' ', 'F', 'l', 'a', 's',
  'h', ' ', 'P', 'l', 'a', 'y', 'e', 'r', ' ', '0', '0', '1',
  0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0, 0xd1, 0x02, 0x9e, 0x7e, 0x57,
  0x6e, 0xec, 0x5d, 0x2d, 0x29, 0x80, 0x6f, 0xab, 0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
};

static const uint8_t kServerKey[68] = {
  'G', 'e', 'n', 'u', 'i', 'n', 'e', ' ', 'A', 'd', 'o', 'b', 'e', ' ', 'F', 'l', 'a', 's',
  'h', ' ', 'M', 'e', 'd', 'i', 'a', ' ', 'S', 'e', 'r', 'v', 'e', 'r', ' ', '0', '0', '1',
  0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0, 0xd1, 0x02, 0x9e, 0x7e, 0x57,
  0x6e, 0xec, 0x5d, 0x2d, 0x29, 0x80, 0x6f, 0xab, 0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
};

const uint8_t *
handshake_player_key ()
{
  return kPlayerKey;
}

size_t
handshake_digest_offset (const uint8_t * c1, DigestScheme scheme)
{
  size_t base = scheme == DigestScheme::Scheme1 ? 772 : 8;
  size_t sum = (size_t) c1[base] + c1[base + 1] + c1[base + 2] + c1[base + 3];
  return sum % 728 + base + 4;
}

void
handshake_hmac_sha256 (const uint8_t * key, size_t key_size, const uint8_t * data, size_t size,
    uint8_t * out)
{
  g_autoptr (GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, key, key_size);
  g_hmac_update (hmac, data, size);
  gsize len = kDigestSize;
  g_hmac_get_digest (hmac, out, &len);
}

DigestScheme
handshake_find_client_digest (const uint8_t * c1)
{
  if (c1[4] == 0 && c1[5] == 0 && c1[6] == 0 && c1[7] == 0)
    return DigestScheme::None;
  for (DigestScheme s : {DigestScheme::Scheme0, DigestScheme::Scheme1}) {
    size_t at = handshake_digest_offset (c1, s);
    uint8_t digest[kDigestSize];
    packet_digest (c1, at, kPlayerKey, kPlayerKeyText, digest);
    if (memcmp (digest, c1 + at, kDigestSize) == 0)
      return s;
  }
  return DigestScheme::None;
}

void
ServerHandshake::answer (const uint8_t * c1, std::string & out)
{
  scheme_ = handshake_find_client_digest (c1);

  uint8_t s1[kHandshakeSize];
  fill_random (s1, kHandshakeSize);
  memset (s1, 0, 4);  /* time: ours starts at 0 */
  if (scheme_ == DigestScheme::None) {
    memset (s1 + 4, 0, 4);
  } else {
    memcpy (s1 + 4, kServerVersion, 4);
    size_t at = handshake_digest_offset (s1, scheme_);
    packet_digest (s1, at, kServerKey, kServerKeyText, s1 + at);
  }

  uint8_t s2[kHandshakeSize];
  if (scheme_ == DigestScheme::None) {
    memcpy (s2, c1, kHandshakeSize);
  } else {
    fill_random (s2, kHandshakeSize);
    uint8_t key[kDigestSize];
    handshake_hmac_sha256 (kServerKey, sizeof kServerKey,
        c1 + handshake_digest_offset (c1, scheme_), kDigestSize, key);
    handshake_hmac_sha256 (key, kDigestSize, s2, kHandshakeSize - kDigestSize,
        s2 + kHandshakeSize - kDigestSize);
  }

  out.push_back ((char) kRtmpVersion);
  out.append ((const char *) s1, kHandshakeSize);
  out.append ((const char *) s2, kHandshakeSize);
}

ServerHandshake::Status
ServerHandshake::feed (const uint8_t * data, size_t size, size_t * consumed, std::string & out)
{
  *consumed = 0;
  if (!error_.empty ())
    return Status::Error;
  if (!answered_) {
    size_t take = std::min (size, 1 + kHandshakeSize - c0c1_.size ());
    c0c1_.append ((const char *) data, take);
    *consumed += take;
    if (!c0c1_.empty () && (uint8_t) c0c1_[0] != kRtmpVersion) {
      /* 6 is RTMPE (encrypted), which castline does not offer */
      error_ = "unsupported RTMP version " + std::to_string ((uint8_t) c0c1_[0])
          + " in the handshake";
      return Status::Error;
    }
    if (c0c1_.size () < 1 + kHandshakeSize)
      return Status::NeedMore;
    answer ((const uint8_t *) c0c1_.data () + 1, out);
    answered_ = true;
    c0c1_.clear ();
    c0c1_.shrink_to_fit ();
    data += take;
    size -= take;
  }
  size_t take = std::min (size, kHandshakeSize - c2_seen_);
  c2_seen_ += take;
  *consumed += take;
  return c2_seen_ == kHandshakeSize ? Status::Done : Status::NeedMore;
}

}  // namespace castline::rtmp
