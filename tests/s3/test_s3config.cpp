/* Addressing, settings from the environment, validation, and HTTPS with a
 * CA bundle (AWS_CA_BUNDLE). */
#include "s3/s3client.h"
#include "s3/s3config.h"

#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include <condition_variable>
#include <mutex>
#include <thread>

using namespace castline::s3;

GST_START_TEST (test_path_and_virtual_hosted_style)
{
  S3Config c;
  c.bucket = "live";
  c.region = "eu-west-1";
  S3Url u = c.url_for ("a b/c.ts");
  fail_unless (u.url == "https://live.s3.eu-west-1.amazonaws.com/a%20b/c.ts", "%s", u.url.c_str ());
  fail_unless (u.host == "live.s3.eu-west-1.amazonaws.com");
  fail_unless (u.path == "/a b/c.ts");

  c.force_path_style = true;
  u = c.url_for ("x.ts", "uploads=");
  fail_unless (u.url == "https://s3.eu-west-1.amazonaws.com/live/x.ts?uploads=", "%s", u.url.c_str ());

  c.force_path_style = false;
  c.endpoint = "http://127.0.0.1:4569";
  u = c.url_for ("x.ts");
  fail_unless (u.url == "http://127.0.0.1:4569/live/x.ts", "IP endpoints use path style: %s",
      u.url.c_str ());
  fail_unless (u.host == "127.0.0.1:4569");

  c.endpoint = "http://[::1]:9000";
  u = c.url_for ("");
  fail_unless (u.url == "http://[::1]:9000/live", "%s", u.url.c_str ());
  fail_unless (u.host == "[::1]:9000");

  c.endpoint = "https://project.supabase.co/storage/v1/s3";
  c.force_path_style = true;
  u = c.url_for ("k");
  fail_unless (u.url == "https://project.supabase.co/storage/v1/s3/live/k", "%s", u.url.c_str ());
  fail_unless (u.path == "/storage/v1/s3/live/k");

  c.endpoint = "https://r2.example.com:443";
  c.force_path_style = false;
  c.bucket = "my.bucket";  /* dots: path style, TLS wildcards would not match */
  u = c.url_for ("k");
  fail_unless (u.url == "https://r2.example.com/my.bucket/k", "%s", u.url.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_environment_fallback)
{
  g_setenv ("AWS_ACCESS_KEY_ID", "ENVKEY", TRUE);
  g_setenv ("AWS_SECRET_ACCESS_KEY", "envsecret", TRUE);
  g_setenv ("AWS_SESSION_TOKEN", "envtoken", TRUE);
  g_setenv ("AWS_DEFAULT_REGION", "ap-south-1", TRUE);
  g_unsetenv ("AWS_REGION");
  g_setenv ("AWS_ENDPOINT_URL", "http://127.0.0.1:1234", TRUE);
  g_unsetenv ("AWS_ENDPOINT_URL_S3");
  g_setenv ("AWS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt", TRUE);
  S3Config c;
  c.credentials.access_key = "PROPKEY";  /* a property wins over the environment */
  c.apply_environment ();
  fail_unless (c.credentials.access_key == "PROPKEY");
  fail_unless (c.credentials.secret_key == "envsecret");
  fail_unless (c.credentials.session_token == "envtoken");
  fail_unless (c.region == "ap-south-1");
  fail_unless (c.endpoint == "http://127.0.0.1:1234");
  fail_unless (c.ca_file == "/etc/ssl/certs/ca-certificates.crt");
  g_setenv ("AWS_REGION", "us-west-2", TRUE);
  S3Config d;
  d.apply_environment ();
  fail_unless (d.region == "us-west-2", "AWS_REGION comes before AWS_DEFAULT_REGION");
}
GST_END_TEST;

GST_START_TEST (test_validation_names_the_cause)
{
  std::string e;
  S3Config c;
  c.credentials = Credentials { "k", "s", "" };
  fail_if (c.validate (e));
  fail_unless (e.find ("no bucket") != std::string::npos, "%s", e.c_str ());
  c.bucket = "Bad_Bucket";
  fail_if (c.validate (e));
  fail_unless (e.find ("lower-case") != std::string::npos, "%s", e.c_str ());
  c.bucket = "live";
  c.endpoint = "ftp://x";
  fail_if (c.validate (e));
  fail_unless (e.find ("http://") != std::string::npos, "%s", e.c_str ());
  c.endpoint = "not a url";
  fail_if (c.validate (e));
  c.endpoint = "http://127.0.0.1:4569";
  c.credentials = Credentials ();
  fail_if (c.validate (e));
  fail_unless (e.find ("credentials") != std::string::npos, "%s", e.c_str ());

  for (const char *bad : { "/abs/", "a//b/", "../up/", "a/./b", "a\\b/", "a\nb/" })
    fail_if (validate_key_prefix (bad, e), "'%s' accepted", bad);
  for (const char *good : { "", "live/", "live/stream1-", "a/b/c/", "é/ü/" })
    fail_unless (validate_key_prefix (good, e), "'%s' refused: %s", good, e.c_str ());
  fail_if (validate_object_key ("", e));
  fail_if (validate_object_key ("dir/", e));
  fail_unless (validate_object_key ("dir/file.mp4", e));
}
GST_END_TEST;

/* HTTPS: a TLS server with a certificate made for this test, trusted
 * through the CA bundle setting (as AWS_CA_BUNDLE would give it). */
GST_START_TEST (test_https_with_ca_bundle)
{
  g_autofree gchar *dir = g_dir_make_tmp ("castline-tls-XXXXXX", nullptr);
  std::string key = std::string (dir) + "/key.pem", cert = std::string (dir) + "/cert.pem";
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " + cert + " 2>/dev/null";
  fail_unless (system (cmd.c_str ()) == 0, "openssl could not make a certificate");

  GError *err = nullptr;
  GTlsCertificate *tls = g_tls_certificate_new_from_files (cert.c_str (), key.c_str (), &err);
  fail_unless (tls, "%s", err ? err->message : "");

  GMainContext *ctx = g_main_context_new ();
  GMainLoop *loop = g_main_loop_new (ctx, FALSE);
  guint port = 0;
  std::mutex m;
  std::condition_variable cv;
  std::thread server ([&] {
    g_main_context_push_thread_default (ctx);
    SoupServer *srv = soup_server_new ("tls-certificate", tls, nullptr);
    soup_server_add_handler (srv, nullptr, [] (SoupServer *, SoupServerMessage * msg,
            const char *, GHashTable *, gpointer) {
          soup_server_message_set_status (msg, 200, nullptr);
        }, nullptr, nullptr);
    fail_unless (soup_server_listen_local (srv, 0,
            (SoupServerListenOptions) (SOUP_SERVER_LISTEN_IPV4_ONLY | SOUP_SERVER_LISTEN_HTTPS),
            nullptr));
    GSList *uris = soup_server_get_uris (srv);
    {
      std::lock_guard<std::mutex> lk (m);
      port = g_uri_get_port ((GUri *) uris->data);
    }
    g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
    cv.notify_all ();
    g_main_loop_run (loop);
    soup_server_disconnect (srv);
    g_object_unref (srv);
    g_main_context_pop_thread_default (ctx);
  });
  {
    std::unique_lock<std::mutex> lk (m);
    cv.wait (lk, [&] { return port != 0; });
  }

  S3Config c;
  c.endpoint = "https://127.0.0.1:" + std::to_string (port);
  c.bucket = "live";
  c.credentials = Credentials { "k", "s", "" };
  c.retries = 0;
  {
    /* without the bundle, the self-made certificate is not trusted */
    S3Client untrusted (c);
    S3Result r = untrusted.wait ([&] (S3Callback cb) { untrusted.head_bucket (std::move (cb)); });
    fail_if (r.ok, "an unknown certificate was accepted");
  }
  c.ca_file = cert;
  {
    S3Client trusted (c);
    S3Result r = trusted.wait ([&] (S3Callback cb) { trusted.head_bucket (std::move (cb)); });
    fail_unless (r.ok, "%s", r.error.describe ().c_str ());
  }
  {
    /* a bundle that does not exist is ignored (with a warning), not fatal */
    c.ca_file = std::string (dir) + "/missing.pem";
    S3Client client (c);
  }

  g_main_context_invoke (ctx, [] (gpointer l) -> gboolean {
        g_main_loop_quit ((GMainLoop *) l);
        return G_SOURCE_REMOVE;
      }, loop);
  server.join ();
  g_main_loop_unref (loop);
  g_main_context_unref (ctx);
  g_object_unref (tls);
  g_unlink (key.c_str ());
  g_unlink (cert.c_str ());
  g_rmdir (dir);
}
GST_END_TEST;

static Suite *
s3config_suite (void)
{
  Suite *s = suite_create ("s3config");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_path_and_virtual_hosted_style);
  tcase_add_test (tc, test_environment_fallback);
  tcase_add_test (tc, test_validation_names_the_cause);
  tcase_add_test (tc, test_https_with_ca_bundle);
  return s;
}

GST_CHECK_MAIN (s3config);
