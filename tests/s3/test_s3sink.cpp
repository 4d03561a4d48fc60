/* s3sink in a GstHarness against a fake S3. */
#include "fakes3.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

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
  return s;
}

GST_CHECK_MAIN (s3sink);
