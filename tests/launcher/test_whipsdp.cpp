/* castline-launcher's WHIP ingest: the parsers of what a publisher sends
 * (the SDP offer, trickle-ICE PATCH bodies) and of the ICE server URLs,
 * without webrtcbin. */
#include "ingest/whip/iceservers.h"
#include "ingest/whip/trickleice.h"
#include "ingest/whip/whipoffer.h"

#include "../assertions.h"

#include <gst/check/gstcheck.h>

#include <string>
#include <utility>
#include <vector>

using namespace castline::launcher;
using namespace castline::launcher::whip;

using Strings = std::vector<std::string>;


static std::string
joined (const Strings & v)
{
  std::string s;
  for (auto & e : v)
    s += (s.empty () ? "" : ",") + e;
  return s;
}

/* --- offers --- */

static const char kCredentials[] =
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n";

/* an m-line of a test offer */
struct Media {
  std::string kind;                      /* "video", "audio", "application" */
  /* payload type and rtpmap encoding, e.g. { "96", "H264/90000" } */
  std::vector<std::pair<std::string, std::string>> formats;
  std::string attributes = "a=sendonly\r\n";
  bool credentials = true;               /* ICE and DTLS attributes on the m-line */
  int port = 9;
};

/* an offer as a browser makes it, m-line i with a=mid:i */
static std::string
offer (const std::vector<Media> & media, const std::string & session_attributes = "")
{
  std::string sdp = "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" + session_attributes;
  for (size_t i = 0; i < media.size (); i++) {
    const Media & m = media[i];
    std::string fmts;
    for (auto & f : m.formats)
      fmts += " " + f.first;
    if (fmts.empty ())
      fmts = m.kind == "application" ? " webrtc-datachannel" : " 0";
    sdp += "m=" + m.kind + " " + std::to_string (m.port)
        + (m.kind == "application" ? " UDP/DTLS/SCTP" : " UDP/TLS/RTP/SAVPF") + fmts
        + "\r\nc=IN IP4 0.0.0.0\r\na=mid:" + std::to_string (i) + "\r\n"
        + (m.credentials ? kCredentials : "") + "a=setup:actpass\r\n" + m.attributes;
    for (auto & f : m.formats)
      sdp += "a=rtpmap:" + f.first + " " + f.second + "\r\n";
  }
  return sdp;
}

static const Media kH264 = { "video", { { "96", "H264/90000" } } };
static const Media kOpus = { "audio", { { "111", "opus/48000/2" } } };

static OfferInfo
accepted (const std::string & sdp)
{
  OfferInfo info;
  std::string error;
  fail_unless (inspect_whip_offer (sdp, info, error), "%s:\n%s", error.c_str (), sdp.c_str ());
  return info;
}

static std::string
refused (const std::string & sdp)
{
  OfferInfo info;
  std::string error;
  fail_if (inspect_whip_offer (sdp, info, error), "accepted:\n%s", sdp.c_str ());
  fail_if (error.empty ());
  return error;
}

GST_START_TEST (test_offer_codecs_in_offer_order)
{
  Media video = { "video", { { "98", "VP9/90000" }, { "96", "H264/90000" },
      { "97", "rtx/90000" }, { "100", "vp8/90000" }, { "102", "H264/90000" },
      { "45", "AV1/90000" } } };
  Media audio = { "audio", { { "0", "PCMU/8000" }, { "111", "OPUS/48000/2" } } };
  OfferInfo info = accepted (offer ({ video, audio }));
  fail_unless (info.has_video && info.has_audio);
  /* each once, lower case, what we cannot take (rtx, AV1, PCMU) left out */
  fail_unless (info.video_codecs == (Strings { "vp9", "h264", "vp8" }), "%s",
      joined (info.video_codecs).c_str ());
  fail_unless (info.audio_codecs == Strings { "opus" }, "%s",
      joined (info.audio_codecs).c_str ());

  /* two video m-lines: their codecs together, each once */
  Media vp8 = { "video", { { "97", "VP8/90000" }, { "96", "H264/90000" } } };
  info = accepted (offer ({ kH264, vp8 }));
  fail_unless (info.video_codecs == (Strings { "h264", "vp8" }), "%s",
      joined (info.video_codecs).c_str ());
  fail_if (info.has_audio);
  fail_unless (info.audio_codecs.empty ());

  /* a codec on an m-line of the other kind is not taken */
  Media opus_as_video = { "video", { { "111", "opus/48000/2" } } };
  Media h264_as_audio = { "audio", { { "96", "H264/90000" } } };
  assert_has (refused (offer ({ opus_as_video, h264_as_audio })), "can receive");

  /* a format without its rtpmap is not guessed */
  Media no_rtpmap = kH264;
  no_rtpmap.formats = {};
  no_rtpmap.attributes += "a=rtpmap:99 H264/90000\r\n";
  assert_has (refused (offer ({ no_rtpmap })), "can receive");
}
GST_END_TEST;

GST_START_TEST (test_offer_of_one_kind)
{
  OfferInfo info;
  info.video_codecs = { "stale" };
  info.has_video = true;
  std::string error;
  fail_unless (inspect_whip_offer (offer ({ kOpus }), info, error), "%s", error.c_str ());
  fail_unless (info.has_audio && !info.has_video);
  fail_unless (info.video_codecs.empty (), "%s", joined (info.video_codecs).c_str ());

  /* video we cannot take beside Opus: audio only */
  Media av1 = { "video", { { "45", "AV1/90000" } } };
  info = accepted (offer ({ av1, kOpus }));
  fail_unless (info.has_audio && !info.has_video);
  fail_unless (info.video_codecs.empty ());

  /* H.264 the publisher only wants to receive does not count */
  Media recvonly = kH264;
  recvonly.attributes = "a=recvonly\r\n";
  info = accepted (offer ({ recvonly, kOpus }));
  fail_unless (info.has_audio && !info.has_video);
  fail_unless (info.video_codecs.empty ());
}
GST_END_TEST;

GST_START_TEST (test_offer_directions)
{
  Media h264_no_direction = kH264;
  h264_no_direction.attributes = "";
  /* none: sendrecv */
  fail_unless (accepted (offer ({ h264_no_direction })).has_video);
  /* the session's applies to an m-line without one */
  assert_has (refused (offer ({ h264_no_direction }, "a=recvonly\r\n")), "sends nothing");
  fail_unless (accepted (offer ({ h264_no_direction }, "a=sendonly\r\n")).has_video);
  /* the m-line's comes first */
  Media sendrecv = kH264;
  sendrecv.attributes = "a=sendrecv\r\n";
  fail_unless (accepted (offer ({ sendrecv }, "a=recvonly\r\n")).has_video);
  Media inactive = kH264;
  inactive.attributes = "a=inactive\r\n";
  Media opus_recvonly = kOpus;
  opus_recvonly.attributes = "a=recvonly\r\n";
  assert_has (refused (offer ({ inactive, opus_recvonly })), "sends nothing");
}
GST_END_TEST;

GST_START_TEST (test_offer_disabled_mlines)
{
  /* port 0: a rejected m-line, not audio/video to take */
  Media disabled = kH264;
  disabled.port = 0;
  Media datachannel = { "application", {}, "a=sctp-port:5000\r\n" };
  assert_has (refused (offer ({ disabled, datachannel })), "no audio or video m-line");
  OfferInfo info = accepted (offer ({ disabled, kOpus }));
  fail_unless (!info.has_video && info.video_codecs.empty ());
  /* port 0 with bundle-only: bundled, taken */
  Media bundle_only = disabled;
  bundle_only.attributes += "a=bundle-only\r\n";
  info = accepted (offer ({ kOpus, bundle_only }));
  fail_unless (info.has_video);
  fail_unless (info.video_codecs == Strings { "h264" });
}
GST_END_TEST;

GST_START_TEST (test_offer_credentials)
{
  /* at session level for every m-line */
  Media bare_h264 = kH264, bare_opus = kOpus;
  bare_h264.credentials = bare_opus.credentials = false;
  fail_unless (accepted (offer ({ bare_h264, bare_opus }, kCredentials)).has_audio);

  /* missing on one m-line: that one is named */
  std::string error = refused (offer ({ kH264, bare_opus }));
  assert_has (error, "m-line 1 (audio)");
  assert_has (error, "ice-ufrag");

  std::string no_ufrag = offer ({ kH264 });
  no_ufrag.erase (no_ufrag.find ("a=ice-ufrag:abcd\r\n"), 18);
  assert_has (refused (no_ufrag), "ice-ufrag");

  /* an empty value is none; the session's is used then */
  std::string empty_pwd = offer ({ kH264 });
  empty_pwd.replace (empty_pwd.find ("a=ice-pwd:"), 34, "a=ice-pwd:");
  assert_has (refused (empty_pwd), "ice-pwd");
  std::string session_pwd = offer ({ kH264 }, kCredentials);
  session_pwd.replace (session_pwd.rfind ("a=ice-pwd:"), 34, "a=ice-pwd:");
  fail_unless (accepted (session_pwd).has_video);

  std::string error2 = refused (offer ({ bare_h264 }, "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefgh"
          "ijklmnopqrstuvwx\r\n"));
  assert_has (error2, "m-line 0 (video) has no DTLS fingerprint");
}
GST_END_TEST;

GST_START_TEST (test_offer_not_sdp_or_empty)
{
  assert_has (refused ("v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"), "no m-line");
  assert_has (refused (std::string ("m=video 9 UDP/TLS/RTP/SAVPF 96\r\n") + kCredentials
          + "a=rtpmap:96 H264/90000\r\n"), "not SDP");
}
GST_END_TEST;

/* --- trickle ICE --- */

#define CANDIDATE "1 1 UDP 2122252543 192.0.2.1 54321 typ host"

static const Strings kMids = { "0", "1" };

static TrickleIce
trickle_taken (const std::string & frag, const Strings & mids = kMids,
    const std::string & ufrag = "abcd")
{
  TrickleIce out;
  std::string error;
  fail_unless (parse_trickle_ice (frag, mids, ufrag, out, error), "%s: \"%s\"", error.c_str (),
      frag.c_str ());
  fail_if (out.ice_restart);
  return out;
}

static std::string
trickle_refused (const std::string & frag, bool restart = false, const Strings & mids = kMids)
{
  TrickleIce out;
  std::string error;
  fail_if (parse_trickle_ice (frag, mids, "abcd", out, error), "taken: \"%s\"", frag.c_str ());
  fail_if (error.empty ());
  fail_unless (out.ice_restart == restart, "\"%s\": ice_restart %d", frag.c_str (),
      out.ice_restart);
  return error;
}

using Candidates = std::vector<std::pair<guint, std::string>>;

/* what a hostile peer could make webrtcbin build is bounded */
GST_START_TEST (test_offers_and_fragments_are_bounded)
{
  std::vector<Media> many (kMaxOfferMLines, kOpus);
  accepted (offer (many));
  many.push_back (kOpus);
  assert_has (refused (offer (many)), "m-lines");
  std::string frag;
  for (size_t i = 0; i < kMaxTrickleCandidates; i++)
    frag += "a=candidate:" CANDIDATE "\r\n";
  fail_unless_equals_int (trickle_taken (frag).candidates.size (), kMaxTrickleCandidates);
  frag += "a=candidate:" CANDIDATE "\r\n";
  assert_has (trickle_refused (frag), "candidates");
}
GST_END_TEST;

GST_START_TEST (test_trickle_candidates)
{
  /* bundled: m-line 0 */
  TrickleIce t = trickle_taken ("a=candidate:" CANDIDATE "\r\n");
  fail_unless (t.candidates == (Candidates { { 0, "candidate:" CANDIDATE } }));
  /* no line end at the end, LF only, extensions, tcp, relay, mDNS names */
  t = trickle_taken ("a=candidate:" CANDIDATE "\n"
      "a=candidate:2 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active\n"
      "a=candidate:3 1 udp 41885439 198.51.100.7 65535 typ relay raddr 0.0.0.0 rport 0 "
      "generation 0\n"
      "a=candidate:4 1 udp 2122262783 0c3a9e2f-1d2b.local 5000 typ srflx");
  fail_unless_equals_int (t.candidates.size (), 4);
  fail_unless (t.candidates[1].second
      == "candidate:2 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active");
  for (auto & c : t.candidates)
    fail_unless_equals_int (c.first, 0);

  /* a=mid: picks the m-line until the next one */
  t = trickle_taken ("a=mid:1\r\na=candidate:" CANDIDATE "\r\na=candidate:5 1 UDP 1 192.0.2.2 "
      "5 typ prflx\r\na=mid:0\r\na=candidate:" CANDIDATE "\r\n");
  fail_unless (t.candidates == (Candidates { { 1, "candidate:" CANDIDATE },
          { 1, "candidate:5 1 UDP 1 192.0.2.2 5 typ prflx" }, { 0, "candidate:" CANDIDATE } }));

  /* m= lines count up; an a=mid under them has the last word */
  t = trickle_taken ("a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=candidate:" CANDIDATE "\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 0\r\na=candidate:" CANDIDATE "\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:" CANDIDATE "\r\n");
  fail_unless (t.candidates == (Candidates { { 0, "candidate:" CANDIDATE },
          { 1, "candidate:" CANDIDATE }, { 0, "candidate:" CANDIDATE } }));

  /* what needs nothing done */
  t = trickle_taken ("a=ice-options:trickle\r\na=group:BUNDLE 0 1\r\nc=IN IP4 0.0.0.0\r\n"
      "a=candidate:" CANDIDATE "\r\na=end-of-candidates\r\n");
  fail_unless_equals_int (t.candidates.size (), 1);
  fail_unless (trickle_taken ("a=end-of-candidates\r\n").candidates.empty ());

  /* an earlier result is not kept */
  std::string error;
  fail_unless (parse_trickle_ice ("a=end-of-candidates", kMids, "", t, error));
  fail_unless (t.candidates.empty ());
}
GST_END_TEST;

GST_START_TEST (test_trickle_malformed)
{
  assert_has (trickle_refused (""), "empty");
  assert_has (trickle_refused ("\r\n\n\r\n"), "empty");
  assert_has (trickle_refused ("garbage"), "not an SDP fragment line");
  assert_has (trickle_refused ("a=candidate:" CANDIDATE "\r\nA=mid:0\r\n"),
      "not an SDP fragment line");
  assert_has (trickle_refused (" a=candidate:" CANDIDATE), "not an SDP fragment line");

  assert_has (trickle_refused ("a=mid:2\r\na=candidate:" CANDIDATE "\r\n"),
      "unknown mid \"2\"");
  /* even with no candidate under it */
  assert_has (trickle_refused ("a=mid:video\r\n"), "unknown mid");

  const char *bad[] = {
    "a=candidate:garbage",
    "a=candidate:",
    "a=candidate",
    "a=candidate:1 1 UDP 2122252543 192.0.2.1 54321 typ",
    "a=candidate:1 1 UDP 2122252543 192.0.2.1 54321 type host",
    "a=candidate:1 1 SCTP 2122252543 192.0.2.1 54321 typ host",
    "a=candidate:1 1 UDP 2122252543 192.0.2.1 54321 typ bogus",
    "a=candidate:1 x UDP 2122252543 192.0.2.1 54321 typ host",
    "a=candidate:1 1000 UDP 2122252543 192.0.2.1 54321 typ host",
    "a=candidate:1 1 UDP 21222525430 192.0.2.1 54321 typ host",
    "a=candidate:1 1 UDP -1 192.0.2.1 54321 typ host",
    "a=candidate:123456789012345678901234567890123 1 UDP 1 192.0.2.1 54321 typ host",
    /* ports past 65535 */
    "a=candidate:1 1 UDP 2122252543 192.0.2.1 65536 typ host",
    "a=candidate:1 1 UDP 2122252543 192.0.2.1 99999 typ host",
    "a=candidate:1 1 UDP 2122252543 192.0.2.1 123456 typ host",
  };
  for (const char *b : bad)
    assert_has (trickle_refused (std::string ("a=mid:0\r\n") + b + "\r\n"),
        "malformed candidate");
  /* the reason quotes the line, cut short */
  std::string long_line = "a=candidate:1 1 UDP 2122252543 192.0.2.1 99999 typ host "
      + std::string (200, 'x');
  std::string error = trickle_refused (long_line);
  assert_has (error, "\"a=candidate:1 1 UDP 2122252543 192.0.2.1...\"");
  fail_unless (error.size () < 100, "%s", error.c_str ());

  /* an m-line the offer does not have */
  assert_has (trickle_refused ("m=audio 9 RTP/AVP 0\r\nm=video 9 RTP/AVP 0\r\n"
          "a=candidate:" CANDIDATE "\r\n", false, { "0" }), "m-line 1, the offer has 1");
}
GST_END_TEST;

GST_START_TEST (test_trickle_ice_restart)
{
  std::string error = trickle_refused ("a=ice-ufrag:efgh\r\na=ice-pwd:"
      "abcdefghijklmnopqrstuvwx\r\na=candidate:" CANDIDATE "\r\n", true);
  assert_has (error, "ICE restart");
  /* after candidates too */
  trickle_refused ("a=candidate:" CANDIDATE "\r\na=ice-ufrag:efgh\r\n", true);
  /* the offer's ufrag is no restart */
  fail_unless_equals_int (trickle_taken ("a=ice-ufrag:abcd\r\na=candidate:" CANDIDATE "\r\n")
      .candidates.size (), 1);
  /* an offer without one takes any */
  trickle_taken ("a=ice-ufrag:efgh\r\na=candidate:" CANDIDATE "\r\n", kMids, "");
  /* a malformed line before the new ufrag: malformed, no restart */
  trickle_refused ("a=candidate:bad\r\na=ice-ufrag:efgh\r\n", false);
}
GST_END_TEST;

/* --- ICE servers --- */

GST_START_TEST (test_ice_server_uri)
{
  struct {
    const char *url, *uri, *scheme;
  } const cases[] = {
    { "stun:stun.example.net:3478", "stun://stun.example.net:3478", "stun" },
    { "stun://stun.example.net", "stun://stun.example.net", "stun" },
    { "turn:user:secret@192.0.2.1:3478", "turn://user:secret@192.0.2.1:3478", "turn" },
    { "turns:user:secret@turn.example.net:5349", "turns://user:secret@turn.example.net:5349",
        "turns" },
    { "turns://u:p@turn.example.net", "turns://u:p@turn.example.net", "turns" },
    { "stun:", "", "" },
    { "turn://", "", "" },
    { "STUN:stun.example.net", "", "" },
    { "http://example.net", "", "" },
    { "", "", "" },
  };
  for (auto & c : cases) {
    std::string scheme;
    std::string uri = ice_server_uri (c.url, scheme);
    fail_unless (uri == c.uri, "%s: \"%s\"", c.url, uri.c_str ());
    if (*c.uri)
      fail_unless (scheme == c.scheme, "%s: scheme \"%s\"", c.url, scheme.c_str ());
  }
}
GST_END_TEST;

static Suite *
whipsdp_suite (void)
{
  Suite *s = suite_create ("whipsdp");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_offer_codecs_in_offer_order);
  tcase_add_test (tc, test_offer_of_one_kind);
  tcase_add_test (tc, test_offer_directions);
  tcase_add_test (tc, test_offer_disabled_mlines);
  tcase_add_test (tc, test_offer_credentials);
  tcase_add_test (tc, test_offer_not_sdp_or_empty);
  tcase_add_test (tc, test_offers_and_fragments_are_bounded);
  tcase_add_test (tc, test_trickle_candidates);
  tcase_add_test (tc, test_trickle_malformed);
  tcase_add_test (tc, test_trickle_ice_restart);
  tcase_add_test (tc, test_ice_server_uri);
  return s;
}

GST_CHECK_MAIN (whipsdp);
