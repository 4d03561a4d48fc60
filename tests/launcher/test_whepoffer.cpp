/* castline-launcher's WHEP playback: reading a viewer's offer
 * (inspect_whep_offer) against what the stream sends, without webrtcbin.
 * The offer is a real one: Chromium 156's, for a recvonly video and a
 * recvonly audio transceiver (data/chromium156-recvonly-offer.sdp). */
#include "whep/whepoffer.h"

#include "../assertions.h"
#include "webrtctest.h"

#include <gst/check/gstcheck.h>

#include <string>

using namespace castline::launcher;

static std::string
chromium_offer ()
{
  gchar *text = nullptr;
  GError *error = nullptr;
  fail_unless (g_file_get_contents (CASTLINE_SOURCE_DIR
          "/tests/launcher/data/chromium156-recvonly-offer.sdp", &text, nullptr, &error),
      "%s", error ? error->message : "?");
  std::string ret = text;
  g_free (text);
  return ret;
}

static WhepMedia
media (const std::string & video, const std::string & audio, const std::string & plid = "")
{
  WhepMedia m;
  m.video = video;
  m.audio = audio;
  m.h264_profile_level_id = plid;
  return m;
}

static WhepOfferInfo
accepted (const std::string & sdp, const WhepMedia & m)
{
  WhepOfferInfo info;
  unsigned status = 0;
  std::string error;
  fail_unless (inspect_whep_offer (sdp, m, info, status, error), "%u %s", status,
      error.c_str ());
  return info;
}

/* the status; the reason is not empty */
static unsigned
refused (const std::string & sdp, const WhepMedia & m, std::string *reason = nullptr)
{
  WhepOfferInfo info;
  unsigned status = 0;
  std::string error;
  fail_if (inspect_whep_offer (sdp, m, info, status, error), "accepted:\n%s", sdp.c_str ());
  fail_if (error.empty ());
  if (reason)
    *reason = error;
  return status;
}

/* the payload type chosen for the offer's video */
static int
video_pt (const std::string & sdp, const WhepMedia & m)
{
  WhepOfferInfo info = accepted (sdp, m);
  for (auto & t : info.tracks)
    if (t.kind == "video")
      return t.pt;
  return -1;
}

GST_START_TEST (test_chromium_offer_h264_and_opus)
{
  WhepOfferInfo info = accepted (chromium_offer (), media ("h264", "opus"));
  fail_unless_equals_int (info.mlines, 2);
  fail_unless (info.mids == (std::vector<std::string> { "0", "1" }));
  assert_str_eq (info.ice_ufrag, "Y5Tb");
  fail_unless_equals_int (info.tracks.size (), 2);

  const WhepTrack & v = info.tracks[0];
  fail_unless_equals_int (v.mline, 0);
  assert_str_eq (v.kind, "video");
  assert_str_eq (v.codec, "h264");
  /* the stream's profile unknown: constrained baseline with
   * packetization-mode=1, not 102 (baseline 42001f) or 104 (mode 0) */
  fail_unless_equals_int (v.pt, 108);
  GstCaps *caps = gst_caps_from_string (v.caps.c_str ());
  fail_unless (caps, "%s", v.caps.c_str ());
  GstStructure *s = gst_caps_get_structure (caps, 0);
  assert_str_eq (gst_structure_get_name (s), "application/x-rtp");
  assert_str_eq (gst_structure_get_string (s, "encoding-name"), "H264");
  assert_str_eq (gst_structure_get_string (s, "media"), "video");
  assert_str_eq (gst_structure_get_string (s, "profile-level-id"), "42e01f");
  /* as offered: not GStreamer's `profile` reading of it */
  fail_if (gst_structure_has_field (s, "profile"));
  assert_str_eq (gst_structure_get_string (s, "packetization-mode"), "1");
  int pt = 0, clock = 0;
  fail_unless (gst_structure_get_int (s, "payload", &pt) && pt == 108);
  fail_unless (gst_structure_get_int (s, "clock-rate", &clock) && clock == 90000);
  gboolean nack = FALSE;
  fail_unless (gst_structure_get_boolean (s, "rtcp-fb-nack", &nack) && nack);
  gst_caps_unref (caps);

  const WhepTrack & a = info.tracks[1];
  fail_unless_equals_int (a.mline, 1);
  assert_str_eq (a.kind, "audio");
  assert_str_eq (a.codec, "opus");
  fail_unless_equals_int (a.pt, 111);
  assert_has (a.caps, "encoding-name=(string)OPUS");
  assert_has (a.caps, "payload=(int)111");
}
GST_END_TEST;

GST_START_TEST (test_h264_format_follows_the_stream_profile)
{
  std::string offer = chromium_offer ();
  /* the same profile and constraints */
  fail_unless_equals_int (video_pt (offer, media ("h264", "opus", "42001f")), 102);
  fail_unless_equals_int (video_pt (offer, media ("h264", "opus", "42e01f")), 108);
  fail_unless_equals_int (video_pt (offer, media ("h264", "opus", "4d001f")), 116);
  /* the same profile at another level */
  fail_unless_equals_int (video_pt (offer, media ("h264", "opus", "4d0028")), 116);
  fail_unless_equals_int (video_pt (offer, media ("h264", "opus", "42c015")), 102);
  /* a profile Chromium does not offer (High): constrained baseline */
  fail_unless_equals_int (video_pt (offer, media ("h264", "opus", "640028")), 108);
  /* nonsense from the stream: as unknown */
  fail_unless_equals_int (video_pt (offer, media ("h264", "opus", "zz")), 108);

  /* no constrained baseline offered: the first with packetization-mode=1 */
  std::string no_cb = replace_lines (offer, "a=fmtp:108 ",
      "a=fmtp:108 packetization-mode=1;profile-level-id=7a001f\r\n");
  fail_unless_equals_int (video_pt (no_cb, media ("h264", "opus", "640028")), 102);

  /* past High (4:4:4, as x264enc makes from videotestsrc by default): a
   * format of that profile, never another one's label on it. Chromium
   * offers 4:4:4 at payload type 41, below the dynamic range GStreamer's
   * payloaders take: refused (it answered 500, "no common format") */
  std::string video_only = offer.substr (0, offer.find ("m=audio"));
  std::string reason;
  fail_unless_equals_int (refused (video_only, media ("h264", "", "f4000d"), &reason), 406);
  assert_has (reason, "profile 244 (profile-level-id f4000d), past High");
  std::string at_127 = replace_lines (offer, "m=video ",
      "m=video 9 UDP/TLS/RTP/SAVPF 102 108 116 127\r\n");
  at_127 = replace_lines (at_127, "a=rtpmap:41 ", "a=rtpmap:127 H264/90000\r\n");
  at_127 = replace_lines (at_127, "a=fmtp:41 ",
      "a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=f4001f\r\n");
  fail_unless_equals_int (video_pt (at_127, media ("h264", "opus", "f4000d")), 127);
  std::string no_444 = replace_lines (offer, "m=video ",
      "m=video 9 UDP/TLS/RTP/SAVPF 102 108 116\r\n");
  /* with audio it can take: refused all the same (no sound without its
   * picture: the page plays HLS) */
  fail_unless_equals_int (refused (no_444, media ("h264", "opus", "f4000d"), &reason), 406);
  assert_has (reason, "the offer cannot take the stream's video h264");
  fail_unless_equals_int (refused (offer, media ("h264", "opus", "f4000d")), 406);
  /* High 10 too, to an offer of no such profile */
  fail_unless_equals_int (refused (video_only, media ("h264", "", "6e001f")), 406);
}
GST_END_TEST;

GST_START_TEST (test_other_codecs)
{
  std::string offer = chromium_offer ();
  fail_unless_equals_int (video_pt (offer, media ("vp8", "opus")), 96);
  /* VP9 profile 0 (98), not 2 (100), 1 (35) or 3 (37) */
  fail_unless_equals_int (video_pt (offer, media ("vp9", "opus")), 98);
  std::string vp9_first_profile2 = replace_lines (offer, "m=video ",
      "m=video 9 UDP/TLS/RTP/SAVPF 100 98 96\r\n");
  fail_unless_equals_int (video_pt (vp9_first_profile2, media ("vp9", "")), 98);
}
GST_END_TEST;

GST_START_TEST (test_one_kind)
{
  std::string offer = chromium_offer ();
  /* an audio-only stream: the video m-line gets no track (inactive) */
  WhepOfferInfo info = accepted (offer, media ("", "opus"));
  fail_unless_equals_int (info.tracks.size (), 1);
  assert_str_eq (info.tracks[0].kind, "audio");
  fail_unless_equals_int (info.tracks[0].mline, 1);
  fail_unless_equals_int (info.mlines, 2);

  /* a video-only stream */
  info = accepted (offer, media ("h264", ""));
  fail_unless_equals_int (info.tracks.size (), 1);
  assert_str_eq (info.tracks[0].kind, "video");

  /* an offer with video only, for a stream with audio too */
  std::string video_only = offer.substr (0, offer.find ("m=audio"));
  info = accepted (video_only, media ("h264", "opus"));
  fail_unless_equals_int (info.mlines, 1);
  fail_unless_equals_int (info.tracks.size (), 1);
  assert_str_eq (info.tracks[0].kind, "video");
}
GST_END_TEST;

GST_START_TEST (test_directions)
{
  std::string offer = chromium_offer ();
  /* sendrecv receives too */
  WhepOfferInfo info = accepted (replace_lines (offer, "a=recvonly", "a=sendrecv\r\n"),
      media ("h264", "opus"));
  fail_unless_equals_int (info.tracks.size (), 2);

  /* a WHIP offer (sendonly) receives nothing: 400 */
  std::string reason;
  fail_unless_equals_int (refused (replace_lines (offer, "a=recvonly", "a=sendonly\r\n"),
          media ("h264", "opus"), &reason), 400);
  assert_has (reason, "receives");
  fail_unless_equals_int (refused (replace_lines (offer, "a=recvonly", "a=inactive\r\n"),
          media ("h264", "opus")), 400);

  /* a disabled m-line (port 0) is skipped: the other one is used */
  std::string video_off = replace_lines (offer, "m=video ",
      "m=video 0 UDP/TLS/RTP/SAVPF 96 108\r\n");
  info = accepted (video_off, media ("h264", "opus"));
  fail_unless_equals_int (info.tracks.size (), 1);
  assert_str_eq (info.tracks[0].kind, "audio");
  fail_unless_equals_int (info.mlines, 2);

  /* a second video m-line: only the first is sent on */
  std::string two_videos = offer.substr (0, offer.find ("m=audio"));
  std::string second = two_videos.substr (two_videos.find ("m=video"));
  two_videos += replace_lines (second, "a=mid:0", "a=mid:2\r\n");
  info = accepted (two_videos, media ("h264", "opus"));
  fail_unless_equals_int (info.mlines, 2);
  fail_unless_equals_int (info.tracks.size (), 1);
  fail_unless_equals_int (info.tracks[0].mline, 0);
  fail_unless (info.mids == (std::vector<std::string> { "0", "2" }));
}
GST_END_TEST;

GST_START_TEST (test_no_codec_the_stream_sends)
{
  std::string offer = chromium_offer ();
  std::string reason;
  /* H.264 in packetization-mode 0 only, and VP8: 406 for an H.264 stream */
  std::string mode0 = replace_lines (offer, "m=video ",
      "m=video 9 UDP/TLS/RTP/SAVPF 96 104 114\r\n");
  mode0 = replace_lines (mode0, "m=audio ", "m=audio 9 UDP/TLS/RTP/SAVPF 0 8\r\n");
  fail_unless_equals_int (refused (mode0, media ("h264", "opus"), &reason), 406);
  assert_has (reason, "h264");
  /* ... the VP8 in it is fine for a VP8 stream */
  fail_unless_equals_int (video_pt (mode0, media ("vp8", "opus")), 96);

  /* no Opus and no video for an audio-only stream */
  fail_unless_equals_int (refused (mode0, media ("", "opus")), 406);
  /* a stream whose media is not known yet */
  fail_unless_equals_int (refused (offer, media ("", ""), &reason), 406);
  assert_has (reason, "none yet");

  /* H.264 at another clock rate is not H.264 we can send */
  std::string clock = replace_lines (offer, "a=rtpmap:108 ", "a=rtpmap:108 H264/48000\r\n");
  clock = replace_lines (clock, "m=video ", "m=video 9 UDP/TLS/RTP/SAVPF 108\r\n");
  fail_unless_equals_int (refused (clock, media ("h264", "")), 406);
}
GST_END_TEST;

GST_START_TEST (test_malformed_offers)
{
  std::string offer = chromium_offer ();
  WhepMedia m = media ("h264", "opus");
  std::string reason;
  fail_unless_equals_int (refused ("", m, &reason), 400);
  assert_has (reason, "not SDP");
  fail_unless_equals_int (refused ("hello", m), 400);
  fail_unless_equals_int (refused ("{\"sdp\": \"v=0\"}", m), 400);
  /* no m-line */
  fail_unless_equals_int (refused (offer.substr (0, offer.find ("m=video")), m, &reason), 400);
  assert_has (reason, "no m-line");
  /* no ICE credentials, no fingerprint */
  fail_unless_equals_int (refused (replace_lines (offer, "a=ice-ufrag"), m, &reason), 400);
  assert_has (reason, "ice-ufrag");
  fail_unless_equals_int (refused (replace_lines (offer, "a=ice-pwd"), m, &reason), 400);
  assert_has (reason, "ice-pwd");
  fail_unless_equals_int (refused (replace_lines (offer, "a=fingerprint"), m, &reason), 400);
  assert_has (reason, "fingerprint");
  /* session-level credentials do */
  std::string session_level = replace_lines (offer, "a=fingerprint");
  session_level = replace_lines (session_level, "t=0 0",
      "t=0 0\r\na=fingerprint:sha-256 7E:E0:5B:DF:D9:9F:FE:2D:C0:A0:6B:D4:62:65:FA:C1:4B:01:"
      "40:BE:88:D1:BB:24:EE:37:60:7A:7D:29:3F:06\r\n");
  accepted (session_level, m);
  /* only a data channel */
  std::string data = offer.substr (0, offer.find ("m=video"))
      + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
      "a=ice-ufrag:Y5Tb\r\na=ice-pwd:/Kph6XxeXjrhqhkxXIUx2mUf\r\n"
      "a=fingerprint:sha-256 7E:E0\r\na=mid:0\r\na=sctp-port:5000\r\n";
  fail_unless_equals_int (refused (data, m, &reason), 400);
  assert_has (reason, "receives");

  /* malformed formats and fmtp are skipped, never a crash */
  std::string odd = replace_lines (offer, "m=video ",
      "m=video 9 UDP/TLS/RTP/SAVPF x 300 -1 108\r\n");
  odd = replace_lines (odd, "a=fmtp:108", "a=fmtp:108 ;;=;packetization-mode=1;profile-level-id\r\n");
  fail_unless_equals_int (video_pt (odd, media ("h264", "", "42e01f")), 108);
  /* an fmtp parameter name caps text cannot carry is left out of the
   * track's caps (found by fuzz_whepsdp) */
  std::string spaces = replace_lines (offer, "a=fmtp:111 ",
      "a=fmtp:111 minpti2.2 9 typ host=1;use\"inbandfec=1;ok=1\r\n");
  WhepOfferInfo info = accepted (spaces, media ("", "opus"));
  fail_unless_equals_int (info.tracks.size (), 1);
  GstCaps *caps = gst_caps_from_string (info.tracks[0].caps.c_str ());
  fail_unless (caps && gst_caps_is_fixed (caps), "%s", info.tracks[0].caps.c_str ());
  assert_has (info.tracks[0].caps, "ok=(string)1");
  assert_lacks (info.tracks[0].caps, "inbandfec");
  gst_caps_unref (caps);
}
GST_END_TEST;

GST_START_TEST (test_offers_are_bounded)
{
  std::string offer = chromium_offer ();
  std::string audio = offer.substr (offer.find ("m=audio"));
  std::string many = offer;
  for (guint i = 2; i < kMaxWhepMLines; i++)
    many += audio;
  /* kMaxWhepMLines m-lines: taken */
  WhepOfferInfo info = accepted (many, media ("h264", "opus"));
  fail_unless_equals_int (info.mlines, kMaxWhepMLines);
  fail_unless_equals_int (info.tracks.size (), 2);
  /* one more: 400 */
  std::string reason;
  fail_unless_equals_int (refused (many + audio, media ("h264", "opus"), &reason), 400);
  assert_has (reason, "m-lines");
}
GST_END_TEST;

static Suite *
whepoffer_suite (void)
{
  Suite *s = suite_create ("whepoffer");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_chromium_offer_h264_and_opus);
  tcase_add_test (tc, test_h264_format_follows_the_stream_profile);
  tcase_add_test (tc, test_other_codecs);
  tcase_add_test (tc, test_one_kind);
  tcase_add_test (tc, test_directions);
  tcase_add_test (tc, test_no_codec_the_stream_sends);
  tcase_add_test (tc, test_malformed_offers);
  tcase_add_test (tc, test_offers_are_bounded);
  return s;
}

GST_CHECK_MAIN (whepoffer);
