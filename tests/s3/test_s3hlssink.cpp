/* s3hlssink in a small pipeline against a fake S3: what ends up in the bucket,
 * through faults. */
#include "fakes3.h"
#include "s3/uploadlatency.h"

#include <gst/check/gstcheck.h>

#include <set>

using castline::test::FakeS3;

/* A sink bin prerolls asynchronously, which GstHarness does not allow for
 * the element under test, so each test runs a small pipeline to EOS. */
struct HlsFixture {
  FakeS3 fake;
  GstElement *pipeline = nullptr;
  GstElement *sink = nullptr;
  GstBus *bus = nullptr;

  /* frames of 1/30 s, keyframe every 15: segments of 1 s */
  void start (int frames, const char *props)
  {
    g_autofree gchar *desc = g_strdup_printf (
        "videotestsrc num-buffers=%d pattern=ball ! video/x-raw,width=160,height=120,"
        "framerate=30/1 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! "
        "h264parse ! s3hlssink name=s bucket=%s endpoint=%s access-key=TESTKEY "
        "secret-key=s3cret key-prefix=s/ target-duration=1 %s",
        frames, fake.bucket ().c_str (), fake.endpoint ().c_str (), props ? props : "");
    GError *err = nullptr;
    pipeline = gst_parse_launch (desc, &err);
    fail_unless (pipeline, "%s", err ? err->message : "?");
    sink = gst_bin_get_by_name (GST_BIN (pipeline), "s");
    bus = gst_element_get_bus (pipeline);
    gst_element_set_state (pipeline, GST_STATE_PLAYING);
  }

  ~HlsFixture ()
  {
    for (auto *m : seen)
      gst_message_unref (m);
    if (pipeline) {
      gst_element_set_state (pipeline, GST_STATE_NULL);
      gst_object_unref (sink);
      gst_object_unref (bus);
      gst_object_unref (pipeline);
    }
  }

  /* the pipeline's EOS (after the sink's flush) or its first error */
  GstMessage *finish (GstClockTime timeout = 30 * GST_SECOND)
  {
    return gst_bus_timed_pop_filtered (bus, timeout,
        (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  }

  std::vector<GstMessage *> seen;

  /* collects everything up to EOS/error, returns the end message */
  GstMessage *run_to_end (GstClockTime timeout = 30 * GST_SECOND)
  {
    gint64 deadline = g_get_monotonic_time () + timeout / 1000;
    while (g_get_monotonic_time () < deadline) {
      GstMessage *m = gst_bus_timed_pop (bus, 100 * GST_MSECOND);
      if (!m)
        continue;
      if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS || GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR)
        return m;
      if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT
          && gst_structure_has_name (gst_message_get_structure (m), "s3hlssink-recovered"))
        unavailable_at_recovery = unavailable ();
      seen.push_back (m);
    }
    return nullptr;
  }

  /* the first message of type on the bus within timeout (kept in seen
   * with what came before it), or nullptr */
  GstMessage *wait_for (GstMessageType type, GstClockTime timeout = 20 * GST_SECOND)
  {
    gint64 deadline = g_get_monotonic_time () + timeout / 1000;
    while (g_get_monotonic_time () < deadline) {
      GstMessage *m = gst_bus_timed_pop (bus, 100 * GST_MSECOND);
      if (!m)
        continue;
      seen.push_back (m);
      if (GST_MESSAGE_TYPE (m) == type)
        return m;
    }
    return nullptr;
  }

  guint64 stat (const char *field)
  {
    GstStructure *stats = nullptr;
    g_object_get (sink, "stats", &stats, nullptr);
    guint64 out = 0;
    gst_structure_get_uint64 (stats, field, &out);
    gst_structure_free (stats);
    return out;
  }

  /* every segment the final playlist names is in the bucket, in order */
  void check_nothing_lost (size_t at_least)
  {
    auto names = playlist_names ();
    fail_unless (names.size () >= at_least, "%zu segments", names.size ());
    for (size_t i = 0; i < names.size (); i++) {
      g_autofree gchar *want = g_strdup_printf ("segment%05zu.ts", i);
      fail_unless (names[i] == want, "%s where %s was expected", names[i].c_str (), want);
      fail_unless (fake.has ("s/" + names[i]), "%s not uploaded", names[i].c_str ());
    }
  }

  /* the sink's stats say S3 is unavailable (s3-unavailable) */
  bool unavailable ()
  {
    GstStructure *stats = nullptr;
    g_object_get (sink, "stats", &stats, nullptr);
    gboolean out = FALSE;
    gst_structure_get_boolean (stats, "s3-unavailable", &out);
    gst_structure_free (stats);
    return out;
  }
  bool unavailable_at_recovery = false;

  size_t count (GstMessageType type)
  {
    size_t n = 0;
    for (auto *m : seen)
      n += GST_MESSAGE_TYPE (m) == type;
    return n;
  }

  bool saw (GstMessageType type, const char *structure_name = nullptr)
  {
    for (auto *m : seen)
      if (GST_MESSAGE_TYPE (m) == type && (!structure_name || (gst_message_get_structure (m)
                  && gst_structure_has_name (gst_message_get_structure (m), structure_name))))
        return true;
    return false;
  }

  std::vector<std::string> playlist_names ()
  {
    std::vector<std::string> out;
    std::string pl = fake.object ("s/playlist.m3u8").data;
    g_auto (GStrv) lines = g_strsplit (pl.c_str (), "\n", -1);
    for (char **l = lines; *l; l++)
      if (**l && **l != '#')
        out.push_back (*l);
    return out;
  }
};

GST_START_TEST (test_segments_then_final_playlist)
{
  HlsFixture f;
  f.start (100, "playlist-length=0 max-files=0");
  GstMessage *m = f.finish ();
  fail_unless (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS, "no EOS after the flush");
  gst_message_unref (m);

  std::string pl = f.fake.object ("s/playlist.m3u8").data;
  fail_unless (pl.find ("#EXT-X-ENDLIST") != std::string::npos, "%s", pl.c_str ());
  auto names = f.playlist_names ();
  fail_unless (names.size () >= 3, "%s", pl.c_str ());
  for (auto & n : names) {
    auto o = f.fake.object ("s/" + n);
    fail_unless (!o.data.empty (), "%s named but not uploaded", n.c_str ());
    fail_unless (o.content_type == "video/mp2t");
    fail_unless ((guint8) o.data[0] == 0x47, "%s is not MPEG-TS", n.c_str ());
  }
  fail_unless (f.fake.object ("s/playlist.m3u8").content_type == "application/vnd.apple.mpegurl");

  /* every playlist PUT came after the PUTs of the segments it names */
  std::set<std::string> stored;
  int playlist_puts = 0;
  for (auto & r : f.fake.requests ()) {
    if (r.method != "PUT" || r.status != 200)
      continue;
    std::string name = r.path.substr (r.path.rfind ('/') + 1);
    if (g_str_has_suffix (name.c_str (), ".ts")) {
      stored.insert (name);
      continue;
    }
    playlist_puts++;
    g_auto (GStrv) lines = g_strsplit (r.small_body.c_str (), "\n", -1);
    for (char **l = lines; *l; l++)
      fail_unless (!**l || **l == '#' || stored.count (*l),
          "playlist version %d named %s before it was stored", playlist_puts, *l);
  }
  fail_unless (playlist_puts >= 2);
  fail_unless_equals_int (stored.size (), names.size ());

  GstStructure *stats = nullptr;
  g_object_get (f.sink, "stats", &stats, nullptr);
  guint64 completed = 0, pending = 1;
  gst_structure_get_uint64 (stats, "uploads-completed", &completed);
  gst_structure_get_uint64 (stats, "pending-uploads", &pending);
  fail_unless (completed >= names.size () + 1);
  fail_unless_equals_int (pending, 0);
  /* every segment stored is in the latency histogram: its last bucket
   * (60 s) holds them all, the count too */
  guint64 latencies = 0;
  gst_structure_get_uint64 (stats, "upload-latency-count", &latencies);
  fail_unless_equals_uint64 (latencies, names.size ());
  const GValue *buckets = gst_structure_get_value (stats, "upload-latency-buckets");
  fail_unless (buckets && GST_VALUE_HOLDS_ARRAY (buckets));
  guint n = gst_value_array_get_size (buckets);
  fail_unless_equals_int (n, castline::s3::kUploadLatencyBounds.size ());
  fail_unless_equals_uint64 (g_value_get_uint64 (gst_value_array_get_value (buckets, n - 1)),
      names.size ());
  gst_structure_free (stats);
}
GST_END_TEST;

/* program-date-time: every segment of the uploaded playlist dated, a
 * second apart (1 s segments), around now; without it, no dates */
GST_START_TEST (test_program_date_time_dates_every_segment)
{
  for (bool on : { true, false }) {
    HlsFixture f;
    gint64 before = g_get_real_time ();
    f.start (100, on ? "program-date-time=true playlist-length=0" : "playlist-length=0");
    GstMessage *m = f.finish ();
    fail_unless (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS);
    gst_message_unref (m);
    std::string pl = f.fake.object ("s/playlist.m3u8").data;
    std::vector<gint64> dates;
    size_t segments = 0;
    g_auto (GStrv) lines = g_strsplit (pl.c_str (), "\n", -1);
    for (char **l = lines; *l; l++) {
      segments += g_str_has_prefix (*l, "#EXTINF:");
      if (!g_str_has_prefix (*l, "#EXT-X-PROGRAM-DATE-TIME:"))
        continue;
      g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (*l + 25, nullptr);
      fail_unless (dt, "%s", *l);
      dates.push_back (g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt));
    }
    fail_unless (segments >= 3, "%s", pl.c_str ());
    if (!on) {
      fail_unless (dates.empty (), "%s", pl.c_str ());
      continue;
    }
    fail_unless_equals_int (dates.size (), segments);
    for (size_t i = 0; i < dates.size (); i++) {
      fail_unless (llabs (dates[i] - before) < 30 * G_USEC_PER_SEC, "%s", pl.c_str ());
      if (i > 0)
        fail_unless (dates[i] > dates[i - 1], "%s", pl.c_str ());
    }
  }
}
GST_END_TEST;

GST_START_TEST (test_expired_segments_deleted)
{
  HlsFixture f;
  f.start (200, "playlist-length=2 max-files=3");
  GstMessage *m = f.finish ();
  fail_unless (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS);
  gst_message_unref (m);
  size_t segments = 0;
  for (auto & k : f.fake.keys ())
    segments += g_str_has_suffix (k.c_str (), ".ts");
  fail_unless (segments <= 3, "%zu segments left in the bucket", segments);
  fail_unless (f.fake.count ("DELETE") >= 3);
  fail_unless_equals_int (f.playlist_names ().size (), 2);
}
GST_END_TEST;

GST_START_TEST (test_outage_warns_recovers_and_loses_nothing)
{
  HlsFixture f;
  f.fake.fail_next (6, 503, "ServiceUnavailable", "PUT");
  f.start (120, "playlist-length=0 max-files=0 retries=0");
  GstMessage *m = f.run_to_end ();
  fail_unless (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS);
  gst_message_unref (m);
  fail_unless (f.saw (GST_MESSAGE_WARNING), "no warning for the outage");
  for (auto *w : f.seen) {
    if (GST_MESSAGE_TYPE (w) != GST_MESSAGE_WARNING)
      continue;
    /* the S3 answer travels in the details, the message and the debug
     * string say different things */
    const GstStructure *details = nullptr;
    gst_message_parse_warning_details (w, &details);
    fail_unless (details, "an outage warning without details");
    fail_unless_equals_string (gst_structure_get_string (details, "s3-error-code"),
        "ServiceUnavailable");
    guint status = 0;
    fail_unless (gst_structure_get_uint (details, "http-status-code", &status));
    fail_unless_equals_int (status, 503);
    GError *err = nullptr;
    g_autofree gchar *debug = nullptr;
    gst_message_parse_warning (w, &err, &debug);
    fail_unless (debug && strstr (debug, "ServiceUnavailable"), "%s", debug);
    fail_if (g_str_equal (err->message, debug), "the same text twice: %s", debug);
    g_error_free (err);
  }
  fail_unless (f.saw (GST_MESSAGE_ELEMENT, "s3hlssink-recovered"), "no recovery message");
  /* recovered means sending again: not still paused on the last backoff
   * (unless S3 failed again after, which is a second outage and warning) */
  fail_unless (!f.unavailable_at_recovery || f.count (GST_MESSAGE_WARNING) >= 2,
      "s3-unavailable still TRUE after s3hlssink-recovered");
  fail_unless (!f.unavailable (), "s3-unavailable TRUE after EOS");

  auto names = f.playlist_names ();
  fail_unless (names.size () >= 4);
  for (size_t i = 0; i < names.size (); i++) {
    g_autofree gchar *want = g_strdup_printf ("segment%05zu.ts", i);
    fail_unless (names[i] == want, "%s where %s was expected", names[i].c_str (), want);
    fail_unless (f.fake.has ("s/" + names[i]));
  }
}
GST_END_TEST;

/* S3 refuses connections for a while, then listens again: what waited in
 * the spool goes up at once, not when the backoff after the last failure
 * ends (at least 2.5 s once 5 uploads have failed in a row, up to 5 s);
 * s3-unavailable clears with s3hlssink-recovered */
GST_START_TEST (test_recovery_uploads_spool_at_once)
{
  HlsFixture f;
  f.fake.set_down (true);
  f.start (120, "playlist-length=0 max-files=0 retries=0 check-bucket=false");
  /* eight failures: rounds of at most max-parallel-uploads (4), so the round
   * of the eighth began at the fifth failure or later */
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (f.stat ("uploads-failed") < 8 && g_get_monotonic_time () < deadline)
    g_usleep (5000);
  fail_unless (f.stat ("uploads-failed") >= 8, "uploads did not fail while S3 was down");
  fail_unless (f.unavailable ());
  size_t before = f.fake.request_count ();   /* 0: nothing reached S3 */
  f.fake.set_down (false);
  gint64 back = g_get_monotonic_time ();

  GstMessage *m = f.run_to_end ();
  fail_unless (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS);
  gst_message_unref (m);
  auto requests = f.fake.requests ();
  fail_unless (requests.size () > before);
  gint64 first_ms = (requests[before].arrival_us - back) / 1000;
  fail_unless (first_ms < 1500, "the first upload came %" G_GINT64_FORMAT " ms after S3 was "
      "back: the spool waited for a backoff", first_ms);
  fail_unless_equals_string (requests[before].method.c_str (), "PUT");
  fail_unless (f.saw (GST_MESSAGE_ELEMENT, "s3hlssink-recovered"), "no recovery message");
  fail_unless (!f.unavailable_at_recovery, "s3-unavailable still TRUE at s3hlssink-recovered");
  fail_unless_equals_int (f.count (GST_MESSAGE_WARNING), 1);
  f.check_nothing_lost (3);
}
GST_END_TEST;

/* S3 accepts connections and reads requests but never answers: the outage
 * warning comes one request-timeout after the first upload (and the
 * client's quarter-second progress check), not once every retry of it has
 * timed out too (4 x request-timeout with retries=3) */
GST_START_TEST (test_hanging_s3_warns_within_request_timeout)
{
  HlsFixture f;
  f.fake.set_hanging (true);
  f.start (60, "playlist-length=0 max-files=0 retries=3 request-timeout=1000 "
      "check-bucket=false");
  GstMessage *w = f.wait_for (GST_MESSAGE_WARNING);
  gint64 warned = g_get_monotonic_time ();
  fail_unless (w, "no warning while S3 hangs");
  auto requests = f.fake.requests ();
  fail_unless (!requests.empty ());
  gint64 after_ms = (warned - requests[0].arrival_us) / 1000;
  fail_unless (after_ms < 2500, "the warning came %" G_GINT64_FORMAT " ms after the first "
      "upload, with request-timeout=1000", after_ms);
  const GstStructure *details = nullptr;
  gst_message_parse_warning_details (w, &details);
  fail_unless (details);
  fail_unless_equals_string (gst_structure_get_string (details, "s3-error-code"), "Timeout");
  fail_unless (f.unavailable ());

  f.fake.set_hanging (false);
  GstMessage *m = f.run_to_end ();
  fail_unless (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS);
  gst_message_unref (m);
  fail_unless (f.saw (GST_MESSAGE_ELEMENT, "s3hlssink-recovered"), "no recovery message");
  fail_unless (!f.unavailable ());
  f.check_nothing_lost (1);
}
GST_END_TEST;

/* S3 hangs, then answers again, but the connections of the uploads in
 * flight died with the hang (never answered): a probe finds S3 back and
 * those uploads start over at once, not one request-timeout (8 s here)
 * after their last retry was sent */
GST_START_TEST (test_stalled_uploads_restart_when_s3_is_back)
{
  HlsFixture f;
  f.fake.set_hanging (true);
  f.start (60, "playlist-length=0 max-files=0 retries=3 request-timeout=8000 "
      "check-bucket=false");
  fail_unless (f.wait_for (GST_MESSAGE_WARNING, 15 * GST_SECOND), "no warning while S3 hangs");
  g_usleep (G_USEC_PER_SEC);        /* the retries are out, on connections about to die */
  size_t before = f.fake.request_count ();
  f.fake.set_hanging (false, false);
  gint64 back = g_get_monotonic_time ();

  GstMessage *m = f.run_to_end ();
  fail_unless (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS);
  gst_message_unref (m);
  auto requests = f.fake.requests ();
  gint64 first_put_ms = -1;
  for (size_t i = before; i < requests.size () && first_put_ms < 0; i++)
    if (requests[i].method == "PUT" && requests[i].arrival_us >= back)
      first_put_ms = (requests[i].arrival_us - back) / 1000;
  fail_unless (first_put_ms >= 0, "no upload after S3 was back");
  fail_unless (first_put_ms < 4500, "the first upload came %" G_GINT64_FORMAT " ms after S3 "
      "was back: the uploads waited out their request time-out", first_put_ms);
  fail_unless (f.saw (GST_MESSAGE_ELEMENT, "s3hlssink-recovered"), "no recovery message");
  fail_unless (!f.unavailable ());
  f.check_nothing_lost (1);
}
GST_END_TEST;

/* check-bucket refused: the error names S3's Code and Message (a HEAD
 * answer has none of its own), never the secret */
GST_START_TEST (test_bucket_check_refusal_names_the_cause)
{
  HlsFixture f;
  f.fake.fail_next (2, 403, "SignatureDoesNotMatch", "", "", "The request signature we "
      "calculated does not match the signature you provided. Check your key and signing "
      "method.");
  f.start (30, "session-token=t0ken");
  GstMessage *m = f.finish ();
  fail_unless (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR, "no error");
  const GstStructure *details = nullptr;
  gst_message_parse_error_details (m, &details);
  fail_unless (details);
  fail_unless_equals_string (gst_structure_get_string (details, "s3-error-code"),
      "SignatureDoesNotMatch");
  GError *err = nullptr;
  g_autofree gchar *debug = nullptr;
  gst_message_parse_error (m, &err, &debug);
  fail_unless (strstr (err->message, "SignatureDoesNotMatch (HTTP 403): The request signature "
          "we calculated does not match"), "%s", err->message);
  for (const char *secret : { "s3cret", "t0ken" }) {
    fail_if (strstr (err->message, secret), "%s", err->message);
    fail_if (debug && strstr (debug, secret), "%s", debug);
  }
  g_error_free (err);
  gst_message_unref (m);
  fail_if (f.fake.has ("s/segment00000.ts"));
}
GST_END_TEST;

GST_START_TEST (test_full_spool_is_an_error)
{
  HlsFixture f;
  f.fake.fail_next (1000, 503, "ServiceUnavailable", "PUT");
  f.start (120, "retries=0 spool-memory-limit=1000 spool-limit=20000");
  GstMessage *m = f.finish ();
  fail_unless (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR, "no error when the spool is full");
  GError *err = nullptr;
  gst_message_parse_error (m, &err, nullptr);
  fail_unless (strstr (err->message, "spool is full"), "%s", err->message);
  g_error_free (err);
  gst_message_unref (m);
}
GST_END_TEST;

GST_START_TEST (test_refused_upload_is_an_error_with_code)
{
  HlsFixture f;
  f.fake.fail_next (1, 403, "AccessDenied", "PUT");
  f.start (60, "check-bucket=false");
  GstMessage *m = f.finish ();
  fail_unless (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR);
  const GstStructure *details = nullptr;
  gst_message_parse_error_details (m, &details);
  fail_unless (details);
  fail_unless_equals_string (gst_structure_get_string (details, "s3-error-code"), "AccessDenied");
  GError *err = nullptr;
  g_autofree gchar *debug = nullptr;
  gst_message_parse_error (m, &err, &debug);
  fail_unless (strstr (err->message, "AccessDenied"), "%s", err->message);
  fail_unless (debug && !strstr (debug, "AccessDenied"), "the same text twice: %s", debug);
  g_error_free (err);
  gst_message_unref (m);
}
GST_END_TEST;

static Suite *
s3hlssink_suite (void)
{
  Suite *s = suite_create ("s3hlssink");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 90);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_segments_then_final_playlist);
  tcase_add_test (tc, test_program_date_time_dates_every_segment);
  tcase_add_test (tc, test_expired_segments_deleted);
  tcase_add_test (tc, test_outage_warns_recovers_and_loses_nothing);
  tcase_add_test (tc, test_recovery_uploads_spool_at_once);
  tcase_add_test (tc, test_hanging_s3_warns_within_request_timeout);
  tcase_add_test (tc, test_stalled_uploads_restart_when_s3_is_back);
  tcase_add_test (tc, test_bucket_check_refusal_names_the_cause);
  tcase_add_test (tc, test_full_spool_is_an_error);
  tcase_add_test (tc, test_refused_upload_is_an_error_with_code);
  return s;
}

GST_CHECK_MAIN (s3hlssink);
