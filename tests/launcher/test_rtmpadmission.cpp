/* What an RTMP publisher is told (ingest/rtmp/rtmpadmission.h): the stream
 * found from the publish name (the key) through the key's hash, then the
 * one admission path's refusals in RTMP's onStatus codes; the codecs a
 * session saw as what the publisher sends; the URLs handed out; the
 * rtmp.* settings. */
#include "api/streamviews.h"
#include "ingest/rtmp/rtmpadmission.h"
#include "ingest/rtmp/rtmpurls.h"
#include "routetest.h"

#include <gst/check/gstcheck.h>

using namespace castline::launcher;
using namespace routetest;

namespace {

/* a publisher that sends nothing: enough to make a stream live */
class SilentIngest : public Ingest {
 public:
  const char *kind () const override { return "rtmp"; }
  const PublisherMedia & media () const override { return media_; }
  bool attach (StreamPipeline &, const std::string &, const std::string &, Hooks,
      std::string &) override { return true; }
  void request_keyframe () override {}

 private:
  PublisherMedia media_ { { "h264" }, { "opus" } };
};

struct Created {
  std::string id;
  std::string key;
};

Created
create (StreamManager & m)
{
  std::string key;
  Refusal refusal;
  auto r = m.create ("t", 0, "", std::nullopt, key, refusal);
  fail_unless (r.has_value (), "%s", refusal.reason.c_str ());
  return { r->id, key };
}

bool
load (const std::string & json, Config & c, std::string & error)
{
  std::string path = temp_dir () + "/c.json";
  fail_unless (g_file_set_contents (path.c_str (), json.c_str (), -1, nullptr));
  c = default_config ();
  return load_config (path, c, error);
}

}  // namespace

GST_START_TEST (test_the_key_finds_its_stream)
{
  auto m = make_manager ();
  Created a = create (*m), b = create (*m);
  auto found = m->find_by_key (b.key);
  fail_unless (found && found->id == b.id);
  found = m->find_by_key (a.key);
  fail_unless (found && found->id == a.id);
  fail_if (m->find_by_key (a.key + "x"));
  fail_if (m->find_by_key (a.key.substr (1)));
  fail_if (m->find_by_key (""));
  /* the hash is what is stored: it is no key */
  fail_if (m->find_by_key (m->get (a.id)->key_hash));
}
GST_END_TEST;

GST_START_TEST (test_a_free_stream_is_accepted)
{
  auto m = make_manager ();
  Created s = create (*m);
  std::string id;
  RtmpStatus st = check_rtmp_publisher (*m, s.key, id);
  fail_if (st.refused (), "%s", st.description.c_str ());
  fail_unless (id == s.id);
}
GST_END_TEST;

GST_START_TEST (test_an_unknown_key_is_bad_name)
{
  auto m = make_manager ();
  Created s = create (*m);
  for (std::string key : { std::string ("nope"), std::string (), s.id }) {
    std::string id = "x";
    RtmpStatus st = check_rtmp_publisher (*m, key, id);
    fail_unless (st.code == kRtmpBadName, "%s", st.code.c_str ());
    fail_unless (st.description == "unknown stream key");
    fail_unless (id.empty ());
  }
}
GST_END_TEST;

GST_START_TEST (test_an_ended_stream_is_rejected)
{
  auto m = make_manager ();
  Created s = create (*m);
  fail_unless (m->end (s.id));
  std::string id;
  RtmpStatus st = check_rtmp_publisher (*m, s.key, id);
  fail_unless (st.code == kRtmpRejected);
  fail_unless (st.description == "the stream has ended", "%s", st.description.c_str ());
  fail_unless (id == s.id);
}
GST_END_TEST;

GST_START_TEST (test_a_live_stream_is_rejected)
{
  auto m = make_manager ();
  Created s = create (*m);
  Refusal refusal;
  fail_unless (m->admit (s.id, s.key, std::make_unique<SilentIngest> (), refusal), "%s",
      refusal.reason.c_str ());
  std::string id;
  RtmpStatus st = check_rtmp_publisher (*m, s.key, id);
  fail_unless (st.code == kRtmpRejected);
  fail_unless (st.description == "the stream already has a publisher", "%s",
      st.description.c_str ());
  m->end (s.id);
  iterate_until ([&m] { return m->live_count () == 0; });
}
GST_END_TEST;

GST_START_TEST (test_the_live_limit_rejects)
{
  Config c = test_config ();
  c.max_live_streams = 1;
  auto m = make_manager (c);
  Created a = create (*m), b = create (*m);
  Refusal refusal;
  fail_unless (m->admit (a.id, a.key, std::make_unique<SilentIngest> (), refusal));
  std::string id;
  RtmpStatus st = check_rtmp_publisher (*m, b.key, id);
  fail_unless (st.code == kRtmpRejected);
  fail_unless (st.description == "the limit of live streams is reached");
  m->end (a.id);
  iterate_until ([&m] { return m->live_count () == 0; });
}
GST_END_TEST;

GST_START_TEST (test_shutting_down_rejects)
{
  auto m = make_manager ();
  Created s = create (*m);
  m->shutdown ([] {});
  std::string id;
  RtmpStatus st = check_rtmp_publisher (*m, s.key, id);
  fail_unless (st.code == kRtmpRejected);
  fail_unless (st.description == "the server is shutting down");
}
GST_END_TEST;

/* Enhanced RTMP's HEVC: no pipeline takes it, and the publisher hears
 * which codec was refused (never a silent black stream) */
GST_START_TEST (test_a_codec_no_pipeline_takes_is_rejected_by_name)
{
  auto m = make_manager ();
  Created s = create (*m);
  Refusal refusal;
  class Hevc : public SilentIngest {
    const PublisherMedia & media () const override { return media_; }
    PublisherMedia media_ = media_of_rtmp_codecs ("hevc", "aac");
  };
  fail_if (m->admit (s.id, s.key, std::make_unique<Hevc> (), refusal));
  RtmpStatus st = rtmp_status_of (refusal);
  fail_unless (st.code == kRtmpRejected);
  fail_unless (st.description.find ("hevc") != std::string::npos, "%s", st.description.c_str ());
  fail_unless (m->get (s.id)->state == StreamState::created);
}
GST_END_TEST;

GST_START_TEST (test_refusals_map_to_status_codes)
{
  fail_if (rtmp_status_of ({}).refused ());
  fail_unless (rtmp_status_of ({ 401, "unknown stream or wrong stream key" }).code == kRtmpBadName);
  for (unsigned status : { 406u, 409u, 500u, 503u }) {
    RtmpStatus st = rtmp_status_of ({ status, "why" });
    fail_unless (st.code == kRtmpRejected && st.description == "why");
  }
}
GST_END_TEST;

GST_START_TEST (test_media_of_codecs)
{
  PublisherMedia m = media_of_rtmp_codecs ("h264", "aac");
  fail_unless (m.video_codecs == std::vector<std::string> { "h264" });
  fail_unless (m.audio_codecs == std::vector<std::string> { "aac" });
  m = media_of_rtmp_codecs ("", "aac");
  fail_unless (m.video_codecs.empty () && m.audio_codecs.size () == 1);
  m = media_of_rtmp_codecs ("h264", "");
  fail_unless (m.video_codecs.size () == 1 && m.audio_codecs.empty ());
}
GST_END_TEST;

GST_START_TEST (test_server_urls)
{
  Config c = default_config ();
  fail_unless (rtmp_server_url (c, false) == "rtmp://127.0.0.1:1935/live");
  fail_unless (rtmp_server_url (c, true).empty ());
  c.rtmp.tls_port = 1936;
  fail_unless (rtmp_server_url (c, true) == "rtmps://127.0.0.1:1936/live");
  c.host = "0.0.0.0";
  c.rtmp.application = "app";
  fail_unless (rtmp_server_url (c, false) == "rtmp://127.0.0.1:1935/app");
  c.rtmp.host = "192.0.2.1";
  fail_unless (rtmp_server_url (c, false) == "rtmp://192.0.2.1:1935/app");
  /* what the API's other URLs name wins */
  c.public_url = "https://live.example:8443/";
  fail_unless (rtmp_server_url (c, false) == "rtmp://live.example:1935/app");
  c.public_url = "";
  c.rtmp.host = "::";
  fail_unless (rtmp_server_url (c, false) == "rtmp://[::1]:1935/app");
  c.rtmp.port = 0;
  fail_unless (rtmp_server_url (c, false).empty ());
}
GST_END_TEST;

/* the publish URLs hold the key: only where the key is shown; the
 * servers in the admin view; nothing of RTMP in the public status */
GST_START_TEST (test_views_give_rtmp_urls_with_the_key_only)
{
  auto m = make_manager ();
  ViewerCounter viewers (ViewerCounter::settings_for (2));
  StreamViews views (*m, viewers);
  Created s = create (*m);
  auto r = m->get (s.id);
  fail_if (views.stream_json (*r, s.key).find ("rtmp") != std::string::npos,
      "RTMP URLs without an RTMP server");
  views.set_rtmp_servers ("rtmp://h:1935/live", "rtmps://h:1936/live");
  std::string created = views.stream_json (*r, s.key);
  for (std::string member : { "\"rtmp_url\":\"rtmp://h:1935/live/" + s.key + "\"",
           "\"rtmps_url\":\"rtmps://h:1936/live/" + s.key + "\"",
           std::string ("\"rtmp_server\":\"rtmp://h:1935/live\""),
           std::string ("\"rtmps_server\":\"rtmps://h:1936/live\"") })
    fail_unless (created.find (member) != std::string::npos, "no %s in %s", member.c_str (),
        created.c_str ());
  std::string later = views.stream_json (*r);
  fail_unless (later.find ("\"rtmp_server\"") != std::string::npos);
  fail_if (later.find ("_url\":\"rtmp") != std::string::npos, "%s", later.c_str ());
  fail_if (later.find (s.key) != std::string::npos);
  fail_if (views.status_json (*r).find ("rtmp") != std::string::npos);
}
GST_END_TEST;

GST_START_TEST (test_rtmp_settings)
{
  Config c;
  std::string error;
  fail_unless (load ("{}", c, error), "%s", error.c_str ());
  fail_unless (c.rtmp.port == 1935 && c.rtmp.tls_port == 0 && c.rtmp.application == "live");
  fail_unless (c.rtmp_host () == "127.0.0.1");
  fail_unless (load ("{\"host\": \"0.0.0.0\", \"rtmp\": {\"port\": 0, \"tls_port\": 1936,"
      " \"tls_cert\": \"c.pem\", \"tls_key\": \"k.pem\", \"host\": \"127.0.0.2\","
      " \"application\": \"app\"}}", c, error), "%s", error.c_str ());
  fail_unless (c.rtmp.port == 0 && c.rtmp.tls_port == 1936 && c.rtmp.enabled ());
  fail_unless (c.rtmp_host () == "127.0.0.2" && c.rtmp.application == "app");
  fail_unless (load ("{\"rtmp\": {\"port\": 0}}", c, error));
  fail_if (c.rtmp.enabled ());
  const char *bad[] = {
    "{\"rtmp\": {\"tls_port\": 1936}}",
    "{\"rtmp\": {\"tls_port\": 1936, \"tls_cert\": \"c.pem\"}}",
    "{\"rtmp\": {\"port\": 70000}}",
    "{\"rtmp\": {\"tls_port\": 1935, \"tls_cert\": \"c\", \"tls_key\": \"k\"}}",
    "{\"rtmp\": {\"application\": \"a/b\"}}",
    "{\"rtmp\": {\"nope\": 1}}",
  };
  for (const char *b : bad) {
    error.clear ();
    fail_if (load (b, c, error), "accepted %s", b);
    fail_unless (!error.empty ());
  }
}
GST_END_TEST;

static Suite *
rtmpadmission_suite ()
{
  Suite *s = suite_create ("rtmpadmission");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_the_key_finds_its_stream);
  tcase_add_test (tc, test_a_free_stream_is_accepted);
  tcase_add_test (tc, test_an_unknown_key_is_bad_name);
  tcase_add_test (tc, test_an_ended_stream_is_rejected);
  tcase_add_test (tc, test_a_live_stream_is_rejected);
  tcase_add_test (tc, test_the_live_limit_rejects);
  tcase_add_test (tc, test_shutting_down_rejects);
  tcase_add_test (tc, test_a_codec_no_pipeline_takes_is_rejected_by_name);
  tcase_add_test (tc, test_refusals_map_to_status_codes);
  tcase_add_test (tc, test_media_of_codecs);
  tcase_add_test (tc, test_server_urls);
  tcase_add_test (tc, test_views_give_rtmp_urls_with_the_key_only);
  tcase_add_test (tc, test_rtmp_settings);
  return s;
}

GST_CHECK_MAIN (rtmpadmission);
