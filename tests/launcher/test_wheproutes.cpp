/* WHEP (WebRTC playback) over the launcher's routes, without a server
 * (tests/launcher/routetest.h): the refusals, the token, the seats of a
 * stream's WebRtcRoom, sessions, the keyframe throttle, and what the API
 * shows of them. A browser plays it in tests/integration. */
#include "api/streamviews.h"
#include "fakeingest.h"
#include "notify/viewercounter.h"
#include "routetest.h"
#include "whep/webrtcroom.h"
#include "whep/wheproutes.h"

#include <json-glib/json-glib.h>

#include <atomic>
#include <thread>

using namespace castline::launcher;
using namespace routetest;

namespace {

/* a browser's recvonly offer: H.264 (and VP8) video, Opus audio */
const char *kOffer =
    "v=0\r\n"
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=msid-semantic: WMS\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 102 96\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Ab3d\r\n"
    "a=ice-pwd:0123456789abcdefghijklmn\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 5A:0C:1B:2E:3D:4F:6A:7B:8C:9D:AE:BF:C0:D1:E2:F3:04:15:26:37:48:59:"
    "6A:7B:8C:9D:AE:BF:C0:D1:E2:F3\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "a=rtcp-fb:102 nack\r\n"
    "a=rtcp-fb:102 nack pli\r\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Ab3d\r\n"
    "a=ice-pwd:0123456789abcdefghijklmn\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 5A:0C:1B:2E:3D:4F:6A:7B:8C:9D:AE:BF:C0:D1:E2:F3:04:15:26:37:48:59:"
    "6A:7B:8C:9D:AE:BF:C0:D1:E2:F3\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n";

/* the WHEP routes and the views of the API over one manager */
struct Whep {
  explicit Whep (Config c = test_config ())
      : manager (make_manager (std::move (c))), viewers (ViewerCounter::settings_for (2)),
        views (*manager, viewers), routes (*manager)
  {
  }

  http::Response call (const http::Request & req, TestTransport * transport = nullptr)
  {
    http::Response res (transport);
    routes.handle (req, res);
    return res;
  }

  http::Response post (const std::string & id, const std::string & offer = kOffer,
      std::vector<std::pair<const char *, std::string>> headers = {},
      TestTransport * transport = nullptr)
  {
    headers.push_back ({ "Content-Type", "application/sdp" });
    return call (request ("POST", "/whep/" + id, offer, headers), transport);
  }

  /* a live stream whose publisher sends H.264 and Opus, once its media
   * reached the stream's room (a POST is no longer 503 for it) */
  Created live_stream ()
  {
    Created s = create (*manager);
    Refusal refusal;
    auto ingest = std::make_unique<FakeIngest> (h264_opus (), false, true);
    fail_unless (manager->admit (s.id, s.key, std::move (ingest), refusal) != nullptr, "%s",
        refusal.reason.c_str ());
    /* a bad offer is looked at only once the media is known */
    fail_unless (iterate_until ([&] { return post (s.id, "v=0\r\n").status != 503; }, 20000),
        "the stream's media never reached its room");
    return s;
  }

  /* the JSON of a stream's status */
  JsonObject *status (JsonParser * p, const std::string & id)
  {
    std::string text = views.status_json (*manager->get (id));
    fail_unless (json_parser_load_from_data (p, text.c_str (), -1, nullptr), "%s", text.c_str ());
    return json_node_get_object (json_parser_get_root (p));
  }

  std::unique_ptr<StreamManager> manager;
  ViewerCounter viewers;
  StreamViews views;
  WhepRoutes routes;
};

Config
with_webrtc (unsigned seats, const std::string & token = "")
{
  Config c = test_config ();
  c.webrtc.max_viewers = seats;
  c.webrtc.token = token;
  c.ice_servers = { "stun:127.0.0.1:3478" };
  return c;
}

bool
has (const std::string & text, const char *part)
{
  return text.find (part) != std::string::npos;
}

/* a POST answered later: what it became */
http::Response
answer_of (TestTransport & t)
{
  fail_unless (iterate_until ([&t] { return t.finished != nullptr; }, 15000),
      "the WHEP POST was never answered");
  return *t.finished;
}

/* the first webrtcbin in a pipeline (a viewer's: the fake publisher has
 * none), reffed */
GstElement *
find_webrtcbin (GstPipeline * pipeline)
{
  GstElement *found = nullptr;
  g_autoptr (GstIterator) it = gst_bin_iterate_recurse (GST_BIN (pipeline));
  GValue v = G_VALUE_INIT;
  while (!found && gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    auto *e = GST_ELEMENT (g_value_get_object (&v));
    GstElementFactory *f = gst_element_get_factory (e);
    if (f && g_strcmp0 (GST_OBJECT_NAME (f), "webrtcbin") == 0)
      found = GST_ELEMENT (gst_object_ref (e));
    g_value_reset (&v);
  }
  g_value_unset (&v);
  return found;
}

}  // namespace

GST_START_TEST (test_preflight_and_cors)
{
  Whep w;
  Created s = create (*w.manager);
  http::Response res = w.call (request ("OPTIONS", "/whep/" + s.id));
  fail_unless_equals_int (res.status, 204);
  fail_unless (header_of (res, "Accept-Post") == "application/sdp");
  fail_unless (header_of (res, "Access-Control-Allow-Origin") == "*");
  fail_unless (header_of (res, "Access-Control-Expose-Headers") == "Location, Link, ETag");
  fail_unless (header_of (res, "Access-Control-Allow-Methods") == "POST, OPTIONS");
  fail_unless (has (header_of (res, "Access-Control-Allow-Headers"), "Authorization"));
  res = w.call (request ("OPTIONS", "/whep/" + s.id + "/somesession"));
  fail_unless_equals_int (res.status, 204);
  fail_unless (header_of (res, "Access-Control-Allow-Methods") == "PATCH, DELETE, OPTIONS");
  /* a refusal is readable by the page too */
  res = w.post ("nosuchstream1");
  fail_unless (header_of (res, "Access-Control-Allow-Origin") == "*");

  Config c = test_config ();
  c.cors_origin = "";
  Whep closed (c);
  res = closed.call (request ("OPTIONS", "/whep/" + create (*closed.manager).id));
  fail_unless_equals_int (res.status, 204);
  fail_unless (header_of (res, "Access-Control-Allow-Origin").empty ());
}
GST_END_TEST;

GST_START_TEST (test_refusals_before_any_webrtc)
{
  Whep w;
  Created s = create (*w.manager);
  /* unknown stream, or no stream id at all */
  http::Response res = w.post ("nosuchstream1");
  fail_unless_equals_int (res.status, 404);
  fail_unless_equals_int (w.post ("Bad_Id").status, 404);
  fail_unless_equals_int (w.call (request ("POST", "/whep/")).status, 404);
  fail_unless_equals_int (w.call (request ("GET", "/whep/" + s.id)).status, 405);
  fail_unless_equals_int (w.call (request ("POST", "/whep/" + s.id, kOffer,
              { { "Content-Type", "text/plain" } })).status, 415);
  fail_unless_equals_int (w.post (s.id, std::string (129 * 1024, 'a')).status, 413);
  /* created, not live */
  res = w.post (s.id);
  fail_unless_equals_int (res.status, 409);
  fail_unless (has (body_of (res), "not live"), "%s", body_of (res).c_str ());
  /* and ended */
  w.manager->end (s.id);
  fail_unless_equals_int (w.post (s.id).status, 409);
  /* no session of any stream */
  fail_unless_equals_int (w.call (request ("DELETE", "/whep/" + s.id + "/nosession")).status, 404);
  fail_unless_equals_int (w.call (request ("PATCH", "/whep/" + s.id + "/nosession",
              "a=end-of-candidates", { { "Content-Type", "application/trickle-ice-sdpfrag" } }))
      .status, 404);
  fail_unless_equals_int (w.call (request ("PATCH", "/whep/" + s.id + "/nosession",
              "a=end-of-candidates", { { "Content-Type", "text/plain" } })).status, 415);
  fail_unless_equals_int (w.call (request ("DELETE", "/whep/nosuchstream1/nosession")).status,
      404);
}
GST_END_TEST;

GST_START_TEST (test_token_is_required_when_set)
{
  Whep w (with_webrtc (10, "s3cret-token"));
  Created s = create (*w.manager);
  for (const char *auth : { "", "Bearer wrong", "Bearer s3cret-token-", "Basic s3cret-token" }) {
    std::vector<std::pair<const char *, std::string>> headers;
    if (*auth)
      headers.push_back ({ "Authorization", auth });
    http::Response res = w.post (s.id, kOffer, headers);
    fail_unless_equals_int (res.status, 401);
    fail_unless (header_of (res, "WWW-Authenticate") == "Bearer realm=\"castline\"");
    fail_if (has (body_of (res), "s3cret"));
    /* whatever the stream: nothing is said of it without the token */
    fail_unless_equals_int (w.post ("nosuchstream1", kOffer, headers).status, 401);
    fail_unless_equals_int (w.call (request ("DELETE", "/whep/" + s.id + "/x", "", headers))
        .status, 401);
  }
  /* the preflight carries no token */
  fail_unless_equals_int (w.call (request ("OPTIONS", "/whep/" + s.id)).status, 204);
  /* with it: on to the stream (not live here) */
  fail_unless_equals_int (w.post (s.id, kOffer, { { "Authorization", "Bearer s3cret-token" } })
      .status, 409);
  fail_unless_equals_int (w.post ("nosuchstream1", kOffer,
              { { "Authorization", "Bearer s3cret-token" } }).status, 404);
}
GST_END_TEST;

GST_START_TEST (test_whep_off_answers_503_and_shows_no_url)
{
  Whep w (with_webrtc (0));
  fail_unless (w.manager->whep_off_reason () == "webrtc.max_viewers is 0");
  Created s = create (*w.manager);
  Refusal refusal;
  fail_unless (admit (*w.manager, s, refusal) != nullptr, "%s", refusal.reason.c_str ());
  fail_unless (w.manager->live (s.id)->room == nullptr);
  http::Response res = w.post (s.id);
  fail_unless_equals_int (res.status, 503);
  /* nothing to wait for */
  fail_unless (header_of (res, "Retry-After").empty ());
  fail_unless (has (body_of (res), "webrtc.max_viewers is 0"), "%s", body_of (res).c_str ());
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonObject *o = w.status (p, s.id);
  fail_unless (json_object_get_null_member (o, "whep_url"));
  fail_unless_equals_int (json_object_get_int_member (o, "webrtc_seats"), 0);
  fail_unless_equals_int (json_object_get_int_member (o, "webrtc_viewers"), 0);
  w.manager->end (s.id);
}
GST_END_TEST;

GST_START_TEST (test_media_not_known_yet_is_503_retry_after)
{
  Whep w;
  Created s = create (*w.manager);
  Refusal refusal;
  /* a publisher that sends nothing yet */
  fail_unless (admit (*w.manager, s, refusal) != nullptr, "%s", refusal.reason.c_str ());
  fail_unless (w.manager->live (s.id)->room != nullptr);
  http::Response res = w.post (s.id);
  fail_unless_equals_int (res.status, 503);
  fail_unless (header_of (res, "Retry-After") == "1");
  w.manager->end (s.id);
}
GST_END_TEST;

GST_START_TEST (test_bad_offers_of_a_live_stream)
{
  Whep w;
  Created s = w.live_stream ();
  http::Response res = w.post (s.id, "hello");
  fail_unless_equals_int (res.status, 400);
  /* an offer that only sends */
  std::string sendonly = kOffer;
  for (size_t at; (at = sendonly.find ("a=recvonly")) != std::string::npos;)
    sendonly.replace (at, 10, "a=sendonly");
  fail_unless_equals_int (w.post (s.id, sendonly).status, 400);
  /* no codec the stream sends: VP9 video only */
  std::string vp9 = kOffer;
  vp9 = vp9.substr (0, vp9.find ("m=audio"));
  for (auto [from, to] : { std::pair<const char *, const char *> { "H264/90000", "VP9/90000" },
           { "VP8/90000", "VP9/90000" } })
    vp9.replace (vp9.find (from), strlen (from), to);
  vp9.replace (vp9.find ("a=group:BUNDLE 0 1"), 18, "a=group:BUNDLE 0");
  res = w.post (s.id, vp9);
  fail_unless_equals_int (res.status, 406);
  fail_unless_equals_int (w.manager->webrtc_viewers (s.id), 0);
  w.manager->end (s.id);
}
GST_END_TEST;

/* seats=1: a viewer holds the seat from its POST (while negotiated too);
 * the next POST is 503 at once with Retry-After; DELETE frees it, and so
 * does an error of its webrtcbin (the stream goes on); ending the stream
 * ends every session */
GST_START_TEST (test_seats_sessions_and_the_end)
{
  Whep w (with_webrtc (1));
  Created s = w.live_stream ();
  TestTransport first;
  http::Response res = w.post (s.id, kOffer, {}, &first);
  fail_unless (res.taken (), "%u %s", res.status, body_of (res).c_str ());
  fail_unless_equals_int (w.manager->webrtc_viewers (s.id), 1);
  res = w.post (s.id);
  fail_unless_equals_int (res.status, 503);
  fail_unless (header_of (res, "Retry-After") == "10");
  fail_unless (has (body_of (res), "seat"), "%s", body_of (res).c_str ());

  res = answer_of (first);
  fail_unless_equals_int (res.status, 201);
  fail_unless (header_of (res, "Content-Type") == "application/sdp");
  fail_unless (has (body_of (res), "a=sendonly"), "%s", body_of (res).c_str ());
  std::string location = header_of (res, "Location");
  fail_unless (g_str_has_prefix (location.c_str (), ("/whep/" + s.id + "/").c_str ()), "%s",
      location.c_str ());
  fail_unless (header_of (res, "Link") == "<stun:127.0.0.1:3478>; rel=\"ice-server\"");
  fail_unless (header_of (res, "Access-Control-Allow-Origin") == "*");

  /* the audience: one WebRTC viewer of one seat, counted in viewers */
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonObject *o = w.status (p, s.id);
  fail_unless_equals_int (json_object_get_int_member (o, "webrtc_viewers"), 1);
  fail_unless_equals_int (json_object_get_int_member (o, "webrtc_seats"), 1);
  fail_unless_equals_int (json_object_get_int_member (o, "viewers"), 1);
  fail_unless (g_str_has_suffix (json_object_get_string_member (o, "whep_url"),
          ("/whep/" + s.id).c_str ()));
  fail_unless_equals_int (w.manager->live (s.id)->room->admitted (), 1);
  fail_unless_equals_int (w.manager->live (s.id)->room->refused (), 1);

  /* trickle: a malformed fragment is 400, a new ufrag (ICE restart) 422 */
  fail_unless_equals_int (w.call (request ("PATCH", location, "a=candidate:garbage",
              { { "Content-Type", "application/trickle-ice-sdpfrag" } })).status, 400);
  fail_unless_equals_int (w.call (request ("PATCH", location,
              "a=ice-ufrag:Zz9y\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n",
              { { "Content-Type", "application/trickle-ice-sdpfrag" } })).status, 422);
  fail_unless_equals_int (w.call (request ("PATCH", location, "a=end-of-candidates\r\n",
              { { "Content-Type", "application/trickle-ice-sdpfrag" } })).status, 204);

  fail_unless_equals_int (w.call (request ("DELETE", location)).status, 200);
  fail_unless_equals_int (w.manager->webrtc_viewers (s.id), 0);
  fail_unless_equals_int (w.call (request ("DELETE", location)).status, 404);

  /* the seat is free again; an error of the viewer's webrtcbin ends that
   * viewer, not the stream */
  TestTransport second;
  w.post (s.id, kOffer, {}, &second);
  fail_unless_equals_int (answer_of (second).status, 201);
  fail_unless_equals_int (w.manager->webrtc_viewers (s.id), 1);
  GstElement *webrtc = find_webrtcbin (w.manager->live (s.id)->pipeline->pipeline ());
  fail_unless (webrtc != nullptr);
  g_autoptr (GError) failure = g_error_new_literal (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED,
      "a viewer's transport broke");
  gst_element_post_message (webrtc, gst_message_new_error (GST_OBJECT (webrtc), failure, ""));
  gst_object_unref (webrtc);
  fail_unless (iterate_until ([&] { return w.manager->webrtc_viewers (s.id) == 0; }, 5000));
  fail_unless (w.manager->get (s.id)->state == StreamState::live);
  fail_unless_equals_int (w.call (request ("DELETE", header_of (*second.finished, "Location")))
      .status, 404);

  /* the stream's end ends every session */
  TestTransport third;
  w.post (s.id, kOffer, {}, &third);
  fail_unless_equals_int (answer_of (third).status, 201);
  location = header_of (*third.finished, "Location");
  w.manager->end (s.id);
  fail_unless (iterate_until ([&] { return w.manager->live (s.id) == nullptr; }, 15000));
  fail_unless_equals_int (w.manager->webrtc_viewers (s.id), 0);
  fail_unless_equals_int (w.call (request ("DELETE", location)).status, 404);
}
GST_END_TEST;

GST_START_TEST (test_keyframes_at_most_once_a_second)
{
  std::atomic<int> asked { 0 };
  KeyframeThrottle t ([&asked] { asked++; });
  gint64 now = 1000 * G_USEC_PER_SEC;
  fail_unless (t.want (now));
  fail_if (t.want (now + G_USEC_PER_SEC / 2));
  fail_if (t.want (now + G_USEC_PER_SEC - 1));
  fail_unless (t.want (now + G_USEC_PER_SEC));
  fail_unless_equals_int (asked.load (), 2);
  /* many threads at the same moment: one request */
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; i++)
    threads.emplace_back ([&t, now] {
          for (int j = 0; j < 1000; j++)
            t.want (now + 5 * G_USEC_PER_SEC);
        });
  for (auto & th : threads)
    th.join ();
  fail_unless_equals_int (asked.load (), 3);
}
GST_END_TEST;

static Suite *
wheproutes_suite ()
{
  Suite *s = suite_create ("wheproutes");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 90);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_preflight_and_cors);
  tcase_add_test (tc, test_refusals_before_any_webrtc);
  tcase_add_test (tc, test_token_is_required_when_set);
  tcase_add_test (tc, test_whep_off_answers_503_and_shows_no_url);
  tcase_add_test (tc, test_media_not_known_yet_is_503_retry_after);
  tcase_add_test (tc, test_bad_offers_of_a_live_stream);
  tcase_add_test (tc, test_seats_sessions_and_the_end);
  tcase_add_test (tc, test_keyframes_at_most_once_a_second);
  return s;
}

GST_CHECK_MAIN (wheproutes);
