/* castline rtmp: the server side of the RTMP handshake.
 *
 * C0 (version 3) and C1 (1536 bytes) come in; S0 S1 S2 go out; C2 comes
 * in and is not checked (clients differ in what they put there).
 *
 * Two kinds of C1:
 *  - plain (the spec's): time, zero, random. S1 is time, zero, random; S2
 *    echoes C1. librtmp and rtmp2sink send this.
 *  - digest (Flash Player 9 and later, ffmpeg, many encoders): a nonzero
 *    version in C1[4..8] and an HMAC-SHA256 of C1 under the player key
 *    ("Genuine Adobe Flash Player 001") at a place found by either scheme:
 *    scheme 0 sums C1[8..12] (digest at sum % 728 + 12), scheme 1 sums
 *    C1[772..776] (digest at sum % 728 + 776). S1 then carries our digest
 *    under the server key ("Genuine Adobe Flash Media Server 001") by the
 *    same scheme, and S2 is random with its last 32 bytes the HMAC of the
 *    rest under the key HMAC(full server key, client digest): what FFmpeg's
 *    rtmpproto.c, nginx-rtmp and SRS do, and what a validating client
 *    checks.
 * A C1 with a nonzero version and no valid digest is answered as plain. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace castline::rtmp {

constexpr size_t kHandshakeSize = 1536;

enum class DigestScheme { None, Scheme0, Scheme1 };

/* Where the digest of a 1536-byte C1/S1 lies by `scheme` (not None). */
size_t handshake_digest_offset (const uint8_t * c1, DigestScheme scheme);

/* The scheme whose player-key digest C1 carries, or None. */
DigestScheme handshake_find_client_digest (const uint8_t * c1);

/* HMAC-SHA256 of data[0, size) under key, into out[32]. */
void handshake_hmac_sha256 (const uint8_t * key, size_t key_size, const uint8_t * data,
    size_t size, uint8_t * out);

/* The genuine player key: 62 bytes, 30 of them its text (a function, not
 * a global: the launcher and the plugin it loads both hold this engine,
 * and one global defined in both is an ODR violation to ASan). */
const uint8_t *handshake_player_key ();

/* Server side: feed C0 C1, get S0 S1 S2; then wait for C2. */
class ServerHandshake {
 public:
  enum class Status { NeedMore, Done, Error };

  /* Takes bytes from data; *consumed says how many were used (bytes after
   * C2 belong to the chunk stream). Output (S0 S1 S2) is appended to out
   * once C1 is complete. */
  Status feed (const uint8_t * data, size_t size, size_t * consumed, std::string & out);
  const std::string & error () const { return error_; }
  DigestScheme client_scheme () const { return scheme_; }

 private:
  void answer (const uint8_t * c1, std::string & out);

  std::string c0c1_;
  size_t c2_seen_ = 0;
  bool answered_ = false;
  DigestScheme scheme_ = DigestScheme::None;
  std::string error_;
};

}  // namespace castline::rtmp
