/* The launcher's routes without a server: requests made here, answers
 * read off the Response (tests/launcher/routetest.h). The same routes run
 * over real HTTP in tests/integration. */
#include "api/adminauth.h"
#include "api/eventsroute.h"
#include "api/liveroute.h"
#include "api/metricsroute.h"
#include "api/publicroutes.h"
#include "api/streamsapi.h"
#include "common/http/router.h"
#include "ingest/websocket/websocketroute.h"
#include "ingest/whip/whiproutes.h"
#include "notify/eventstream.h"
#include "routetest.h"

#include <json-glib/json-glib.h>

using namespace castline::launcher;
using namespace routetest;

namespace {

/* the routes of the admin and public API over one manager */
struct Api {
  explicit Api (Config c = test_config ())
      : manager (make_manager (std::move (c))),
        viewers (ViewerCounter::settings_for (2)), views (*manager, viewers),
        events (*manager, viewers, [this] (const StreamRecord & r) { return views.stream_json (r); }),
        public_routes (*manager, viewers, views), events_route (manager->config (), events),
        streams (*manager, views, public_routes, events_route)
  {
  }

  http::Response call (const http::Request & req, TestTransport * transport = nullptr)
  {
    http::Response res (transport);
    streams.handle (req, res);
    return res;
  }

  /* POST /api/streams: the new stream's id and key */
  std::pair<std::string, std::string> create (const std::string & body = "{}")
  {
    http::Response res = call (request ("POST", "/api/streams", body,
            { { "Content-Type", "application/json" } }));
    fail_unless_equals_int (res.status, 201);
    g_autoptr (JsonParser) p = json_parser_new ();
    std::string text = body_of (res);
    fail_unless (json_parser_load_from_data (p, text.c_str (), -1, nullptr));
    JsonObject *o = json_node_get_object (json_parser_get_root (p));
    return { json_object_get_string_member (o, "id"), json_object_get_string_member (o, "key") };
  }

  std::unique_ptr<StreamManager> manager;
  ViewerCounter viewers;
  StreamViews views;
  EventStream events;
  PublicStreamRoutes public_routes;
  EventsRoute events_route;
  StreamsApi streams;
};

bool
has (const std::string & text, const char *part)
{
  return text.find (part) != std::string::npos;
}

}  // namespace

GST_START_TEST (test_router_takes_the_longest_prefix)
{
  http::Router router;
  std::string taken;
  auto mark = [&taken] (const char *name) {
    return [&taken, name] (const http::Request &, http::Response &) { taken = name; };
  };
  router.add ("/", mark ("pages"));
  router.add ("/api/streams", mark ("streams"));
  router.add ("/api/events", mark ("events"));
  http::Response res;
  for (auto [path, want] : std::vector<std::pair<const char *, const char *>> {
           { "/api/streams", "streams" }, { "/api/streams/x/status", "streams" },
           { "/api/streamsx", "streams" }, { "/api/events", "events" }, { "/api", "pages" },
           { "/", "pages" }, { "/watch/abc", "pages" } }) {
    const http::Route *r = router.find (path);
    fail_unless (r != nullptr, "%s", path);
    r->handler (request ("GET", path), res);
    fail_unless (taken == want, "%s went to %s", path, taken.c_str ());
  }
  http::Router empty;
  fail_unless (empty.find ("/x") == nullptr);
}
GST_END_TEST;

GST_START_TEST (test_create_request_is_parsed_strictly)
{
  struct Case {
    const char *body;
    const char *type;
    unsigned status;            /* 0: parsed */
  } cases[] = {
    { "", "", 0 },
    { "{\"title\": \"a\", \"record\": true, \"scheduled_at\": \"2099-01-01T10:00:00Z\"}",
      "application/json", 0 },
    { "{\"title\": null, \"record\": null}", "application/json", 0 },
    { "{\"title\": ", "application/json", 400 },
    { "[1]", "application/json", 400 },
    { "{\"title\": 3}", "application/json", 400 },
    { "{\"record\": \"yes\"}", "application/json", 400 },
    { "{\"scheduled_at\": \"tomorrow\"}", "application/json", 400 },
    { "{\"colour\": \"red\"}", "application/json", 400 },
    { "{}", "text/plain", 415 },
  };
  for (const Case & c : cases) {
    CreateRequest out;
    unsigned status = 0;
    std::string reason;
    http::Request req = request ("POST", "/api/streams", c.body,
        { { "Content-Type", c.type } });
    bool ok = parse_create_request (req, out, status, reason);
    fail_unless (ok == (c.status == 0), "%s: %s", c.body, reason.c_str ());
    if (!ok)
      fail_unless_equals_int (status, c.status);
  }
  CreateRequest out;
  unsigned status = 0;
  std::string reason;
  fail_unless (parse_create_request (request ("POST", "/api/streams",
              "{\"title\": \"" + std::string (201, 'x') + "\"}",
              { { "Content-Type", "application/json" } }), out, status, reason) == false);
  fail_unless (parse_create_request (request ("POST", "/api/streams", std::string (65 * 1024, ' '),
              { { "Content-Type", "application/json" } }), out, status, reason) == false);
  fail_unless_equals_int (status, 413);
}
GST_END_TEST;

/* what the API stores is valid UTF-8 with no NUL; what it says of a bad
 * request never echoes it at length */
GST_START_TEST (test_hostile_input_is_refused_not_echoed)
{
  Api api;
  for (const char *body : { "{\"title\": \"\xff\xfe\"}", "{\"title\": \"a\\ud800b\"}",
           "{\"title\": \"a\\u0000b\"}", "{\"pipeline\": \"\xc3\"}" }) {
    http::Response res = api.call (request ("POST", "/api/streams", body,
            { { "Content-Type", "application/json" } }));
    fail_unless_equals_int (res.status, 400);
    fail_unless (g_utf8_validate (body_of (res).c_str (), -1, nullptr), "%s", body);
  }
  fail_unless (api.manager->list ().empty ());
  std::string long_id (10000, 'a');
  for (const std::string & path : { "/api/streams/" + long_id + "/status",
           "/api/streams/" + long_id }) {
    http::Response res = api.call (request ("GET", path));
    fail_unless (res.status == 400 || res.status == 404);
    fail_unless (body_of (res).size () < 200, "%zu bytes", body_of (res).size ());
  }
  http::Response res = api.call (request ("POST", "/api/streams",
          "{\"" + std::string (5000, 'x') + "\": 1}", { { "Content-Type", "application/json" } }));
  fail_unless_equals_int (res.status, 400);
  fail_unless (body_of (res).size () < 200, "%s", body_of (res).c_str ());
}
GST_END_TEST;

GST_START_TEST (test_streams_api_create_get_list_delete)
{
  Api api;
  auto [id, key] = api.create ("{\"title\": \"Sunday\"}");
  fail_unless (key.size () >= 22);
  http::Response res = api.call (request ("GET", "/api/streams/" + id));
  fail_unless_equals_int (res.status, 200);
  fail_unless (has (body_of (res), "\"title\":\"Sunday\""));
  fail_unless (!has (body_of (res), key.c_str ()), "the key is given out once");
  fail_unless (header_of (res, "Cache-Control") == "no-store");
  res = api.call (request ("GET", "/api/streams"));
  fail_unless (has (body_of (res), id.c_str ()));
  res = api.call (request ("DELETE", "/api/streams/" + id));
  fail_unless_equals_int (res.status, 200);
  fail_unless (has (body_of (res), "\"state\":\"ended\""));
  fail_unless_equals_int (api.call (request ("PUT", "/api/streams/" + id)).status, 405);
  fail_unless_equals_int (api.call (request ("PUT", "/api/streams")).status, 405);
  fail_unless_equals_int (api.call (request ("GET", "/api/streams/nosuch")).status, 404);
  fail_unless_equals_int (api.call (request ("GET", "/api/streams/UPPER")).status, 400);
  fail_unless_equals_int (api.call (request ("GET", "/api/streams/" + id + "/x")).status, 400);
  res = api.call (request ("GET", "/api/streams/" + id + "/recordings"));
  fail_unless (body_of (res) == "{\"recordings\":[]}", "%s", body_of (res).c_str ());
}
GST_END_TEST;

GST_START_TEST (test_admin_routes_need_the_token_or_loopback)
{
  Config c = test_config ();
  c.admin_token = "s3cret-admin";
  Api api (c);
  http::Response res = api.call (request ("GET", "/api/streams"));
  fail_unless_equals_int (res.status, 401);
  fail_unless (header_of (res, "WWW-Authenticate") == "Bearer realm=\"castline\"");
  res = api.call (request ("GET", "/api/streams", "", { { "Authorization", "Bearer s3cret-admin" } }));
  fail_unless_equals_int (res.status, 200);

  Api open;
  http::Request remote = request ("GET", "/api/streams");
  remote.remote_is_loopback = false;
  fail_unless_equals_int (open.call (remote).status, 401);
  MetricsCollector metrics (*open.manager, open.viewers);
  MetricsRoute route (open.manager->config (), metrics);
  http::Response m;
  route.handle (remote, m);
  fail_unless_equals_int (m.status, 401);
  http::Response ok;
  route.handle (request ("GET", "/metrics"), ok);
  fail_unless_equals_int (ok.status, 200);
  fail_unless (header_of (ok, "Content-Type") == kMetricsContentType);
  fail_unless (has (body_of (ok), "castline_streams"));
}
GST_END_TEST;

/* without an admin token, a loopback client that is a web page of another
 * site (cross-site request, DNS rebinding) is refused */
GST_START_TEST (test_loopback_api_refuses_other_sites)
{
  Api api;
  auto status_of = [&api] (const char *method, std::string body,
      std::vector<std::pair<const char *, std::string>> headers) {
    return api.call (request (method, "/api/streams", std::move (body), std::move (headers)))
        .status;
  };
  /* DNS rebinding: the attacker's name for 127.0.0.1 */
  fail_unless_equals_int (status_of ("GET", "", { { "Host", "evil.example:8080" } }), 421);
  fail_unless_equals_int (status_of ("GET", "", { { "Host", "localhost:8080" } }), 200);
  fail_unless_equals_int (status_of ("GET", "", { { "Host", "[::1]:8080" } }), 200);
  /* a simple cross-site POST: text/plain, empty body */
  fail_unless_equals_int (status_of ("POST", "", { { "Content-Type", "text/plain" } }), 403);
  fail_unless_equals_int (status_of ("POST", "", { { "Origin", "http://evil.example" },
              { "Content-Type", "application/json" } }), 403);
  fail_unless_equals_int (status_of ("DELETE", "", { { "Origin", "http://evil.example" } }), 403);
  /* the pages themselves, and API clients */
  fail_unless_equals_int (status_of ("POST", "", { { "Origin", "http://127.0.0.1:8080" } }), 201);
  fail_unless_equals_int (status_of ("POST", "", { { "Content-Type", "application/json" } }), 201);
  fail_unless_equals_int (api.manager->list ().size (), 2);

  Config c = test_config ();
  c.public_url = "https://live.example.com";
  fail_unless (answers_for_host (c, "live.example.com"));
  fail_unless (answers_for_host (c, "LIVE.example.com:443"));
  fail_unless (!answers_for_host (c, "example.com"));
  fail_unless (answers_for_host (c, "127.0.0.2"));
  fail_unless (!answers_for_host (c, ""));

  /* with a token, API clients from anywhere */
  c.admin_token = "s3cret-admin";
  Api tokened (c);
  http::Response res = tokened.call (request ("POST", "/api/streams", "", {
          { "Authorization", "Bearer s3cret-admin" }, { "Host", "api.elsewhere" },
          { "Origin", "https://dashboard.elsewhere" } }));
  fail_unless_equals_int (res.status, 201);
}
GST_END_TEST;

GST_START_TEST (test_heartbeat_and_status_are_public)
{
  Config c = test_config ();
  c.admin_token = "s3cret-admin";
  Api api (c);
  std::string key;
  Refusal refusal;
  std::string id = api.manager->create ("t", 0, "", std::nullopt, key, refusal)->id;
  std::string base = "/api/streams/" + id;
  http::Response res = api.call (request ("POST", base + "/heartbeat", "{\"viewer\":\"v1\"}",
          { { "Content-Type", "text/plain" } }));
  fail_unless_equals_int (res.status, 204);
  fail_unless (header_of (res, "Access-Control-Allow-Origin") == "*");
  fail_unless_equals_int (api.viewers.count (id, g_get_monotonic_time ()), 1);
  fail_unless_equals_int (api.call (request ("POST", base + "/heartbeat", "{}")).status, 400);
  fail_unless_equals_int (api.call (request ("POST", base + "/heartbeat",
              "{\"viewer\":\"a b\"}")).status, 400);
  fail_unless_equals_int (api.call (request ("POST", base + "/heartbeat",
              std::string (1025, ' '))).status, 413);
  fail_unless_equals_int (api.call (request ("POST", "/api/streams/nosuch/heartbeat",
              "{\"viewer\":\"v1\"}")).status, 404);
  res = api.call (request ("GET", base + "/heartbeat"));
  fail_unless_equals_int (res.status, 405);
  fail_unless (header_of (res, "Allow") == "POST, OPTIONS");
  res = api.call (request ("OPTIONS", base + "/heartbeat"));
  fail_unless_equals_int (res.status, 204);
  fail_unless (header_of (res, "Access-Control-Allow-Methods") == "POST, OPTIONS");

  res = api.call (request ("GET", base + "/status"));
  fail_unless_equals_int (res.status, 200);
  std::string status = body_of (res);
  fail_unless (has (status, "\"state\":\"created\"") && has (status, "\"viewers\":1"), "%s",
      status.c_str ());
  for (const char *secret : { "key", "whip_url", "ws_url", "pipeline" })
    fail_unless (!has (status, (std::string ("\"") + secret + "\"").c_str ()), "%s in %s", secret,
        status.c_str ());
  fail_unless_equals_int (api.call (request ("POST", base + "/status")).status, 405);
  fail_unless_equals_int (api.call (request ("GET", "/api/streams/nosuch/status")).status, 404);
}
GST_END_TEST;

GST_START_TEST (test_events_stream_starts_with_the_state)
{
  Api api;
  auto [id, key] = api.create ();
  TestTransport transport;
  http::Response res = api.call (request ("GET", "/api/streams/" + id + "/events"), &transport);
  fail_unless (res.taken ());
  fail_unless_equals_int (transport.stream_status, 200);
  fail_unless (header_of (res, "Content-Type") == "text/event-stream");
  fail_unless (g_str_has_prefix (transport.stream->written.c_str (), "event: state\ndata: {"),
      "%s", transport.stream->written.c_str ());
  fail_unless_equals_int (api.events.clients (), 1);
  api.manager->end (id);
  fail_unless (has (transport.stream->written, "\"state\":\"ended\""));
  transport.stream->abort ();
  fail_unless_equals_int (api.events.clients (), 0);
  fail_unless_equals_int (api.call (request ("POST", "/api/streams/" + id + "/events")).status,
      405);
}
GST_END_TEST;

GST_START_TEST (test_live_route_serves_and_counts_viewers)
{
  auto m = make_manager ();
  std::string key;
  Refusal refusal;
  std::string id = m->create ("t", 0, "", std::nullopt, key, refusal)->id;
  std::string dir = m->hls_dir (id);
  fail_unless (g_mkdir_with_parents (dir.c_str (), 0755) == 0);
  fail_unless (g_file_set_contents ((dir + "/index.m3u8").c_str (),
          "#EXTM3U\n#EXT-X-TARGETDURATION:2\n", -1, nullptr));
  ViewerCounter viewers (ViewerCounter::settings_for (2));
  LiveRoute live (*m, viewers);
  http::Response res;
  http::Request req = request ("GET", "/live/" + id + "/index.m3u8", "",
      { { "User-Agent", "player/1" } });
  live.handle (req, res);
  fail_unless_equals_int (res.status, 200);
  fail_unless (header_of (res, "Content-Type") == "application/vnd.apple.mpegurl");
  gint64 now = g_get_monotonic_time ();
  fail_unless_equals_int (viewers.count (id, now), 1);
  http::Response again;
  live.handle (req, again);
  fail_unless_equals_int (viewers.count (id, now), 1);
  /* ?viewer= counts as that viewer's heartbeat */
  http::Response named;
  live.handle (request ("GET", "/live/" + id + "/index.m3u8?viewer=w1"), named);
  fail_unless_equals_int (viewers.count (id, g_get_monotonic_time ()), 2);
  http::Response missing;
  live.handle (request ("GET", "/live/" + id + "/segment00000.ts"), missing);
  fail_unless_equals_int (missing.status, 404);
  http::Response bad;
  live.handle (request ("GET", "/live/../index.m3u8"), bad);
  fail_unless_equals_int (bad.status, 400);
  fail_unless_equals_int (viewers.count (id, g_get_monotonic_time ()), 2);
}
GST_END_TEST;

GST_START_TEST (test_live_route_serves_ll_hls_from_the_store)
{
  auto m = make_manager ();
  std::string key;
  Refusal refusal;
  std::string id = m->create ("t", 0, "", std::nullopt, key, refusal)->id;
  std::string dir = m->hls_dir (id);
  fail_unless (g_mkdir_with_parents ((dir + "/720p").c_str (), 0755) == 0);
  fail_unless (g_file_set_contents ((dir + "/old.m3u8").c_str (), "#EXTM3U\n", -1, nullptr));
  auto own = std::make_shared<LiveHlsStore> (30.0);
  auto rung = std::make_shared<LiveHlsStore> (30.0);
  m->live_hls ().add (id, "", own);
  m->live_hls ().add (id, "720p", rung);
  g_autoptr (GBytes) part = g_bytes_new_static ("part", 4);
  own->put_part (0, 0, "seg0.0.m4s", part);
  own->put_playlist ("#EXTM3U\n#own\n", "", 0, 0, false);
  rung->put_part (0, 0, "seg0.0.m4s", part);
  rung->put_playlist ("#EXTM3U\n#rung\n", "", 0, 0, false);
  ViewerCounter viewers (ViewerCounter::settings_for (2));
  LiveRoute live (*m, viewers);

  http::Response res;
  live.handle (request ("GET", "/live/" + id + "/index.m3u8"), res);
  fail_unless_equals_int (res.status, 200);
  fail_unless (body_of (res) == "#EXTM3U\n#own\n");
  http::Response r2;
  live.handle (request ("GET", "/live/" + id + "/720p/index.m3u8"), r2);
  fail_unless (body_of (r2) == "#EXTM3U\n#rung\n");
  http::Response p;
  live.handle (request ("GET", "/live/" + id + "/720p/seg0.0.m4s"), p);
  fail_unless (body_of (p) == "part");
  /* what the store does not hold comes from the disk */
  http::Response disk;
  live.handle (request ("GET", "/live/" + id + "/old.m3u8"), disk);
  fail_unless_equals_int (disk.status, 200);
  /* bad _HLS_ directives are 400 from the disk too */
  http::Response bad;
  live.handle (request ("GET", "/live/" + id + "/old.m3u8?_HLS_msn=x"), bad);
  fail_unless_equals_int (bad.status, 400);
  http::Response missing;
  live.handle (request ("GET", "/live/" + id + "/seg9.0.m4s"), missing);
  fail_unless_equals_int (missing.status, 404);

  /* a parked blocking request counts its viewer at once */
  TestTransport transport;
  http::Response parked (&transport);
  live.handle (request ("GET", "/live/" + id + "/index.m3u8?_HLS_msn=0&_HLS_part=1&viewer=w9"),
      parked);
  fail_unless (parked.taken () && !transport.finished);
  fail_unless_equals_int (viewers.count (id, g_get_monotonic_time ()), 2);
  /* the stream ends: the parked request is answered */
  m->live_hls ().remove_stream (id);
  fail_unless (transport.finished && transport.finished->status == 200);
}
GST_END_TEST;

GST_START_TEST (test_websocket_ingest_is_checked_before_the_upgrade)
{
  auto m = make_manager ();
  std::string key;
  Refusal refusal;
  auto r = m->create ("t", 0, "", std::nullopt, key, refusal);
  std::string base = "/ingest/" + r->id + "?key=" + key;
  WebSocketIngestRoute route (*m);
  auto check = [&route] (const std::string & path, std::vector<std::pair<const char *,
      std::string>> headers = {}) {
    http::Response res;
    route.check (request ("GET", path, "", std::move (headers)), res);
    return res.status;
  };
  fail_unless_equals_int (check (base + "&mimeType=video%2Fwebm"), 0);
  fail_unless_equals_int (check ("/ingest/" + r->id + "?mimeType=video%2Fwebm",
          { { "Authorization", "Bearer " + key } }), 0);
  fail_unless_equals_int (check ("/ingest/" + r->id + "?key=wrong&mimeType=video%2Fwebm"), 401);
  fail_unless_equals_int (check ("/ingest/nosuch?key=" + key + "&mimeType=video%2Fwebm"), 401);
  fail_unless_equals_int (check ("/ingest/..%2Fx?key=k"), 400);
  fail_unless_equals_int (check ("/ingest/" + r->id + "/more" + "?key=" + key), 400);
  fail_unless_equals_int (check (base + "&mimeType=video%2Fmp4"), 415);
  /* no mimeType: the recording's header will say what it holds */
  fail_unless_equals_int (check (base), 0);
  /* an ended stream is refused after the upgrade, with a close code */
  m->end (r->id);
  fail_unless_equals_int (check (base + "&mimeType=video%2Fwebm"), 0);
}
GST_END_TEST;

GST_START_TEST (test_whip_refusals_before_any_webrtc)
{
  auto m = make_manager ();
  std::string key;
  Refusal refusal;
  std::string id = m->create ("t", 0, "", std::nullopt, key, refusal)->id;
  WhipRoutes whip (*m);
  auto call = [&whip] (const http::Request & req) {
    http::Response res;
    whip.handle (req, res);
    return res;
  };
  std::string url = "/whip/" + id;
  http::Response res = call (request ("OPTIONS", url));
  fail_unless_equals_int (res.status, 204);
  fail_unless (header_of (res, "Accept-Post") == "application/sdp");
  fail_unless (header_of (res, "Access-Control-Expose-Headers") == "Location, Link, ETag");
  fail_unless_equals_int (call (request ("GET", url)).status, 405);
  fail_unless_equals_int (call (request ("POST", url, "v=0", { { "Content-Type", "text/plain" },
              { "Authorization", "Bearer " + key } })).status, 415);
  fail_unless_equals_int (call (request ("POST", url, std::string (129 * 1024, 'a'),
              { { "Content-Type", "application/sdp" } })).status, 413);
  res = call (request ("POST", url, "v=0\r\n", { { "Content-Type", "application/sdp" },
              { "Authorization", "Bearer wrong" } }));
  fail_unless_equals_int (res.status, 401);
  fail_unless (header_of (res, "WWW-Authenticate") == "Bearer realm=\"castline\"");
  res = call (request ("POST", url, "hello", { { "Content-Type", "application/sdp" },
              { "Authorization", "Bearer " + key } }));
  fail_unless_equals_int (res.status, 400);
  fail_unless (has (body_of (res), "not SDP"), "%s", body_of (res).c_str ());
  fail_unless (m->get (id)->state == StreamState::created);
  fail_unless_equals_int (call (request ("PATCH", url + "/nosession", "a=end-of-candidates",
              { { "Content-Type", "application/trickle-ice-sdpfrag" },
                  { "Authorization", "Bearer " + key } })).status, 404);
  fail_unless_equals_int (call (request ("DELETE", url + "/nosession", "",
              { { "Authorization", "Bearer wrong" } })).status, 401);
  fail_unless_equals_int (call (request ("POST", "/whip/Bad_Id")).status, 400);
  fail_unless (ice_server_link ("turn://u%40x:p%22w@turn.example:3478")
      == "<turn:turn.example:3478>; rel=\"ice-server\"; username=\"u@x\"; "
      "credential=\"p\\\"w\"; credential-type=\"password\"", "%s",
      ice_server_link ("turn://u%40x:p%22w@turn.example:3478").c_str ());
  fail_unless (ice_server_link ("stun:stun.example:19302")
      == "<stun:stun.example:19302>; rel=\"ice-server\"");
}
GST_END_TEST;

static Suite *
routes_suite ()
{
  Suite *s = suite_create ("routes");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_router_takes_the_longest_prefix);
  tcase_add_test (tc, test_create_request_is_parsed_strictly);
  tcase_add_test (tc, test_hostile_input_is_refused_not_echoed);
  tcase_add_test (tc, test_streams_api_create_get_list_delete);
  tcase_add_test (tc, test_admin_routes_need_the_token_or_loopback);
  tcase_add_test (tc, test_loopback_api_refuses_other_sites);
  tcase_add_test (tc, test_heartbeat_and_status_are_public);
  tcase_add_test (tc, test_events_stream_starts_with_the_state);
  tcase_add_test (tc, test_live_route_serves_and_counts_viewers);
  tcase_add_test (tc, test_live_route_serves_ll_hls_from_the_store);
  tcase_add_test (tc, test_websocket_ingest_is_checked_before_the_upgrade);
  tcase_add_test (tc, test_whip_refusals_before_any_webrtc);
  return s;
}

GST_CHECK_MAIN (routes);
