/* serve_hls_file over real HTTP, through the launcher's own server
 * (http/mhd/mhdserver.h, its routes on its own threads) on a loopback
 * port: it serves a temporary directory, the tests ask it with a
 * synchronous SoupSession (and a raw socket where libsoup's client would
 * hide what the server sent). */
#include "api/hlsfiles.h"
#include "common/http/mhd/mhdserver.h"
#include "../assertions.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <libsoup/soup.h>

#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

using namespace castline::launcher;
namespace http = castline::http;

namespace {

struct Route {
  std::string prefix;
  std::string dir;
  HlsServeOptions options;
  bool folders = false;            /* serve_hls_path (name or folder/name), as /live/{id}/ */
};

/* the HLS routes, answered on the server's threads as the daemon does */
class TestServer {
 public:
  explicit TestServer (std::vector<Route> routes) : routes_ (std::move (routes))
  {
    for (const Route & r : routes_)
      router_.add (r.prefix, [&r] (const http::Request & req, http::Response & res) {
            std::string rest = req.path.substr (r.prefix.size ());
            if (r.folders)
              serve_hls_path (req, res, r.dir, rest, r.options);
            else
              serve_hls_file (req, res, r.dir, rest, r.options);
          }, { true, 0 });
    server_ = std::make_unique<http::MhdHttpServer> (router_, http::ServerLimits ());
    std::string error;
    fail_unless (server_->listen ("127.0.0.1", 0, error), "%s", error.c_str ());
  }

  guint port () const { return server_->port (); }

 private:
  std::vector<Route> routes_;
  http::Router router_;
  std::unique_ptr<http::MhdHttpServer> server_;
};

struct Response {
  guint status = 0;
  std::string body;
  std::shared_ptr<SoupMessage> msg;

  bool has (const char *name) const
  {
    return soup_message_headers_get_one (soup_message_get_response_headers (msg.get ()),
        name) != nullptr;
  }
  /* owned by msg, so it outlives the statement (unlike a std::string) */
  const char *header (const char *name) const
  {
    const char *v = soup_message_headers_get_one (
        soup_message_get_response_headers (msg.get ()), name);
    return v ? v : "";
  }
};

TestServer *server;
SoupSession *session;
std::string live_dir;
std::string outside_dir;

/* a segment of 940 bytes (five TS packets) with no repeating run */
std::string
segment_bytes ()
{
  std::string s (940, '\0');
  for (size_t i = 0; i < s.size (); i++)
    s[i] = static_cast<char> ((i * 7 + i / 256 + 3) & 0xff);
  return s;
}

const std::string kPlaylist =
    "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nsegment00000.ts\n";
const std::string kSegment = segment_bytes ();
const char *const kLongCache = "public, max-age=86400, immutable";

Response
request (const char *method, const std::string & path,
    std::vector<std::pair<const char *, const char *>> headers = {})
{
  std::string url = "http://127.0.0.1:" + std::to_string (server->port ()) + path;
  SoupMessage *m = soup_message_new (method, url.c_str ());
  fail_unless (m != nullptr);
  Response r;
  r.msg = std::shared_ptr<SoupMessage> (m, g_object_unref);
  for (auto & h : headers)
    soup_message_headers_replace (soup_message_get_request_headers (m), h.first, h.second);
  g_autoptr (GError) error = nullptr;
  g_autoptr (GBytes) body = soup_session_send_and_read (session, m, nullptr, &error);
  fail_if (error, "%s", error ? error->message : "");
  r.status = soup_message_get_status (m);
  gsize n = 0;
  const char *data = static_cast<const char *> (g_bytes_get_data (body, &n));
  r.body.assign (data ? data : "", n);
  return r;
}

/* the bytes the server writes, up to its closing the connection */
std::string
raw_request (const std::string & text)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_socket_client_set_timeout (client, 10);
  g_autoptr (GError) error = nullptr;
  g_autoptr (GSocketConnection) conn = g_socket_client_connect_to_host (client, "127.0.0.1",
      server->port (), nullptr, &error);
  fail_if (error, "%s", error ? error->message : "");
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  g_output_stream_write_all (out, text.data (), text.size (), nullptr, nullptr, &error);
  fail_if (error, "%s", error ? error->message : "");
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  std::string reply;
  char buf[4096];
  for (;;) {
    gssize n = g_input_stream_read (in, buf, sizeof buf, nullptr, &error);
    fail_if (error, "%s", error ? error->message : "");
    if (n <= 0)
      break;
    reply.append (buf, n);
  }
  return reply;
}

void
write_file (const std::string & dir, const char *name, const std::string & content)
{
  std::string path = dir + "/" + name;
  g_autoptr (GError) error = nullptr;
  g_file_set_contents (path.c_str (), content.data (), content.size (), &error);
  fail_if (error, "%s", error ? error->message : "");
}

void
remove_tree (const std::string & path)
{
  GStatBuf st;
  if (g_lstat (path.c_str (), &st) != 0)
    return;
  if (S_ISDIR (st.st_mode)) {
    g_autoptr (GDir) dir = g_dir_open (path.c_str (), 0, nullptr);
    const char *name;
    while (dir && (name = g_dir_read_name (dir)))
      remove_tree (path + "/" + name);
    g_rmdir (path.c_str ());
  } else {
    g_unlink (path.c_str ());
  }
}

void
assert_cors (const Response & r)
{
  assert_str_eq (r.header ("Access-Control-Allow-Origin"), "*");
  assert_str_eq (r.header ("Access-Control-Expose-Headers"), "Content-Length, Content-Range");
}

/* ---- the tests ---- */

GST_START_TEST (test_valid_folder_names)
{
  for (const char *good : { "720p", "1080p", "low_1", "a-b", "X" })
    fail_unless (valid_hls_folder_name (good));
  for (const char *bad : { "", ".", "..", "a.b", "a/b", "a b", "720p/", "%2E", "s\xc3\xa9",
           "0123456789012345678901234567890123" })
    fail_if (valid_hls_folder_name (bad));
}
GST_END_TEST;

GST_START_TEST (test_rung_folders_are_served)
{
  Response r = request ("GET", "/stream/720p/index.m3u8");
  fail_unless_equals_uint64 (r.status, 200);
  fail_unless (r.body == kPlaylist);
  assert_str_eq (r.header ("Content-Type"), "application/vnd.apple.mpegurl");
  assert_str_eq (r.header ("Cache-Control"), "no-cache");
  assert_cors (r);
  r = request ("GET", "/stream/720p/segment00000.ts");
  fail_unless_equals_uint64 (r.status, 200);
  fail_unless (r.body == kSegment);
  assert_str_eq (r.header ("Cache-Control"), kLongCache);
  /* the stream's own files, as before */
  fail_unless_equals_uint64 (request ("GET", "/stream/index.m3u8").status, 200);
  fail_unless_equals_uint64 (request ("GET", "/stream/720p/missing.ts").status, 404);
  fail_unless_equals_uint64 (request ("GET", "/stream/1080p/index.m3u8").status, 404);
}
GST_END_TEST;

GST_START_TEST (test_bad_or_linked_folders_are_refused)
{
  for (const char *path : { "/stream/a.b/index.m3u8", "/stream/a%20b/index.m3u8",
           "/stream/720p/sub/x.ts", "/stream/720p/.hidden.ts", "/stream/720p/x.txt",
           "/stream//index.m3u8", "/stream/720p/" }) {
    Response r = request ("GET", path);
    fail_unless_equals_uint64 (r.status, 400);
    assert_cors (r);
  }
  /* a folder that is a symlink out of the stream's directory */
  Response r = request ("GET", "/stream/linked/real.ts");
  fail_unless_equals_uint64 (r.status, 404);
  fail_unless (r.body.find ("secret") == std::string::npos);
  /* "a" is a real folder, but "b" no HLS name */
  fail_unless_equals_uint64 (request ("GET", "/stream/a/b").status, 400);
}
GST_END_TEST;

GST_START_TEST (test_valid_names)
{
  for (const char *good : { "index.m3u8", "segment00000.ts", "a-b_c.1.m4s", "init.mp4",
           "audio.aac", "subs.vtt", "-x.ts", "0.ts" })
    fail_unless (valid_hls_file_name (good));
  std::string longest = std::string (125, 'a') + ".ts";
  fail_unless (valid_hls_file_name (longest));
  fail_if (valid_hls_file_name ("a" + longest));

  for (const char *bad : { "", ".", "..", ".ts", ".hidden.ts", "a..ts", "seg..m3u8",
           "a/b.ts", "../x.ts", "a\\b.ts", "x.txt", "ts", "index.m3u8.txt", "index.M3U8",
           "a b.ts", "a%2e.ts", "seg.ts/", "~seg.ts", "seg.ts\n", "s\xc3\xa9g.ts" })
    fail_if (valid_hls_file_name (bad));
  fail_if (valid_hls_file_name (std::string ("a.ts\0.m3u8", 10)));
}
GST_END_TEST;

GST_START_TEST (test_playlist_is_served_uncached_with_cors)
{
  Response r = request ("GET", "/live/index.m3u8");
  fail_unless_equals_uint64 (r.status, 200);
  fail_unless (r.body == kPlaylist);
  assert_str_eq (r.header ("Content-Type"), "application/vnd.apple.mpegurl");
  assert_str_eq (r.header ("Cache-Control"), "no-cache");
  assert_str_eq (r.header ("Accept-Ranges"), "bytes");
  std::string length = std::to_string (kPlaylist.size ());
  assert_str_eq (r.header ("Content-Length"), length.c_str ());
  fail_unless (r.has ("Last-Modified"));
  assert_cors (r);
}
GST_END_TEST;

GST_START_TEST (test_segments_are_served_with_their_type_and_long_cache)
{
  struct {
    const char *name;
    const char *type;
  } cases[] = {
    { "segment00000.ts", "video/mp2t" }, { "seg1.m4s", "video/iso.segment" },
    { "init.mp4", "video/mp4" }, { "audio1.aac", "audio/aac" }, { "subs1.vtt", "text/vtt" },
  };
  for (auto & c : cases) {
    Response r = request ("GET", std::string ("/live/") + c.name);
    fail_unless_equals_uint64 (r.status, 200);
    assert_str_eq (r.header ("Content-Type"), c.type);
    assert_str_eq (r.header ("Cache-Control"), kLongCache);
    fail_if (r.has ("Content-Range"));
    assert_cors (r);
    if (g_str_equal (c.name, "segment00000.ts"))
      fail_unless (r.body == kSegment);
    else
      assert_str_eq (r.body.c_str (), c.name);
  }
}
GST_END_TEST;

GST_START_TEST (test_thumbnail_is_served_as_jpeg_with_a_short_cache)
{
  fail_unless (valid_hls_file_name ("thumbnail.jpg"));
  Response r = request ("GET", "/live/thumbnail.jpg");
  fail_unless_equals_uint64 (r.status, 200);
  assert_str_eq (r.header ("Content-Type"), "image/jpeg");
  /* replaced every few seconds: never the segments' day-long cache */
  assert_str_eq (r.header ("Cache-Control"), "max-age=5");
  fail_unless (r.body == "\xff\xd8jpeg\xff\xd9");
  assert_cors (r);
}
GST_END_TEST;

GST_START_TEST (test_range_gives_206_with_the_bytes)
{
  Response r = request ("GET", "/live/segment00000.ts", { { "Range", "bytes=10-19" } });
  fail_unless_equals_uint64 (r.status, 206);
  assert_str_eq (r.header ("Content-Range"), "bytes 10-19/940");
  assert_str_eq (r.header ("Content-Length"), "10");
  fail_unless (r.body == kSegment.substr (10, 10));
  assert_str_eq (r.header ("Content-Type"), "video/mp2t");
  assert_str_eq (r.header ("Cache-Control"), kLongCache);
  assert_cors (r);

  r = request ("GET", "/live/segment00000.ts", { { "Range", "bytes=900-" } });
  fail_unless_equals_uint64 (r.status, 206);
  assert_str_eq (r.header ("Content-Range"), "bytes 900-939/940");
  fail_unless (r.body == kSegment.substr (900));

  /* a last position past the end is cut to the end */
  r = request ("GET", "/live/segment00000.ts", { { "Range", "bytes=930-99999" } });
  fail_unless_equals_uint64 (r.status, 206);
  assert_str_eq (r.header ("Content-Range"), "bytes 930-939/940");
  fail_unless (r.body == kSegment.substr (930));

  r = request ("GET", "/live/segment00000.ts", { { "Range", "bytes=0-0" } });
  fail_unless_equals_uint64 (r.status, 206);
  assert_str_eq (r.header ("Content-Range"), "bytes 0-0/940");
  fail_unless (r.body == kSegment.substr (0, 1));
}
GST_END_TEST;

GST_START_TEST (test_suffix_range_gives_the_last_bytes)
{
  Response r = request ("GET", "/live/segment00000.ts", { { "Range", "bytes=-5" } });
  fail_unless_equals_uint64 (r.status, 206);
  assert_str_eq (r.header ("Content-Range"), "bytes 935-939/940");
  fail_unless (r.body == kSegment.substr (935));

  /* a suffix longer than the file is the whole file */
  r = request ("GET", "/live/segment00000.ts", { { "Range", "bytes=-5000" } });
  fail_unless_equals_uint64 (r.status, 206);
  assert_str_eq (r.header ("Content-Range"), "bytes 0-939/940");
  fail_unless (r.body == kSegment);
}
GST_END_TEST;

GST_START_TEST (test_range_beyond_the_end_gives_416)
{
  for (const char *range : { "bytes=940-", "bytes=5000-6000", "bytes=-0",
           "bytes=99999999999999999999999-" }) {
    Response r = request ("GET", "/live/segment00000.ts", { { "Range", range } });
    fail_unless_equals_uint64 (r.status, 416);
    assert_str_eq (r.header ("Content-Range"), "bytes */940");
    fail_unless (r.body.empty ());
    assert_cors (r);
  }
}
GST_END_TEST;

GST_START_TEST (test_multiple_or_malformed_ranges_give_the_whole_file)
{
  for (const char *range : { "bytes=0-1,4-5", "bytes=0-1, 900-", "bytes=abc", "bytes=5-2",
           "items=0-1", "bytes 0-1", "bytes=1-2-3", "bytes=-", "bytes=+1-2" }) {
    Response r = request ("GET", "/live/segment00000.ts", { { "Range", range } });
    fail_unless_equals_uint64 (r.status, 200);
    fail_unless (r.body == kSegment);
    assert_str_eq (r.header ("Content-Type"), "video/mp2t");
    fail_if (r.has ("Content-Range"));
  }
}
GST_END_TEST;

GST_START_TEST (test_empty_segment_is_served_empty)
{
  Response r = request ("GET", "/live/empty.ts");
  fail_unless_equals_uint64 (r.status, 200);
  fail_unless (r.body.empty ());
  assert_str_eq (r.header ("Content-Length"), "0");
  assert_str_eq (r.header ("Content-Type"), "video/mp2t");

  for (const char *range : { "bytes=0-", "bytes=-1" }) {
    r = request ("GET", "/live/empty.ts", { { "Range", range } });
    fail_unless_equals_uint64 (r.status, 416);
    assert_str_eq (r.header ("Content-Range"), "bytes */0");
  }
}
GST_END_TEST;

GST_START_TEST (test_if_range_must_match_last_modified)
{
  Response plain = request ("GET", "/live/segment00000.ts");
  std::string date = plain.header ("Last-Modified");
  fail_if (date.empty ());

  Response r = request ("GET", "/live/segment00000.ts",
      { { "Range", "bytes=10-19" }, { "If-Range", date.c_str () } });
  fail_unless_equals_uint64 (r.status, 206);
  fail_unless (r.body == kSegment.substr (10, 10));

  for (const char *other : { "Thu, 01 Jan 1970 00:00:00 GMT", "\"some-etag\"" }) {
    r = request ("GET", "/live/segment00000.ts",
        { { "Range", "bytes=10-19" }, { "If-Range", other } });
    fail_unless_equals_uint64 (r.status, 200);
    fail_unless (r.body == kSegment);
  }
}
GST_END_TEST;

GST_START_TEST (test_head_sends_length_and_no_body)
{
  struct {
    const char *path;
    gsize length;
  } cases[] = {
    { "/live/segment00000.ts", kSegment.size () }, { "/live/index.m3u8", kPlaylist.size () },
  };
  for (auto & c : cases) {
    /* a Range on HEAD is ignored */
    std::string reply = raw_request (std::string ("HEAD ") + c.path + " HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\nRange: bytes=0-3\r\nConnection: close\r\n\r\n");
    size_t end = reply.find ("\r\n\r\n");
    fail_unless (end != std::string::npos);
    std::string head = reply.substr (0, end + 2);
    fail_unless (g_str_has_prefix (head.c_str (), "HTTP/1.1 200 "));
    std::string length = "\r\nContent-Length: " + std::to_string (c.length) + "\r\n";
    fail_unless (head.find (length) != std::string::npos);
    fail_unless (head.find ("\r\nAccess-Control-Allow-Origin: *\r\n") != std::string::npos);
    fail_unless_equals_uint64 (reply.size (), end + 4);
  }

  Response r = request ("HEAD", "/live/segment00000.ts");
  fail_unless_equals_uint64 (r.status, 200);
  assert_str_eq (r.header ("Content-Type"), "video/mp2t");
  assert_str_eq (r.header ("Cache-Control"), kLongCache);
}
GST_END_TEST;

GST_START_TEST (test_bad_names_give_400)
{
  /* every one of these exists as a file (or leads to one), so only the
   * name check stands between the request and the file */
  for (const char *path : { "/live/a/b", "/live/a%2Fb", "/live/sub/nested.ts",
           "/live/sub%2Fnested.ts", "/live/.hidden.ts", "/live/x.txt", "/live/a..ts",
           "/live/a%20b.ts", "/live/" }) {
    Response r = request ("GET", path);
    fail_unless_equals_uint64 (r.status, 400);
    fail_unless (g_str_has_prefix (r.header ("Content-Type"), "text/plain"));
    fail_if (r.body.empty ());
    assert_cors (r);
  }
  /* ".." never reaches a handler: SoupServer removes dot segments and
   * refuses encoded ones ("%2E%2E", "..%2F", "%00") with its own 400
   * (test_valid_names covers the name check for them) */
  for (const char *path : { "/live/..%2Foutside%2Freal.ts", "/live/%2E%2E%2Foutside%2Freal.ts",
           "/live/segment00000.ts%00.m3u8" }) {
    Response r = request ("GET", path);
    fail_unless_equals_uint64 (r.status, 400);
    fail_unless (r.body.find ("secret") == std::string::npos);
  }
}
GST_END_TEST;

GST_START_TEST (test_missing_files_give_404)
{
  for (const char *path : { "/live/missing.ts", "/live/missing.m3u8", "/gone/index.m3u8" }) {
    Response r = request ("GET", path);
    fail_unless_equals_uint64 (r.status, 404);
    assert_str_eq (r.header ("Cache-Control"), "no-cache");
    assert_cors (r);
  }
}
GST_END_TEST;

GST_START_TEST (test_symlinks_and_special_files_give_404)
{
  /* the targets themselves are servable */
  Response r = request ("GET", "/outside/real.ts");
  fail_unless_equals_uint64 (r.status, 200);
  assert_str_eq (r.body.c_str (), "secret");
  r = request ("GET", "/outside/real.m3u8");
  fail_unless_equals_uint64 (r.status, 200);

  /* pipe.ts is a FIFO: opening it must not wait for a writer */
  for (const char *path : { "/live/link.ts", "/live/link.m3u8", "/live/pipe.ts",
           "/live/dir.ts" }) {
    r = request ("GET", path);
    fail_unless_equals_uint64 (r.status, 404);
    fail_unless (r.body.find ("secret") == std::string::npos);
    r = request ("HEAD", path);
    fail_unless_equals_uint64 (r.status, 404);
  }
}
GST_END_TEST;

GST_START_TEST (test_half_written_playlist_gives_503)
{
  for (const char *path : { "/live/partial.m3u8", "/live/empty.m3u8" }) {
    Response r = request ("GET", path);
    fail_unless_equals_uint64 (r.status, 503);
    assert_str_eq (r.header ("Retry-After"), "1");
    assert_str_eq (r.header ("Cache-Control"), "no-cache");
    assert_cors (r);
    r = request ("HEAD", path);
    fail_unless_equals_uint64 (r.status, 503);
  }
  /* a segment has no such rule: one without a newline is whole */
  Response r = request ("GET", "/live/subs1.vtt");
  fail_unless_equals_uint64 (r.status, 200);
  /* nor has a playlist that ends with its ENDLIST tag */
  r = request ("GET", "/live/final.m3u8");
  fail_unless_equals_uint64 (r.status, 200);
  fail_unless (g_str_has_suffix (r.body.c_str (), "#EXT-X-ENDLIST"));
}
GST_END_TEST;

GST_START_TEST (test_other_methods_give_405)
{
  for (const char *method : { "POST", "PUT", "DELETE", "PATCH" }) {
    Response r = request (method, "/live/index.m3u8");
    fail_unless_equals_uint64 (r.status, 405);
    assert_str_eq (r.header ("Allow"), "GET, HEAD, OPTIONS");
    assert_cors (r);
  }
}
GST_END_TEST;

GST_START_TEST (test_options_answers_the_preflight)
{
  Response r = request ("OPTIONS", "/live/segment00000.ts",
      { { "Origin", "https://player.example" }, { "Access-Control-Request-Method", "GET" },
        { "Access-Control-Request-Headers", "range" } });
  fail_unless_equals_uint64 (r.status, 204);
  fail_unless (r.body.empty ());
  assert_str_eq (r.header ("Access-Control-Allow-Origin"), "*");
  assert_str_eq (r.header ("Access-Control-Allow-Methods"), "GET, HEAD, OPTIONS");
  assert_str_eq (r.header ("Access-Control-Allow-Headers"), "Range");
  assert_str_eq (r.header ("Access-Control-Max-Age"), "86400");
}
GST_END_TEST;

GST_START_TEST (test_options_change_headers)
{
  /* /plain/ serves the same directory with no CORS and other caching */
  Response r = request ("GET", "/plain/index.m3u8");
  fail_unless_equals_uint64 (r.status, 200);
  assert_str_eq (r.header ("Cache-Control"), "max-age=1");
  fail_if (r.has ("Access-Control-Allow-Origin"));
  fail_if (r.has ("Access-Control-Expose-Headers"));

  r = request ("GET", "/plain/segment00000.ts", { { "Range", "bytes=0-3" } });
  fail_unless_equals_uint64 (r.status, 206);
  assert_str_eq (r.header ("Cache-Control"), "max-age=5");
  fail_if (r.has ("Access-Control-Allow-Origin"));

  r = request ("GET", "/plain/missing.ts");
  fail_unless_equals_uint64 (r.status, 404);
  fail_if (r.has ("Access-Control-Allow-Origin"));

  r = request ("OPTIONS", "/plain/index.m3u8");
  fail_unless_equals_uint64 (r.status, 204);
  fail_if (r.has ("Access-Control-Allow-Origin"));
  fail_if (r.has ("Access-Control-Allow-Methods"));
}
GST_END_TEST;

/* a recording over 64 MiB is served from the file, by ranges too */
GST_START_TEST (test_large_files_are_served_from_the_file)
{
  Response r = request ("HEAD", "/live/huge.ts");
  fail_unless_equals_uint64 (r.status, 200);
  assert_str_eq (r.header ("Content-Length"), std::to_string (64 * 1024 * 1024 + 1));
  r = request ("GET", "/live/huge.ts", { { "Range", "bytes=67108860-" } });
  fail_unless_equals_uint64 (r.status, 206);
  assert_str_eq (r.header ("Content-Range"), "bytes 67108860-67108864/67108865");
  fail_unless (r.body == std::string (5, '\0'));
}
GST_END_TEST;

void
make_files ()
{
  g_autofree gchar *root = g_dir_make_tmp ("castline-hlsfiles-XXXXXX", nullptr);
  fail_unless (root != nullptr);
  live_dir = std::string (root) + "/live";
  outside_dir = std::string (root) + "/outside";
  fail_unless_equals_int64 (g_mkdir (live_dir.c_str (), 0700), 0);
  fail_unless_equals_int64 (g_mkdir (outside_dir.c_str (), 0700), 0);

  write_file (live_dir, "index.m3u8", kPlaylist);
  write_file (live_dir, "segment00000.ts", kSegment);
  for (const char *name : { "seg1.m4s", "init.mp4", "audio1.aac", "subs1.vtt" })
    write_file (live_dir, name, name);
  write_file (live_dir, "x.txt", "text");
  write_file (live_dir, "thumbnail.jpg", "\xff\xd8jpeg\xff\xd9");
  write_file (live_dir, ".hidden.ts", "hidden");
  write_file (live_dir, "partial.m3u8", "#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:2.0,\nsegm");
  /* hlssink2's final playlist: no newline after the ENDLIST tag */
  write_file (live_dir, "final.m3u8",
      "#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:2.0,\nsegment00000.ts\n#EXT-X-ENDLIST");
  write_file (live_dir, "empty.m3u8", "");
  write_file (live_dir, "empty.ts", "");
  fail_unless_equals_int64 (g_mkdir ((live_dir + "/dir.ts").c_str (), 0700), 0);
  fail_unless_equals_int64 (g_mkdir ((live_dir + "/a").c_str (), 0700), 0);
  write_file (live_dir + "/a", "b", "b");
  fail_unless_equals_int64 (g_mkdir ((live_dir + "/sub").c_str (), 0700), 0);
  write_file (live_dir + "/sub", "nested.ts", "nested");
  write_file (live_dir, "a..ts", "dots");
  write_file (live_dir, "a b.ts", "space");
  fail_unless_equals_int64 (mkfifo ((live_dir + "/pipe.ts").c_str (), 0600), 0);

  /* an abr stream's rung folders */
  fail_unless_equals_int64 (g_mkdir ((live_dir + "/720p").c_str (), 0700), 0);
  write_file (live_dir + "/720p", "index.m3u8", kPlaylist);
  write_file (live_dir + "/720p", "segment00000.ts", kSegment);
  fail_unless_equals_int64 (symlink (outside_dir.c_str (), (live_dir + "/linked").c_str ()), 0);

  write_file (outside_dir, "real.ts", "secret");
  write_file (outside_dir, "real.m3u8", "#EXTM3U\n#secret\n");
  fail_unless_equals_int64 (symlink ((outside_dir + "/real.ts").c_str (), (live_dir + "/link.ts").c_str ()), 0);
  fail_unless_equals_int64 (symlink ("../outside/real.m3u8", (live_dir + "/link.m3u8").c_str ()), 0);

  /* sparse, so it costs no disk */
  std::string huge = live_dir + "/huge.ts";
  write_file (live_dir, "huge.ts", "");
  fail_unless_equals_int64 (truncate (huge.c_str (), 64 * 1024 * 1024 + 1), 0);

  /* old enough for If-Range to trust its Last-Modified */
  struct utimbuf old;
  old.actime = old.modtime = g_get_real_time () / G_USEC_PER_SEC - 3600;
  fail_unless_equals_int64 (g_utime ((live_dir + "/segment00000.ts").c_str (), &old), 0);
}

}  // namespace

/* a server and a directory for each test: gst-check runs each in a
 * process of its own, where a thread started before would be gone */
static std::string root;

static void
setup ()
{
  make_files ();
  root = live_dir.substr (0, live_dir.rfind ('/'));
  HlsServeOptions plain;
  plain.cors_origin = "";
  plain.playlist_cache_control = "max-age=1";
  plain.segment_cache_control = "max-age=5";
  server = new TestServer ({
        { "/live/", live_dir, HlsServeOptions () },
        { "/plain/", live_dir, plain },
        { "/outside/", outside_dir, HlsServeOptions () },
        { "/gone/", root + "/missing", HlsServeOptions () },
        { "/stream/", live_dir, HlsServeOptions (), true },
      });
  session = soup_session_new_with_options ("timeout", 10, nullptr);
}

static void
teardown ()
{
  g_object_unref (session);
  delete server;
  remove_tree (root);
}

static Suite *
hlsfiles_suite ()
{
  Suite *s = suite_create ("hlsfiles");
  TCase *tc = tcase_create ("general");
  tcase_add_checked_fixture (tc, setup, teardown);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_valid_names);
  tcase_add_test (tc, test_playlist_is_served_uncached_with_cors);
  tcase_add_test (tc, test_segments_are_served_with_their_type_and_long_cache);
  tcase_add_test (tc, test_thumbnail_is_served_as_jpeg_with_a_short_cache);
  tcase_add_test (tc, test_range_gives_206_with_the_bytes);
  tcase_add_test (tc, test_suffix_range_gives_the_last_bytes);
  tcase_add_test (tc, test_range_beyond_the_end_gives_416);
  tcase_add_test (tc, test_multiple_or_malformed_ranges_give_the_whole_file);
  tcase_add_test (tc, test_empty_segment_is_served_empty);
  tcase_add_test (tc, test_if_range_must_match_last_modified);
  tcase_add_test (tc, test_head_sends_length_and_no_body);
  tcase_add_test (tc, test_bad_names_give_400);
  tcase_add_test (tc, test_missing_files_give_404);
  tcase_add_test (tc, test_symlinks_and_special_files_give_404);
  tcase_add_test (tc, test_half_written_playlist_gives_503);
  tcase_add_test (tc, test_other_methods_give_405);
  tcase_add_test (tc, test_options_answers_the_preflight);
  tcase_add_test (tc, test_options_change_headers);
  tcase_add_test (tc, test_large_files_are_served_from_the_file);
  tcase_add_test (tc, test_valid_folder_names);
  tcase_add_test (tc, test_rung_folders_are_served);
  tcase_add_test (tc, test_bad_or_linked_folders_are_refused);
  return s;
}

GST_CHECK_MAIN (hlsfiles);
