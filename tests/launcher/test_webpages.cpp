/* castline-launcher's web pages without a server: which paths show which
 * page, which /ui/ names are served and as what, the CSP, ETag matching. */
#include "config/config.h"
#include "api/webpages.h"

#include <gst/check/gstcheck.h>

#include <string>

using namespace castline::launcher;

static bool
contains (const std::string & s, const std::string & part)
{
  return s.find (part) != std::string::npos;
}

GST_START_TEST (test_paths_show_their_page)
{
  fail_unless (page_for_path ("/") == "dashboard.html");
  fail_unless (page_for_path ("/broadcast") == "broadcast.html");
  fail_unless (page_for_path ("/broadcast/k3x9q2m7p1ab") == "broadcast.html");
  fail_unless (page_for_path ("/watch/k3x9q2m7p1ab") == "watch.html");
  fail_unless (page_for_path ("/streams/k3x9q2m7p1ab") == "stream.html");
  for (const char *p : { "", "/watch", "/watch/", "/watch/ABC", "/watch/a/b", "/watch/-a",
           "/broadcast/", "/broadcast/a b", "/broadcast/../x", "/dashboard.html", "//",
           "/broadcastx", "/streams", "/streams/", "/streams/a/b", "/streams/../x" })
    fail_unless (page_for_path (p).empty (), "'%s' shows a page", p);
  std::string long_id (65, 'a');
  fail_unless (page_for_path ("/watch/" + long_id).empty ());
}
GST_END_TEST;

GST_START_TEST (test_ui_names_are_flat_and_typed)
{
  for (const char *n : { "app.css", "watch.js", "hls.min.js", "a-b_c.svg", "x" })
    fail_unless (valid_ui_name (n), "refused '%s'", n);
  for (const char *n : { "", ".", "..", ".hidden.css", "../x.css", "sub/x.css", "a\\b.css",
           "a b.css", "a%2e.css", "caf\xc3\xa9.css" })
    fail_if (valid_ui_name (n), "accepted '%s'", n);
  fail_if (valid_ui_name (std::string (129, 'a')));
  fail_unless (valid_ui_name (std::string (124, 'a') + ".css"));

  fail_unless_equals_string (web_content_type ("a.html"), "text/html; charset=utf-8");
  fail_unless_equals_string (web_content_type ("a.css"), "text/css; charset=utf-8");
  fail_unless_equals_string (web_content_type ("a.min.js"), "text/javascript; charset=utf-8");
  fail_unless_equals_string (web_content_type ("a.svg"), "image/svg+xml");
  fail_unless_equals_string (web_content_type ("a.png"), "image/png");
  fail_unless_equals_string (web_content_type ("a.ico"), "image/x-icon");
  fail_unless_equals_string (web_content_type ("a.json"), "application/json");
  fail_unless_equals_string (web_content_type ("a.js.map"), "application/json");
  for (const char *n : { "README", "a.txt", "a.HTML", "a.js.bak", "a.", "html" })
    fail_unless (web_content_type (n) == nullptr, "'%s' has a type", n);
}
GST_END_TEST;

GST_START_TEST (test_vendored_files_come_from_their_settings)
{
  Config c;
  c.hlsjs_path = "/srv/hls.js/hls.min.js";
  c.uplot_dir = "/srv/uplot";
  std::vector<VendoredFile> files = vendored_files (c);
  fail_unless_equals_int (files.size (), 3);
  fail_unless (files[0].name == "hls.min.js" && files[0].path == c.hlsjs_path);
  fail_unless (files[1].name == "uPlot.iife.min.js" && files[1].path == "/srv/uplot/uPlot.iife.min.js");
  fail_unless (files[2].name == "uPlot.min.css" && files[2].path == "/srv/uplot/uPlot.min.css");
  fail_unless (files[2].setting == "uplot_dir");
  /* each a name /ui/ takes, of a type it serves */
  for (const VendoredFile & f : files)
    fail_unless (valid_ui_name (f.name) && web_content_type (f.name), "%s", f.name.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_origins)
{
  fail_unless (url_origin ("http://127.0.0.1:8080/live/x/index.m3u8") == "http://127.0.0.1:8080");
  fail_unless (url_origin ("https://cdn.example/bucket") == "https://cdn.example");
  fail_unless (url_origin ("https://user:pw@cdn.example:8443/") == "https://cdn.example:8443");
  fail_unless (url_origin ("http://[::1]:9000/b") == "http://[::1]:9000");
  fail_unless (url_origin ("not a url").empty ());
  fail_unless (url_origin ("/relative").empty ());
}
GST_END_TEST;

GST_START_TEST (test_csp_names_the_configured_origins)
{
  Config c = default_config ();
  std::string csp = page_csp (c);
  for (const char *part : { "default-src 'self'", "script-src 'self'", "style-src 'self'",
           "img-src 'self' data: blob:", "worker-src 'self' blob:", "frame-ancestors 'none'",
           "media-src 'self' blob: http://127.0.0.1:8080",
           "connect-src 'self' http://127.0.0.1:8080 ws://127.0.0.1:8080" })
    fail_unless (contains (csp, part), "'%s' lacks %s", csp.c_str (), part);
  fail_if (contains (csp, "unsafe"), "%s", csp.c_str ());

  c.public_url = "https://live.example/";
  c.s3.endpoint = "http://127.0.0.1:4569";
  c.s3.bucket = "b";
  c.s3.public_base_url = "https://cdn.example/b";
  csp = page_csp (c);
  fail_unless (contains (csp, "media-src 'self' blob: https://live.example https://cdn.example;"),
      "%s", csp.c_str ());
  fail_unless (contains (csp,
          "connect-src 'self' https://live.example wss://live.example https://cdn.example;"),
      "%s", csp.c_str ());
  /* thumbnails come from where the HLS does */
  fail_unless (contains (csp, "img-src 'self' data: blob: https://live.example https://cdn.example;"),
      "%s", csp.c_str ());
  /* the S3 endpoint itself is where the daemon uploads, not where players read */
  fail_if (contains (csp, "4569"), "%s", csp.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_if_none_match)
{
  const std::string etag = "\"abc\"";
  fail_unless (etag_matches ("\"abc\"", etag));
  fail_unless (etag_matches ("W/\"abc\"", etag), "weak comparison");
  fail_unless (etag_matches ("\"x\", \"abc\"", etag));
  fail_unless (etag_matches ("*", etag));
  fail_if (etag_matches ("\"abcd\"", etag));
  fail_if (etag_matches ("abc", etag));
  fail_if (etag_matches ("", etag));
  fail_if (etag_matches (nullptr, etag));
}
GST_END_TEST;

static Suite *
webpages_suite (void)
{
  Suite *s = suite_create ("webpages");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_paths_show_their_page);
  tcase_add_test (tc, test_ui_names_are_flat_and_typed);
  tcase_add_test (tc, test_vendored_files_come_from_their_settings);
  tcase_add_test (tc, test_origins);
  tcase_add_test (tc, test_csp_names_the_configured_origins);
  tcase_add_test (tc, test_if_none_match);
  return s;
}

GST_CHECK_MAIN (webpages);
