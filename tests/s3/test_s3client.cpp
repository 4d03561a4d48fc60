/* The S3 client against a fake S3: requests, errors, retries, time-outs. */
#include "fakes3.h"
#include "s3/s3client.h"

#include <gst/check/gstcheck.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include <chrono>
#include <condition_variable>
#include <mutex>

using namespace castline::s3;
using castline::test::FakeS3;

static S3Config
config_for (const FakeS3 & fake)
{
  S3Config c;
  c.endpoint = fake.endpoint ();
  c.bucket = fake.bucket ();
  c.credentials = Credentials { "TESTKEY", "test-secret-never-sent", "" };
  c.request_timeout_ms = 2000;
  c.retries = 3;
  return c;
}

static S3Result
put (S3Client & client, const std::string & key, const std::string & data,
    const std::string & ct = "text/plain", const std::string & cc = "")
{
  GBytes *b = g_bytes_new (data.data (), data.size ());
  S3Result r = client.wait ([&] (S3Callback cb) { client.put_object (key, b, ct, cc, std::move (cb)); });
  g_bytes_unref (b);
  return r;
}

GST_START_TEST (test_put_keeps_headers_and_bytes)
{
  FakeS3 fake;
  S3Client client (config_for (fake));
  S3Result r = put (client, "a/b.ts", "hello", "video/mp2t", "max-age=1");
  fail_unless (r.ok, "%s", r.error.describe ().c_str ());
  fail_unless_equals_int (r.attempts, 1);
  auto o = fake.object ("a/b.ts");
  fail_unless (o.data == "hello");
  fail_unless (o.content_type == "video/mp2t");
  fail_unless (o.cache_control == "max-age=1");
  S3Result g = client.wait ([&] (S3Callback cb) { client.get_object ("a/b.ts", std::move (cb)); });
  fail_unless (g.ok && g.body && g_bytes_get_size (g.body.get ()) == 5);
}
GST_END_TEST;

GST_START_TEST (test_keys_with_spaces_and_utf8)
{
  FakeS3 fake;
  S3Client client (config_for (fake));
  fail_unless (put (client, "live/my stream/é+1.ts", "x").ok);
  fail_unless (fake.has ("live/my stream/é+1.ts"));
}
GST_END_TEST;

GST_START_TEST (test_5xx_retried)
{
  FakeS3 fake;
  S3Client client (config_for (fake));
  fake.fail_next (2, 500, "InternalError");
  S3Result r = put (client, "k", "v");
  fail_unless (r.ok, "%s", r.error.describe ().c_str ());
  fail_unless_equals_int (r.attempts, 3);
}
GST_END_TEST;

GST_START_TEST (test_slowdown_retried)
{
  FakeS3 fake;
  S3Client client (config_for (fake));
  fake.fail_next (1, 503, "SlowDown");
  S3Result r = put (client, "k", "v");
  fail_unless (r.ok);
  fail_unless_equals_int (r.attempts, 2);
}
GST_END_TEST;

GST_START_TEST (test_retries_run_out)
{
  FakeS3 fake;
  S3Config c = config_for (fake);
  c.retries = 2;
  S3Client client (c);
  fake.fail_next (10, 500, "InternalError");
  S3Result r = put (client, "k", "v");
  fail_if (r.ok);
  fail_unless_equals_int (r.attempts, 3);
  fail_unless (r.error.code == "InternalError");
  fail_unless (r.error.retryable ());
}
GST_END_TEST;

GST_START_TEST (test_4xx_not_retried_and_named)
{
  FakeS3 fake;
  S3Config c = config_for (fake);
  c.credentials.access_key = "WRONG";
  S3Client client (c);
  S3Result r = put (client, "seg/1.ts", "v");
  fail_if (r.ok);
  fail_unless_equals_int (r.attempts, 1);
  fail_unless_equals_int (r.http_status, 403);
  std::string d = r.error.describe ();
  fail_unless (d.find ("InvalidAccessKeyId") != std::string::npos, "%s", d.c_str ());
  fail_unless (d.find ("seg/1.ts") != std::string::npos, "%s", d.c_str ());
  fail_if (r.error.retryable ());
}
GST_END_TEST;

GST_START_TEST (test_unknown_bucket)
{
  FakeS3 fake;
  S3Config c = config_for (fake);
  c.bucket = "other";
  S3Client client (c);
  S3Result r = client.wait ([&] (S3Callback cb) { client.head_bucket (std::move (cb)); });
  fail_if (r.ok);
  fail_unless (r.error.code == "NoSuchBucket", "%s", r.error.describe ().c_str ());
  r = put (client, "k", "v");
  fail_unless (r.error.code == "NoSuchBucket");
  fail_unless_equals_int (r.attempts, 1);
}
GST_END_TEST;

/* a HEAD answer has no body: a refused bucket check asks again with a GET
 * and names S3's own Code and Message, never a secret it was sent */
GST_START_TEST (test_head_bucket_refusal_names_the_cause)
{
  FakeS3 fake;
  S3Config c = config_for (fake);
  c.credentials.session_token = "token-never-shown";
  c.retries = 0;
  struct Case {
    const char *code;
    const char *message;
  } cases[] = {
    { "SignatureDoesNotMatch", "The request signature we calculated does not match the "
          "signature you provided. Check your key and signing method." },
    { "RequestTimeTooSkewed", "The difference between the request time and the current "
          "time is too large." },
    /* a server that echoes what it was sent */
    { "AccessDenied", "token-never-shown is not allowed (test-secret-never-sent)" },
  };
  for (auto & k : cases) {
    S3Client client (c);
    fake.fail_next (2, 403, k.code, "", "", k.message);
    S3Result r = client.wait ([&] (S3Callback cb) { client.head_bucket (std::move (cb)); });
    fail_if (r.ok);
    fail_unless_equals_int (r.http_status, 403);
    fail_unless_equals_string (r.error.code.c_str (), k.code);
    std::string d = r.error.describe ();
    fail_unless (d.find ("token-never-shown") == std::string::npos, "%s", d.c_str ());
    fail_unless (d.find ("test-secret-never-sent") == std::string::npos, "%s", d.c_str ());
    if (g_str_equal (k.code, "AccessDenied"))
      fail_unless (d.find ("(redacted) is not allowed ((redacted))") != std::string::npos,
          "%s", d.c_str ());
    else
      fail_unless (d.find (k.message) != std::string::npos, "%s", d.c_str ());
  }
  /* the fake's own refusal of an unknown key id */
  c.credentials.access_key = "WRONG";
  S3Client client (c);
  S3Result r = client.wait ([&] (S3Callback cb) { client.head_bucket (std::move (cb)); });
  fail_unless_equals_string (r.error.code.c_str (), "InvalidAccessKeyId");
  fail_unless (r.error.message.find ("access key does not exist") != std::string::npos,
      "%s", r.error.describe ().c_str ());
  /* and a bucket that is there still answers HEAD alone */
  c.credentials.access_key = "TESTKEY";
  S3Client ok_client (c);
  size_t gets = fake.count ("GET");
  r = ok_client.wait ([&] (S3Callback cb) { ok_client.head_bucket (std::move (cb)); });
  fail_unless (r.ok, "%s", r.error.describe ().c_str ());
  fail_unless_equals_int (fake.count ("GET"), gets);
}
GST_END_TEST;

/* the observer hears of each attempt that will be retried, with its error */
GST_START_TEST (test_retry_observer_told_of_each_retry)
{
  FakeS3 fake;
  S3Config c = config_for (fake);
  c.request_timeout_ms = 300;
  c.retries = 2;
  std::mutex m;
  std::vector<std::string> seen;
  S3Client client (c, [&] (const S3Error & e) {
    std::lock_guard<std::mutex> lk (m);
    seen.push_back (e.code);
  });
  fake.set_hanging (true);
  S3Result r = put (client, "k", "v");
  fake.set_hanging (false);
  fail_unless (r.error.code == "Timeout", "%s", r.error.describe ().c_str ());
  std::lock_guard<std::mutex> lk (m);
  fail_unless_equals_int (seen.size (), 2);   /* not the last attempt: that one is the answer */
  for (auto & code : seen)
    fail_unless_equals_string (code.c_str (), "Timeout");
}
GST_END_TEST;

GST_START_TEST (test_timeout_is_bounded)
{
  FakeS3 fake;
  S3Config c = config_for (fake);
  c.request_timeout_ms = 300;
  c.retries = 1;
  S3Client client (c);
  fake.set_delay_ms (2000);
  gint64 start = g_get_monotonic_time ();
  S3Result r = put (client, "k", "v");
  gint64 took_ms = (g_get_monotonic_time () - start) / 1000;
  fail_if (r.ok);
  fail_unless (r.error.code == "Timeout", "%s", r.error.describe ().c_str ());
  fail_unless_equals_int (r.attempts, 2);
  fail_unless (took_ms < 1500, "two 300 ms attempts took %" G_GINT64_FORMAT " ms", took_ms);
}
GST_END_TEST;

GST_START_TEST (test_connection_refused)
{
  /* a port nobody listens on: bind one, note it, close it */
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *sa = g_inet_socket_address_new (lo, 0);
  fail_unless (g_socket_bind (s, sa, TRUE, nullptr));
  GSocketAddress *bound = g_socket_get_local_address (s, nullptr);
  guint port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_object_unref (bound);
  g_object_unref (sa);
  g_object_unref (lo);
  g_socket_close (s, nullptr);
  g_object_unref (s);

  S3Config c;
  c.endpoint = "http://127.0.0.1:" + std::to_string (port);
  c.bucket = "live";
  c.credentials = Credentials { "k", "s", "" };
  c.retries = 1;
  S3Client client (c);
  S3Result r = put (client, "k", "v");
  fail_if (r.ok);
  fail_unless (r.error.code == "ConnectionFailed", "%s", r.error.describe ().c_str ());
  fail_unless (r.error.retryable ());
  fail_unless_equals_int (r.attempts, 2);
}
GST_END_TEST;

GST_START_TEST (test_multipart_round_trip_and_abort)
{
  FakeS3 fake;
  S3Client client (config_for (fake));
  S3Result c = client.wait ([&] (S3Callback cb) {
    client.create_multipart_upload ("rec.mp4", "video/mp4", "no-cache", std::move (cb));
  });
  fail_unless (c.ok && !c.upload_id.empty ());
  std::vector<S3Part> parts;
  for (int n = 1; n <= 2; n++) {
    std::string data (10, 'a' + n);
    GBytes *b = g_bytes_new (data.data (), data.size ());
    S3Result p = client.wait ([&] (S3Callback cb) {
      client.upload_part ("rec.mp4", c.upload_id, n, b, std::move (cb));
    });
    g_bytes_unref (b);
    fail_unless (p.ok && !p.etag.empty ());
    parts.push_back (S3Part { n, p.etag });
  }
  S3Result done = client.wait ([&] (S3Callback cb) {
    client.complete_multipart_upload ("rec.mp4", c.upload_id, parts, std::move (cb));
  });
  fail_unless (done.ok, "%s", done.error.describe ().c_str ());
  fail_unless (fake.object ("rec.mp4").data == std::string (10, 'b') + std::string (10, 'c'));
  fail_unless (fake.object ("rec.mp4").content_type == "video/mp4");

  S3Result c2 = client.wait ([&] (S3Callback cb) {
    client.create_multipart_upload ("rec2.mp4", "", "", std::move (cb));
  });
  S3Result a = client.wait ([&] (S3Callback cb) {
    client.abort_multipart_upload ("rec2.mp4", c2.upload_id, std::move (cb));
  });
  fail_unless (a.ok);
  fail_unless_equals_int (fake.aborted_uploads ().size (), 1);
}
GST_END_TEST;

GST_START_TEST (test_delete_objects)
{
  FakeS3 fake;
  S3Client client (config_for (fake));
  for (auto k : { "a", "b", "c" })
    fail_unless (put (client, k, "x").ok);
  S3Result r = client.wait ([&] (S3Callback cb) { client.delete_objects ({ "a", "b" }, std::move (cb)); });
  fail_unless (r.ok);
  fail_unless (fake.keys () == std::vector<std::string> { "c" });
  r = client.wait ([&] (S3Callback cb) { client.delete_object ("c", std::move (cb)); });
  fail_unless (r.ok && fake.keys ().empty ());
}
GST_END_TEST;

GST_START_TEST (test_secret_never_sent)
{
  FakeS3 fake;
  S3Client client (config_for (fake));
  fail_unless (put (client, "k", "v").ok);
  S3Result c = client.wait ([&] (S3Callback cb) {
    client.create_multipart_upload ("m", "", "", std::move (cb));
  });
  fail_unless (c.ok);
  fail_unless (client.wait ([&] (S3Callback cb) {
    client.delete_objects ({ "k" }, std::move (cb));
  }).ok);
  fail_unless (fake.request_count () >= 3);
  for (auto & req : fake.requests ()) {
    fail_unless (req.authorization.find ("AWS4-HMAC-SHA256 Credential=TESTKEY/") == 0);
    fail_unless (req.headers.find ("Authorization: AWS4-HMAC-SHA256") != std::string::npos);
    for (auto * where : { &req.headers, &req.query, &req.path, &req.small_body })
      fail_unless (where->find ("test-secret") == std::string::npos, "secret sent: %s",
          where->c_str ());
  }
}
GST_END_TEST;

GST_START_TEST (test_server_down_then_back)
{
  FakeS3 fake;
  S3Config c = config_for (fake);
  c.retries = 0;
  S3Client client (c);
  fail_unless (put (client, "before", "1").ok);
  fake.set_down (true);
  S3Result r = put (client, "during", "2");
  fail_if (r.ok);
  fail_unless (r.error.code == "ConnectionFailed", "%s", r.error.describe ().c_str ());
  fail_unless (r.error.retryable ());
  fake.set_down (false);
  r = put (client, "after", "3");
  fail_unless (r.ok, "%s", r.error.describe ().c_str ());
  fail_unless (fake.keys () == (std::vector<std::string> { "after", "before" }));
  fail_unless (fake.object ("before").order < fake.object ("after").order);
  fail_unless (fake.object ("before").arrival_us <= fake.object ("after").arrival_us);
}
GST_END_TEST;

GST_START_TEST (test_complete_with_wrong_etag_refused)
{
  FakeS3 fake;
  S3Client client (config_for (fake));
  S3Result c = client.wait ([&] (S3Callback cb) {
    client.create_multipart_upload ("rec.mp4", "", "", std::move (cb));
  });
  fail_unless (c.ok);
  GBytes *b = g_bytes_new ("abc", 3);
  S3Result p = client.wait ([&] (S3Callback cb) {
    client.upload_part ("rec.mp4", c.upload_id, 1, b, std::move (cb));
  });
  g_bytes_unref (b);
  fail_unless (p.ok);
  S3Result done = client.wait ([&] (S3Callback cb) {
    client.complete_multipart_upload ("rec.mp4", c.upload_id, { S3Part { 1, "\"bogus\"" } },
        std::move (cb));
  });
  fail_if (done.ok);
  fail_unless (done.error.code == "InvalidPart", "%s", done.error.describe ().c_str ());
  fail_unless_equals_int (done.attempts, 1);
  fail_if (fake.has ("rec.mp4"));
}
GST_END_TEST;

GST_START_TEST (test_error_xml_and_backoff)
{
  const char *xml = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>gone</Message>"
      "<Key>a/b</Key><BucketName>live</BucketName><RequestId>r1</RequestId></Error>";
  S3Error e;
  fail_unless (parse_s3_error_xml (xml, strlen (xml), e));
  fail_unless (e.code == "NoSuchKey" && e.message == "gone" && e.key == "a/b" && e.bucket == "live");
  S3Error none;
  fail_if (parse_s3_error_xml ("<html>bad gateway</html>", 24, none));
  fail_if (parse_s3_error_xml ("not xml", 7, none));

  for (int i = 0; i < 100; i++) {
    unsigned d1 = backoff_delay_ms (1, 200, 5000);
    fail_unless (d1 >= 100 && d1 <= 200, "attempt 1: %u", d1);
    unsigned d10 = backoff_delay_ms (10, 200, 5000);
    fail_unless (d10 >= 2500 && d10 <= 5000, "attempt 10: %u", d10);
  }
}
GST_END_TEST;

GST_START_TEST (test_cancel_and_destroy_in_flight)
{
  FakeS3 fake;
  fake.set_delay_ms (1500);
  std::mutex m;
  std::condition_variable cond;
  std::vector<std::string> codes;
  {
    S3Client client (config_for (fake));
    GBytes *b = g_bytes_new ("v", 1);
    for (int i = 0; i < 3; i++)
      client.put_object ("k" + std::to_string (i), b, "", "", [&] (S3Result r) {
        std::lock_guard<std::mutex> lk (m);
        codes.push_back (r.error.code);
        cond.notify_all ();
      });
    g_bytes_unref (b);
    /* let the requests reach the server, which holds its answers */
    for (int i = 0; i < 500 && fake.request_count () < 3; i++)
      g_usleep (10 * 1000);
    client.cancel_all ();
    {
      std::unique_lock<std::mutex> lk (m);
      /* well before the 1.5 s the answers would take */
      cond.wait_for (lk, std::chrono::milliseconds (1000), [&] { return codes.size () == 3; });
      fail_unless_equals_int (codes.size (), 3);
      for (auto & c : codes)
        fail_unless (c == "Cancelled", "%s", c.c_str ());
    }
    /* and a client destroyed with requests in flight neither hangs nor crashes */
    GBytes *b2 = g_bytes_new ("v", 1);
    client.put_object ("late", b2, "", "", [] (S3Result) {});
    g_bytes_unref (b2);
  }
}
GST_END_TEST;


/* A server that takes a large body slowly (about 16 MiB/s) and answers at
 * once when it has it all: the upload moves the whole time, so a
 * request-timeout far shorter than the upload must not cut it. */
GST_START_TEST (test_slow_but_moving_upload_not_cut)
{
  int listener = socket (AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  fail_unless (bind (listener, (struct sockaddr *) &addr, sizeof (addr)) == 0);
  fail_unless (listen (listener, 1) == 0);
  socklen_t len = sizeof (addr);
  getsockname (listener, (struct sockaddr *) &addr, &len);
  int port = ntohs (addr.sin_port);

  std::thread server ([listener] {
    int c = accept (listener, nullptr, nullptr);
    int small = 64 * 1024;
    setsockopt (c, SOL_SOCKET, SO_RCVBUF, &small, sizeof (small));
    std::string head;
    char ch;
    while (head.find ("\r\n\r\n") == std::string::npos && recv (c, &ch, 1, 0) == 1)
      head.push_back (ch);
    std::string lower = head;
    for (auto & x : lower)
      x = g_ascii_tolower (x);
    size_t pos = lower.find ("content-length:");
    size_t remaining = pos == std::string::npos ? 0 : strtoull (lower.c_str () + pos + 15, nullptr, 10);
    std::vector<char> buf (256 * 1024);
    while (remaining > 0) {
      ssize_t n = recv (c, buf.data (), std::min (buf.size (), remaining), 0);
      if (n <= 0)
        break;
      remaining -= n;
      g_usleep (15 * 1000);
    }
    const char *answer = "HTTP/1.1 200 OK\r\nETag: \"slow\"\r\nContent-Length: 0\r\n\r\n";
    if (send (c, answer, strlen (answer), 0) < 0)
      g_printerr ("send failed\n");
    g_usleep (100 * 1000);
    close (c);
  });

  S3Config c;
  c.endpoint = "http://127.0.0.1:" + std::to_string (port);
  c.bucket = "live";
  c.credentials = Credentials { "k", "s", "" };
  c.request_timeout_ms = 700;
  c.retries = 0;
  S3Client client (c);
  std::string big (32 * 1024 * 1024, 'x');
  gint64 start = g_get_monotonic_time ();
  S3Result r = put (client, "big.bin", big);
  gint64 took_ms = (g_get_monotonic_time () - start) / 1000;
  server.join ();
  close (listener);
  fail_unless (took_ms > 1000, "the server was not slow (%" G_GINT64_FORMAT " ms): no proof", took_ms);
  fail_unless (r.ok, "a moving %" G_GINT64_FORMAT " ms upload was cut: %s", took_ms,
      r.error.describe ().c_str ());
}
GST_END_TEST;

/* a probe is tried once, within its own time-out, whatever the client's */
GST_START_TEST (test_probe_is_bounded_and_not_retried)
{
  FakeS3 fake;
  S3Config c = config_for (fake);
  c.request_timeout_ms = 10000;
  S3Client client (c);
  S3Result up = client.wait ([&] (S3Callback cb) { client.probe (300, std::move (cb)); });
  fail_unless (up.ok, "%s", up.error.describe ().c_str ());
  fake.set_hanging (true);
  gint64 start = g_get_monotonic_time ();
  S3Result r = client.wait ([&] (S3Callback cb) { client.probe (300, std::move (cb)); });
  gint64 took_ms = (g_get_monotonic_time () - start) / 1000;
  fake.set_hanging (false);
  fail_unless_equals_string (r.error.code.c_str (), "Timeout");
  fail_unless_equals_int (r.attempts, 1);
  fail_unless (took_ms < 1500, "a 300 ms probe took %" G_GINT64_FORMAT " ms", took_ms);
}
GST_END_TEST;

/* S3 stopped answering and came back, but the connection of a request in
 * flight died with the hang: restart_stalled sends it again at once, on a
 * new connection, instead of waiting out the request time-out; a
 * request that moved since is left alone */
GST_START_TEST (test_restart_stalled_resends_at_once)
{
  FakeS3 fake;
  S3Config c = config_for (fake);
  c.request_timeout_ms = 10000;
  S3Client client (c);
  fake.set_hanging (true);
  std::mutex m;
  std::condition_variable cond;
  S3Result got;
  bool done = false;
  GBytes *b = g_bytes_new_static ("v", 1);
  client.put_object ("k", b, "text/plain", "", [&] (S3Result r) {
    std::lock_guard<std::mutex> lk (m);
    got = std::move (r);
    done = true;
    cond.notify_all ();
  });
  g_bytes_unref (b);
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (fake.count ("PUT") < 1 && g_get_monotonic_time () < deadline)
    g_usleep (10000);
  fail_unless_equals_int (fake.count ("PUT"), 1);
  fake.set_hanging (false, false);    /* back, but that request is never answered */
  gint64 back = g_get_monotonic_time ();
  /* a probe sent before the hang: nothing moved since, nothing restarts */
  client.invoke ([&client] { client.restart_stalled (0); });
  g_usleep (300000);
  fail_unless_equals_int (fake.count ("PUT"), 1);
  client.invoke ([&client, back] { client.restart_stalled (back); });
  std::unique_lock<std::mutex> lk (m);
  fail_unless (cond.wait_for (lk, std::chrono::seconds (5), [&] { return done; }),
      "the stalled request was not sent again");
  gint64 took_ms = (g_get_monotonic_time () - back) / 1000;
  fail_unless (got.ok, "%s", got.error.describe ().c_str ());
  fail_unless_equals_int (got.attempts, 1);   /* a restart is no failed attempt */
  fail_unless_equals_int (fake.count ("PUT"), 2);
  fail_unless (took_ms < 2000, "answered %" G_GINT64_FORMAT " ms after S3 was back", took_ms);
}
GST_END_TEST;

static Suite *
s3client_suite (void)
{
  Suite *s = suite_create ("s3client");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_put_keeps_headers_and_bytes);
  tcase_add_test (tc, test_keys_with_spaces_and_utf8);
  tcase_add_test (tc, test_5xx_retried);
  tcase_add_test (tc, test_slowdown_retried);
  tcase_add_test (tc, test_retries_run_out);
  tcase_add_test (tc, test_4xx_not_retried_and_named);
  tcase_add_test (tc, test_unknown_bucket);
  tcase_add_test (tc, test_head_bucket_refusal_names_the_cause);
  tcase_add_test (tc, test_retry_observer_told_of_each_retry);
  tcase_add_test (tc, test_timeout_is_bounded);
  tcase_add_test (tc, test_slow_but_moving_upload_not_cut);
  tcase_add_test (tc, test_connection_refused);
  tcase_add_test (tc, test_multipart_round_trip_and_abort);
  tcase_add_test (tc, test_delete_objects);
  tcase_add_test (tc, test_secret_never_sent);
  tcase_add_test (tc, test_server_down_then_back);
  tcase_add_test (tc, test_complete_with_wrong_etag_refused);
  tcase_add_test (tc, test_error_xml_and_backoff);
  tcase_add_test (tc, test_cancel_and_destroy_in_flight);
  tcase_add_test (tc, test_probe_is_bounded_and_not_retried);
  tcase_add_test (tc, test_restart_stalled_resends_at_once);
  return s;
}

GST_CHECK_MAIN (s3client);
