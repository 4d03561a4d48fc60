/* s3sink in a GstHarness against a fake S3. */
#include "fakes3.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <atomic>
#include <thread>

using castline::test::FakeS3;

#define MIB (1024 * 1024)

struct SinkFixture {
  FakeS3 fake;
  GstHarness *h;
  GstBus *bus;

  explicit SinkFixture (const char *key = "rec/a.mp4", const char *extra = nullptr)
  {
    GstElement *e = gst_element_factory_make ("s3sink", nullptr);
    g_object_set (e, "bucket", fake.bucket ().c_str (), "endpoint",
        fake.endpoint ().c_str (), "access-key", "TESTKEY", "secret-key", "s3cret",
        "key", key, "part-size", (guint64) 5 * MIB, "retries", 0, nullptr);
    if (extra)
      gst_util_set_object_arg (G_OBJECT (e), "on-error", extra);
    bus = gst_bus_new ();
    gst_element_set_bus (e, bus);
    h = gst_harness_new_with_element (e, "sink", nullptr);
    gst_object_unref (e);
    gst_harness_set_src_caps_str (h, "video/quicktime");
  }
  ~SinkFixture ()
  {
    gst_harness_teardown (h);
    gst_object_unref (bus);
  }

  GstFlowReturn push_bytes (size_t total, char fill, size_t chunk = 64 * 1024)
  {
    GstFlowReturn ret = GST_FLOW_OK;
    for (size_t done = 0; done < total && ret == GST_FLOW_OK; done += chunk) {
      size_t n = std::min (chunk, total - done);
      GstBuffer *b = gst_buffer_new_allocate (nullptr, n, nullptr);
      gst_buffer_memset (b, 0, fill, n);
      ret = gst_harness_push (h, b);
    }
    return ret;
  }

  /* the s3-error-code of the first error posted, or "" */
  std::string error_code ()
  {
    GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    if (!m)
      return "";
    const GstStructure *details = nullptr;
    gst_message_parse_error_details (m, &details);
    std::string code = details && gst_structure_get_string (details, "s3-error-code")
        ? gst_structure_get_string (details, "s3-error-code") : "(none)";
    gst_message_unref (m);
    return code;
  }
};

GST_START_TEST (test_multipart_upload_exact_bytes)
{
  SinkFixture f;
  fail_unless_equals_int (f.push_bytes (5 * MIB, 'a'), GST_FLOW_OK);
  fail_unless_equals_int (f.push_bytes (5 * MIB, 'b'), GST_FLOW_OK);
  fail_unless_equals_int (f.push_bytes (2 * MIB, 'c'), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (f.h, gst_event_new_eos ()));
  auto o = f.fake.object ("rec/a.mp4");
  fail_unless_equals_int (o.data.size (), 12 * MIB);
  fail_unless (o.data == std::string (5 * MIB, 'a') + std::string (5 * MIB, 'b')
      + std::string (2 * MIB, 'c'));
  fail_unless (o.content_type == "video/mp4", "%s", o.content_type.c_str ());
  fail_unless_equals_int (f.fake.count ("POST", "uploads"), 1);
  fail_unless_equals_int (f.fake.count ("PUT", "partNumber"), 3);
  fail_unless (f.error_code ().empty ());
}
GST_END_TEST;

GST_START_TEST (test_small_object_single_put)
{
  SinkFixture f;
  g_object_set (f.h->element, "content-type", "application/x-test", "cache-control",
      "no-store", nullptr);
  /* properties are read at start: restart the harness element */
  gst_element_set_state (f.h->element, GST_STATE_NULL);
  gst_element_set_state (f.h->element, GST_STATE_PLAYING);
  fail_unless_equals_int (f.push_bytes (100 * 1024, 'x'), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (f.h, gst_event_new_eos ()));
  auto o = f.fake.object ("rec/a.mp4");
  fail_unless_equals_int (o.data.size (), 100 * 1024);
  fail_unless (o.content_type == "application/x-test");
  fail_unless (o.cache_control == "no-store");
  fail_unless_equals_int (f.fake.count ("POST", "uploads"), 0);
}
GST_END_TEST;

GST_START_TEST (test_failed_part_aborts)
{
  SinkFixture f;
  f.fake.fail_next (1, 403, "AccessDenied", "PUT", "partNumber=2");
  fail_unless_equals_int (f.push_bytes (5 * MIB, 'a'), GST_FLOW_OK);  /* part 1 goes */
  GstFlowReturn ret = f.push_bytes (10 * MIB + 1, 'b');  /* part 2 refused */
  if (ret == GST_FLOW_OK)
    fail_if (gst_harness_push_event (f.h, gst_event_new_eos ()), "EOS went through");
  fail_unless (f.error_code () == "AccessDenied");
  fail_unless_equals_int (f.fake.aborted_uploads ().size (), 1);
  fail_if (f.fake.has ("rec/a.mp4"));
}
GST_END_TEST;

GST_START_TEST (test_failed_part_completes_when_asked)
{
  SinkFixture f ("rec/a.mp4", "complete");
  f.fake.fail_next (1, 403, "AccessDenied", "PUT", "partNumber=2");
  fail_unless_equals_int (f.push_bytes (5 * MIB, 'a'), GST_FLOW_OK);
  GstFlowReturn ret = f.push_bytes (10 * MIB + 1, 'b');
  if (ret == GST_FLOW_OK)
    fail_if (gst_harness_push_event (f.h, gst_event_new_eos ()));
  fail_unless (f.error_code () == "AccessDenied");
  fail_unless_equals_int (f.fake.aborted_uploads ().size (), 0);
  auto o = f.fake.object ("rec/a.mp4");
  fail_unless_equals_int (o.data.size (), 5 * MIB);
}
GST_END_TEST;

GST_START_TEST (test_stop_before_eos_aborts)
{
  SinkFixture f;
  fail_unless_equals_int (f.push_bytes (6 * MIB, 'a'), GST_FLOW_OK);
  gst_element_set_state (f.h->element, GST_STATE_NULL);
  fail_unless_equals_int (f.fake.aborted_uploads ().size (), 1);
  fail_if (f.fake.has ("rec/a.mp4"));
}
GST_END_TEST;

GST_START_TEST (test_seek_refused)
{
  SinkFixture f;
  fail_unless_equals_int (f.push_bytes (1000, 'a'), GST_FLOW_OK);
  GstSegment seg;
  gst_segment_init (&seg, GST_FORMAT_BYTES);
  seg.start = 0;
  gst_harness_push_event (f.h, gst_event_new_segment (&seg));
  GstMessage *m = gst_bus_pop_filtered (f.bus, GST_MESSAGE_ERROR);
  fail_unless (m);
  GError *err = nullptr;
  gst_message_parse_error (m, &err, nullptr);
  fail_unless (strstr (err->message, "cannot seek"), "%s", err->message);
  g_error_free (err);
  gst_message_unref (m);
}
GST_END_TEST;

GST_START_TEST (test_seek_back_leaves_nothing)
{
  SinkFixture f;
  fail_unless_equals_int (f.push_bytes (1000, 'a'), GST_FLOW_OK);
  GstSegment seg;
  gst_segment_init (&seg, GST_FORMAT_BYTES);
  gst_harness_push_event (f.h, gst_event_new_segment (&seg));
  /* what a muxer pushes after its seek would land at the wrong place */
  fail_unless_equals_int (f.push_bytes (100, 'h'), GST_FLOW_ERROR);
  fail_if (gst_harness_push_event (f.h, gst_event_new_eos ()));
  fail_unless (f.error_code () == "(none)");
  fail_if (f.fake.has ("rec/a.mp4"));
  fail_unless_equals_int (f.fake.count ("PUT"), 0);
}
GST_END_TEST;

GST_START_TEST (test_multipart_object_headers_and_stats)
{
  SinkFixture f;
  g_object_set (f.h->element, "cache-control", "max-age=60", nullptr);
  gst_element_set_state (f.h->element, GST_STATE_NULL);
  gst_element_set_state (f.h->element, GST_STATE_PLAYING);
  fail_unless_equals_int (f.push_bytes (11 * MIB, 'z'), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (f.h, gst_event_new_eos ()));
  auto o = f.fake.object ("rec/a.mp4");
  fail_unless_equals_int (o.data.size (), 11 * MIB);
  fail_unless (o.content_type == "video/mp4", "%s", o.content_type.c_str ());
  fail_unless (o.cache_control == "max-age=60", "%s", o.cache_control.c_str ());

  GstStructure *stats = nullptr;
  g_object_get (f.h->element, "stats", &stats, nullptr);
  fail_unless (stats);
  guint64 bytes = 0, parts = 0, failed = 1;
  gboolean multipart = FALSE;
  fail_unless (gst_structure_get_uint64 (stats, "bytes-uploaded", &bytes));
  fail_unless (gst_structure_get_uint64 (stats, "parts-uploaded", &parts));
  fail_unless (gst_structure_get_uint64 (stats, "parts-failed", &failed));
  fail_unless (gst_structure_get_boolean (stats, "multipart", &multipart));
  fail_unless_equals_uint64 (bytes, 11 * MIB);
  fail_unless_equals_uint64 (parts, 3);
  fail_unless_equals_uint64 (failed, 0);
  fail_unless (multipart);
  gst_structure_free (stats);
}
GST_END_TEST;

GST_START_TEST (test_part_size_below_minimum_refused)
{
  GstElement *e = gst_element_factory_make ("s3sink", nullptr);
  guint64 size = 0;
  ASSERT_WARNING (g_object_set (e, "part-size", (guint64) 1 * MIB, nullptr));
  g_object_get (e, "part-size", &size, nullptr);
  fail_unless_equals_uint64 (size, 8 * MIB);
  g_object_set (e, "part-size", (guint64) 5 * MIB, nullptr);
  g_object_get (e, "part-size", &size, nullptr);
  fail_unless_equals_uint64 (size, 5 * MIB);
  gst_object_unref (e);
}
GST_END_TEST;

/* max-parts-in-flight bounds memory: render waits, and a flush ends the wait */
GST_START_TEST (test_render_waits_for_parts_and_flush_unblocks)
{
  SinkFixture f;
  g_object_set (f.h->element, "max-parts-in-flight", 1, "check-bucket", FALSE, nullptr);
  gst_element_set_state (f.h->element, GST_STATE_NULL);
  gst_element_set_state (f.h->element, GST_STATE_PLAYING);
  f.fake.set_delay_ms (1500);
  fail_unless_equals_int (f.push_bytes (5 * MIB, 'a', 5 * MIB), GST_FLOW_OK);  /* part 1 goes up */

  std::atomic<int> ret { 1 };
  std::thread pusher ([&] { ret = f.push_bytes (5 * MIB, 'b', 5 * MIB); });
  g_usleep (300 * 1000);
  fail_unless_equals_int (ret.load (), 1);   /* still waiting for part 1 */
  gint64 start = g_get_monotonic_time ();
  fail_unless (gst_harness_push_event (f.h, gst_event_new_flush_start ()));
  pusher.join ();
  fail_unless_equals_int (ret.load (), GST_FLOW_FLUSHING);
  fail_unless (g_get_monotonic_time () - start < 500 * 1000, "the flush did not end the wait");
  fail_unless (gst_harness_push_event (f.h, gst_event_new_flush_stop (TRUE)));
  f.fake.set_delay_ms (0);
}
GST_END_TEST;

/* the whole chain as a user writes it; the object must be a playable MP4 */
GST_START_TEST (test_pipeline_fragmented_mp4)
{
  FakeS3 fake;
  std::string desc = "videotestsrc num-buffers=60 ! video/x-raw,width=320,height=240 ! "
      "x264enc speed-preset=ultrafast ! h264parse ! "
      "mp4mux fragment-duration=500 streamable=true ! s3sink bucket=live key=rec/e2e.mp4 "
      "access-key=TESTKEY secret-key=s3cret endpoint=" + fake.endpoint ();
  GError *err = nullptr;
  GstElement *pipeline = gst_parse_launch (desc.c_str (), &err);
  fail_unless (pipeline, "%s", err ? err->message : "");
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *m = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless (m, "no EOS within 30 s");
  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
    GError *e = nullptr;
    gst_message_parse_error (m, &e, nullptr);
    fail ("error: %s", e->message);
  }
  gst_message_unref (m);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);

  auto o = fake.object ("rec/e2e.mp4");
  fail_unless (o.data.size () > 1000, "%zu bytes", o.data.size ());
  fail_unless (o.data.compare (4, 4, "ftyp") == 0, "no ftyp box first");
  fail_unless (o.data.find ("moof") != std::string::npos, "not fragmented");
  fail_unless (o.content_type == "video/mp4", "%s", o.content_type.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_bad_settings_refused)
{
  for (const char *key : { "", "folder/", "../x.mp4", "/abs.mp4" }) {
    FakeS3 fake;
    GstElement *e = gst_element_factory_make ("s3sink", nullptr);
    GstBus *bus = gst_bus_new ();
    gst_element_set_bus (e, bus);
    g_object_set (e, "bucket", "live", "endpoint", fake.endpoint ().c_str (), "access-key",
        "TESTKEY", "secret-key", "s", "key", key, nullptr);
    fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
    GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    fail_unless (m, "no error for key '%s'", key);
    gst_message_unref (m);
    gst_element_set_state (e, GST_STATE_NULL);
    gst_object_unref (e);
    gst_object_unref (bus);
  }
}
GST_END_TEST;

GST_START_TEST (test_secrets_write_only)
{
  GstElement *e = gst_element_factory_make ("s3sink", nullptr);
  for (const char *name : { "secret-key", "session-token" }) {
    GParamSpec *ps = g_object_class_find_property (G_OBJECT_GET_CLASS (e), name);
    fail_unless (ps);
    fail_if (ps->flags & G_PARAM_READABLE, "%s is readable", name);
  }
  gst_object_unref (e);
}
GST_END_TEST;

static Suite *
s3sink_suite (void)
{
  Suite *s = suite_create ("s3sink");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_multipart_upload_exact_bytes);
  tcase_add_test (tc, test_small_object_single_put);
  tcase_add_test (tc, test_failed_part_aborts);
  tcase_add_test (tc, test_failed_part_completes_when_asked);
  tcase_add_test (tc, test_stop_before_eos_aborts);
  tcase_add_test (tc, test_seek_refused);
  tcase_add_test (tc, test_bad_settings_refused);
  tcase_add_test (tc, test_secrets_write_only);
  tcase_add_test (tc, test_seek_back_leaves_nothing);
  tcase_add_test (tc, test_multipart_object_headers_and_stats);
  tcase_add_test (tc, test_part_size_below_minimum_refused);
  tcase_add_test (tc, test_render_waits_for_parts_and_flush_unblocks);
  tcase_add_test (tc, test_pipeline_fragmented_mp4);
  return s;
}

GST_CHECK_MAIN (s3sink);
