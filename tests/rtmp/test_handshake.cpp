/* The server handshake: a plain C1 is echoed; a digest C1 of either scheme
 * gets S1 signed with the server key and S2 answering the client digest,
 * checked here with an HMAC-SHA256 written from its definition (RFC 2104
 * over GChecksum), not the one under test. */
#include "rtmp/handshake.h"

#include "../assertions.h"

#include <gst/check/gstcheck.h>

#include <cstring>
#include <string>

using namespace castline::rtmp;

static const std::string kKeyTail ("\xf0\xee\xc2\x4a\x80\x68\xbe\xe8\x2e\x00\xd0\xd1\x02\x9e\x7e\x57"
    "\x6e\xec\x5d\x2d\x29\x80\x6f\xab\x93\xb8\xe6\x36\xcf\xeb\x31\xae", 32);
static const std::string kPlayerText = "Genuine Adobe Flash Player 001";
static const std::string kServerText = "Genuine Adobe Flash Media Server 001";

static std::string
sha256 (const std::string & data)
{
  g_autoptr (GChecksum) c = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (c, (const guchar *) data.data (), data.size ());
  guint8 out[32];
  gsize len = sizeof out;
  g_checksum_get_digest (c, out, &len);
  return std::string ((const char *) out, len);
}

/* RFC 2104 */
static std::string
hmac (std::string key, const std::string & data)
{
  if (key.size () > 64)
    key = sha256 (key);
  key.resize (64, '\0');
  std::string ipad (key), opad (key);
  for (size_t i = 0; i < 64; i++) {
    ipad[i] ^= 0x36;
    opad[i] ^= 0x5c;
  }
  return sha256 (opad + sha256 (ipad + data));
}

/* digest place: scheme 0 sums bytes 8..11, scheme 1 bytes 772..775 */
static size_t
digest_at (const std::string & packet, int scheme)
{
  size_t base = scheme == 0 ? 8 : 772;
  unsigned sum = 0;
  for (size_t i = 0; i < 4; i++)
    sum += (uint8_t) packet[base + i];
  return sum % 728 + base + 4;
}

static std::string
without (const std::string & packet, size_t at)
{
  return packet.substr (0, at) + packet.substr (at + 32);
}

static std::string
random_packet ()
{
  std::string p (1536, '\0');
  for (auto & c : p)
    c = (char) g_random_int_range (0, 256);
  return p;
}

static std::string
digest_c1 (int scheme)
{
  std::string c1 = random_packet ();
  memcpy (&c1[4], "\x09\x00\x7c\x02", 4);  /* what ffmpeg sends */
  size_t at = digest_at (c1, scheme);
  c1.replace (at, 32, hmac (kPlayerText, without (c1, at)));
  return c1;
}

/* C0 C1 in, S0 S1 S2 out, C2 in: Done, with the bytes after C2 left */
static std::string
run (ServerHandshake & hs, const std::string & c1)
{
  std::string in = "\x03" + c1 + random_packet () + "rest";
  std::string out;
  size_t used = 0;
  fail_unless (hs.feed ((const uint8_t *) in.data (), in.size (), &used, out)
      == ServerHandshake::Status::Done);
  fail_unless_equals_int (used, in.size () - 4);
  fail_unless_equals_int (out.size (), 1 + 2 * 1536);
  fail_unless_equals_int (out[0], 3);
  return out;
}

GST_START_TEST (test_plain_c1_is_echoed)
{
  std::string c1 = random_packet ();
  memset (&c1[4], 0, 4);
  ServerHandshake hs;
  std::string out = run (hs, c1);
  fail_unless (hs.client_scheme () == DigestScheme::None);
  fail_unless (out.substr (1 + 1536) == c1, "S2 is not C1");
  /* S1: time and version zero */
  fail_unless (out.substr (1, 8) == std::string (8, '\0'));
}
GST_END_TEST;

static void
check_digest_answer (int scheme)
{
  std::string c1 = digest_c1 (scheme);
  ServerHandshake hs;
  std::string out = run (hs, c1);
  fail_unless (hs.client_scheme () == (scheme == 0 ? DigestScheme::Scheme0 : DigestScheme::Scheme1));
  std::string s1 = out.substr (1, 1536), s2 = out.substr (1 + 1536);

  /* S1 carries the server key's digest where the client's scheme says */
  size_t at = digest_at (s1, scheme);
  fail_unless (s1.substr (at, 32) == hmac (kServerText, without (s1, at)), "S1 digest");
  fail_unless (s1[4] != 0, "S1 version");

  /* S2 answers the client digest */
  size_t c1_at = digest_at (c1, scheme);
  std::string key = hmac (kServerText + kKeyTail, c1.substr (c1_at, 32));
  fail_unless (s2.substr (1504) == hmac (key, s2.substr (0, 1504)), "S2 signature");
}

GST_START_TEST (test_digest_scheme0)
{
  check_digest_answer (0);
}
GST_END_TEST;

GST_START_TEST (test_digest_scheme1)
{
  check_digest_answer (1);
}
GST_END_TEST;

GST_START_TEST (test_bad_digest_answered_plain)
{
  /* a nonzero version but no valid digest anywhere: answered as plain */
  std::string c1 = digest_c1 (0);
  c1[digest_at (c1, 0)] ^= 1;
  ServerHandshake hs;
  std::string out = run (hs, c1);
  fail_unless (hs.client_scheme () == DigestScheme::None);
  fail_unless (out.substr (1 + 1536) == c1);
}
GST_END_TEST;

GST_START_TEST (test_byte_by_byte)
{
  std::string c1 = digest_c1 (1);
  std::string in = "\x03" + c1 + random_packet ();
  ServerHandshake hs;
  std::string out;
  for (size_t i = 0; i < in.size (); i++) {
    size_t used = 0;
    auto st = hs.feed ((const uint8_t *) in.data () + i, 1, &used, out);
    fail_unless_equals_int (used, 1);
    fail_unless ((st == ServerHandshake::Status::Done) == (i == in.size () - 1));
    /* S0 S1 S2 go out as soon as C1 is whole */
    fail_unless_equals_int (out.size (), i >= 1536 ? 1 + 2 * 1536 : 0);
  }
  fail_unless (hs.client_scheme () == DigestScheme::Scheme1);
}
GST_END_TEST;

GST_START_TEST (test_wrong_version)
{
  ServerHandshake hs;
  std::string out;
  size_t used = 0;
  /* 6 asks for RTMPE; 'G' is an HTTP request on the RTMP port */
  fail_unless (hs.feed ((const uint8_t *) "\x06", 1, &used, out) == ServerHandshake::Status::Error);
  assert_has (hs.error (), "unsupported RTMP version 6");
  ServerHandshake http;
  fail_unless (http.feed ((const uint8_t *) "GET / HTTP/1.1", 14, &used, out)
      == ServerHandshake::Status::Error);
  fail_unless (out.empty ());
}
GST_END_TEST;

static Suite *
handshake_suite (void)
{
  Suite *s = suite_create ("rtmp-handshake");
  TCase *tc = tcase_create ("handshake");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_plain_c1_is_echoed);
  tcase_add_test (tc, test_digest_scheme0);
  tcase_add_test (tc, test_digest_scheme1);
  tcase_add_test (tc, test_bad_digest_answered_plain);
  tcase_add_test (tc, test_byte_by_byte);
  tcase_add_test (tc, test_wrong_version);
  return s;
}

GST_CHECK_MAIN (handshake);
