/* StreamManager::admit, the one way every ingest's publisher goes live:
 * keys, states, limits, shutting down, the pipeline chosen for what the
 * publisher sends, and what the ingest is given (attach, keyframe
 * requests, the publisher-lost hook). */
#include "fakeingest.h"
#include "ingest/websocket/websocketingest.h"
#include "routetest.h"

#include <gst/check/gstcheck.h>

using namespace castline::launcher;
using namespace routetest;

GST_START_TEST (test_admits_with_the_right_key)
{
  auto m = make_manager ();
  std::vector<std::string> events;
  m->add_event_listener ([&events] (const StreamEvent & e) { events.push_back (e.type); });
  Created s = create (*m);
  Refusal refusal;
  FakeIngest *ingest = admit (*m, s, refusal, { { "vp8", "h264" }, { "opus" } });
  fail_unless (ingest != nullptr, "%s", refusal.reason.c_str ());
  /* passthrough takes H.264 first, whatever the publisher's order */
  fail_unless (ingest->video == "h264" && ingest->audio == "opus");
  fail_unless (ingest->attached_to == m->live (s.id)->pipeline.get ());
  fail_unless (m->live (s.id)->pipeline_name == "passthrough");
  auto r = m->get (s.id);
  fail_unless (r->state == StreamState::live);
  fail_unless (r->ingest == "fake");
  fail_unless (events.back () == "stream.started");
  m->end (s.id);
}
GST_END_TEST;

GST_START_TEST (test_refuses_a_wrong_key_and_an_unknown_stream)
{
  auto m = make_manager ();
  Created s = create (*m);
  Refusal refusal;
  fail_unless (admit (*m, s, refusal, h264_opus (), "wrong") == nullptr);
  fail_unless_equals_int (refusal.status, 401);
  fail_unless (admit (*m, { "nosuchstream", s.key }, refusal) == nullptr);
  fail_unless_equals_int (refusal.status, 401);
  fail_unless (m->get (s.id)->state == StreamState::created);
}
GST_END_TEST;

GST_START_TEST (test_refuses_a_second_publisher)
{
  auto m = make_manager ();
  Created s = create (*m);
  Refusal refusal;
  fail_unless (admit (*m, s, refusal) != nullptr);
  fail_unless (admit (*m, s, refusal) == nullptr);
  fail_unless_equals_int (refusal.status, 409);
  fail_unless (refusal.reason.find ("publisher") != std::string::npos);
  m->end (s.id);
}
GST_END_TEST;

GST_START_TEST (test_refuses_an_ended_stream)
{
  auto m = make_manager ();
  Created s = create (*m);
  m->end (s.id);
  Refusal refusal;
  fail_unless (admit (*m, s, refusal) == nullptr);
  fail_unless_equals_int (refusal.status, 409);
  fail_unless (refusal.reason.find ("ended") != std::string::npos);
}
GST_END_TEST;

GST_START_TEST (test_refuses_past_the_limit)
{
  Config c = test_config ();
  c.max_live_streams = 1;
  auto m = make_manager (c);
  Created a = create (*m), b = create (*m);
  Refusal refusal;
  fail_unless (admit (*m, a, refusal) != nullptr);
  fail_unless (admit (*m, b, refusal) == nullptr);
  fail_unless_equals_int (refusal.status, 503);
  fail_unless (refusal.reason.find ("limit") != std::string::npos);
  m->end (a.id);
}
GST_END_TEST;

/* every ingest, the WebSocket one included, is refused while the daemon
 * finalizes its streams on SIGTERM */
GST_START_TEST (test_refuses_every_ingest_while_shutting_down)
{
  auto m = make_manager ();
  Created s = create (*m);
  bool done = false;
  m->shutdown ([&done] { done = true; });
  fail_unless (done, "nothing was live: the shutdown is over at once");
  Refusal refusal;
  fail_unless (admit (*m, s, refusal) == nullptr);
  fail_unless_equals_int (refusal.status, 503);
  fail_unless (refusal.reason == "the server is shutting down", "%s", refusal.reason.c_str ());

  castline::webmws::MimeType mime;
  std::string error;
  fail_unless (castline::webmws::parse_mime_type ("video/webm;codecs=vp8,opus", mime, error));
  auto ws = std::make_unique<WebSocketIngest> (media_of_mime_type (mime), 10);
  fail_unless (m->admit (s.id, s.key, std::move (ws), refusal) == nullptr);
  fail_unless_equals_int (refusal.status, 503);
  fail_unless (m->live (s.id) == nullptr);
  fail_unless (m->get (s.id)->state == StreamState::created);
}
GST_END_TEST;

GST_START_TEST (test_refuses_what_no_pipeline_takes)
{
  auto m = make_manager ();
  Created s = create (*m);
  Refusal refusal;
  fail_unless (admit (*m, s, refusal, { { "av1" }, { "opus" } }) == nullptr);
  fail_unless_equals_int (refusal.status, 406);
  Created audio = create (*m, "audio-only");
  fail_unless (admit (*m, audio, refusal, { { "h264" }, {} }) == nullptr);
  fail_unless_equals_int (refusal.status, 406);
  fail_unless (refusal.reason.find ("audio-only") != std::string::npos, "%s",
      refusal.reason.c_str ());
  fail_unless (m->get (s.id)->state == StreamState::created);
}
GST_END_TEST;

/* an ingest whose elements cannot be made (a plugin not installed): the
 * stream fails with the reason, and nothing of it is left live */
GST_START_TEST (test_an_ingest_that_cannot_attach_fails_the_stream)
{
  auto m = make_manager ();
  Created s = create (*m);
  Created other = create (*m);
  std::vector<std::string> told;
  m->add_event_listener ([&told] (const StreamEvent & e) { told.push_back (e.type); });
  Refusal refusal;
  auto ingest = std::make_unique<FakeIngest> (h264_opus (), true);
  fail_unless (m->admit (s.id, s.key, std::move (ingest), refusal) == nullptr);
  fail_unless_equals_int (refusal.status, 500);
  fail_unless (refusal.reason == "no such element");
  fail_unless (m->live (s.id) == nullptr);
  fail_unless (m->get (s.id)->state == StreamState::failed);
  fail_unless (m->get (s.id)->reason == "no such element");
  fail_unless (told == std::vector<std::string> { "stream.failed" });
  fail_unless (m->get (other.id)->state == StreamState::created, "another stream was touched");
}
GST_END_TEST;

/* viewerstats gone after the descriptions were checked (the abr ladder
 * makes its rungs at the input's first caps): the stream fails, with a
 * reason naming it, and no GLib CRITICAL (gst-check makes them fatal) */
GST_START_TEST (test_a_rung_element_missing_at_run_time_fails_the_stream)
{
  auto m = make_manager ();
  Created s = create (*m, "abr");
  GstRegistry *registry = gst_registry_get ();
  GstPluginFeature *viewerstats = gst_registry_lookup_feature (registry, "viewerstats");
  fail_unless (viewerstats != nullptr);
  gst_registry_remove_feature (registry, viewerstats);
  Refusal refusal;
  auto sending = std::make_unique<FakeIngest> (h264_opus (), false, true);
  fail_unless (m->admit (s.id, s.key, std::move (sending), refusal) != nullptr, "%s",
      refusal.reason.c_str ());
  bool failed = iterate_until ([&] { return m->get (s.id)->state == StreamState::failed; },
      30000);
  gst_registry_add_feature (registry, viewerstats);
  fail_unless (failed, "the stream is %s", state_name (m->get (s.id)->state));
  std::string reason = m->get (s.id)->reason;
  fail_unless (reason.find ("missing GStreamer element 'viewerstats'") != std::string::npos, "%s",
      reason.c_str ());
  iterate_until ([&] { return m->live (s.id) == nullptr; });
}
GST_END_TEST;

GST_START_TEST (test_abandon_puts_the_stream_back)
{
  auto m = make_manager ();
  Created s = create (*m);
  Refusal refusal;
  FakeIngest *ingest = admit (*m, s, refusal);
  fail_unless (ingest != nullptr);
  m->abandon (s.id, "another session");
  fail_unless (m->live (s.id) != nullptr, "another session's failure ended this one");
  m->abandon (s.id, ingest->session ());
  fail_unless (m->live (s.id) == nullptr);
  auto r = m->get (s.id);
  fail_unless (r->state == StreamState::created && r->ingest.empty () && r->started_at == 0);
  fail_unless (admit (*m, s, refusal) != nullptr, "%s", refusal.reason.c_str ());
  m->end (s.id);
}
GST_END_TEST;

/* media flows: the stream's pipeline prerolled and plays (a publisher
 * lost while it still prerolls was seen to keep the stream live for over
 * 30 s on a loaded machine: not what these tests are about) */
static void
wait_playing (StreamManager & m, const std::string & id)
{
  GstElement *pipeline = GST_ELEMENT (m.live (id)->pipeline->pipeline ());
  GstState state = GST_STATE_NULL;
  gst_element_get_state (pipeline, &state, nullptr, 30 * GST_SECOND);
  fail_unless (state == GST_STATE_PLAYING, "the pipeline is %s", gst_element_state_get_name (state));
}

/* a publisher with media, admitted, its pipeline playing */
static FakeIngest *
admit_playing (StreamManager & m, const Created & s)
{
  Refusal refusal;
  auto sending = std::make_unique<FakeIngest> (h264_opus (), false, true);
  FakeIngest *ingest = sending.get ();
  fail_unless (m.admit (s.id, s.key, std::move (sending), refusal) != nullptr, "%s",
      refusal.reason.c_str ());
  wait_playing (m, s.id);
  return ingest;
}

/* the whole record, as GET /api/streams/{id} shows it */
static void
fail_unless_same_record (const StreamRecord & a, const StreamRecord & b)
{
  fail_unless (a.state == b.state, "state %s, was %s", state_name (a.state), state_name (b.state));
  fail_unless_equals_string (a.reason.c_str (), b.reason.c_str ());
  fail_unless_equals_string (a.pipeline.c_str (), b.pipeline.c_str ());
  fail_unless_equals_string (a.ingest.c_str (), b.ingest.c_str ());
  fail_unless_equals_int64 (a.started_at, b.started_at);
  fail_unless_equals_int64 (a.ended_at, b.ended_at);
  fail_unless_equals_string (a.title.c_str (), b.title.c_str ());
  fail_unless (a.record == b.record);
}

/* a refused WHIP offer (its negotiation failed after admit) leaves the
 * stream exactly as it was: no pipeline choice stays behind, a fresh
 * stream or an interrupted one */
GST_START_TEST (test_abandon_leaves_the_record_as_it_was)
{
  auto m = make_manager ();
  Created s = create (*m);
  StreamRecord before = *m->get (s.id);
  fail_unless (before.pipeline.empty ());
  Refusal refusal;
  FakeIngest *ingest = admit (*m, s, refusal);
  fail_unless (ingest != nullptr, "%s", refusal.reason.c_str ());
  m->abandon (s.id, ingest->session ());
  fail_unless_same_record (*m->get (s.id), before);

  /* interrupted: lost, then a publisher that could not be connected */
  FakeIngest *first = admit_playing (*m, s);
  first->hooks.publisher_lost ("the peer went away", false);
  fail_unless (iterate_until ([&] { return m->get (s.id)->state == StreamState::interrupted; },
          30000), "not interrupted");
  iterate_until ([&] { return m->live (s.id) == nullptr; });
  StreamRecord interrupted = *m->get (s.id);
  ingest = admit (*m, s, refusal);
  fail_unless (ingest != nullptr, "%s", refusal.reason.c_str ());
  m->abandon (s.id, ingest->session ());
  fail_unless_same_record (*m->get (s.id), interrupted);
  fail_unless (admit (*m, s, refusal) != nullptr, "the window is open again: %s",
      refusal.reason.c_str ());
  m->end (s.id);
}
GST_END_TEST;

/* the ingest's hook: a lost publisher interrupts the stream once its
 * pipeline is finalized; a hook of a session that is over does nothing */
GST_START_TEST (test_a_lost_publisher_interrupts_the_stream)
{
  auto m = make_manager ();
  Created s = create (*m);
  FakeIngest *ingest = admit_playing (*m, s);
  auto lost = ingest->hooks.publisher_lost;
  lost ("the peer went away", false);
  fail_unless (iterate_until ([&] { return m->get (s.id)->state == StreamState::interrupted; },
          30000), "not interrupted");
  fail_unless (m->get (s.id)->reason == "the peer went away");
  iterate_until ([&] { return m->live (s.id) == nullptr; });
  lost ("again", false);           /* that session is over */
  fail_unless (m->get (s.id)->state == StreamState::interrupted);
  m->end (s.id);
  fail_unless (m->get (s.id)->state == StreamState::ended);
}
GST_END_TEST;

/* a publisher lost when its pipeline cannot be finalized (here its video
 * EOS is dropped) interrupts the stream after shutdown_timeout: the
 * publisher may come back, as after any loss */
GST_START_TEST (test_a_lost_publisher_interrupts_even_without_finalizing)
{
  Config c = test_config ();
  c.shutdown_timeout = 1;
  auto m = make_manager (std::move (c));
  Created s = create (*m);
  FakeIngest *ingest = admit_playing (*m, s);
  GstElement *pipeline = GST_ELEMENT (m->live (s.id)->pipeline->pipeline ());
  g_autoptr (GstElement) video_in = gst_bin_get_by_name (GST_BIN (pipeline), "video_in");
  fail_unless (video_in != nullptr);
  g_autoptr (GstPad) src = gst_element_get_static_pad (video_in, "src");
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      [] (GstPad *, GstPadProbeInfo * info, gpointer) -> GstPadProbeReturn {
        return GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS
            ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
      }, nullptr, nullptr);
  ingest->hooks.publisher_lost ("the peer went away", false);
  fail_unless (iterate_until ([&] { return m->get (s.id)->state != StreamState::live; }, 15000),
      "still live");
  fail_unless (m->get (s.id)->state == StreamState::interrupted, "%s: %s",
      state_name (m->get (s.id)->state), m->get (s.id)->reason.c_str ());
  iterate_until ([&] { return m->live (s.id) == nullptr; });
  m->end (s.id);
}
GST_END_TEST;

static Suite *
admission_suite ()
{
  Suite *s = suite_create ("admission");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_admits_with_the_right_key);
  tcase_add_test (tc, test_refuses_a_wrong_key_and_an_unknown_stream);
  tcase_add_test (tc, test_refuses_a_second_publisher);
  tcase_add_test (tc, test_refuses_an_ended_stream);
  tcase_add_test (tc, test_refuses_past_the_limit);
  tcase_add_test (tc, test_refuses_every_ingest_while_shutting_down);
  tcase_add_test (tc, test_refuses_what_no_pipeline_takes);
  tcase_add_test (tc, test_an_ingest_that_cannot_attach_fails_the_stream);
  tcase_add_test (tc, test_a_rung_element_missing_at_run_time_fails_the_stream);
  tcase_add_test (tc, test_abandon_puts_the_stream_back);
  tcase_add_test (tc, test_abandon_leaves_the_record_as_it_was);
  tcase_add_test (tc, test_a_lost_publisher_interrupts_the_stream);
  tcase_add_test (tc, test_a_lost_publisher_interrupts_even_without_finalizing);
  return s;
}

GST_CHECK_MAIN (admission);
