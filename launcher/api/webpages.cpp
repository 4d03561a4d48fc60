#include "api/webpages.h"

#include "common/http/fileresponse.h"
#include "common/http/replies.h"

#include <libsoup/soup.h>
#include "store/streamstore.h"

#include <glib.h>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace castline::launcher {

namespace {

constexpr size_t kMaxNameLength = 128;
/* hls.min.js is about 600 KB; nothing the pages need comes near this */
constexpr int64_t kMaxFileSize = 16 * 1024 * 1024;
constexpr const char *kAllow = "GET, HEAD";

struct WebType {
  const char *extension;
  const char *content_type;
};

constexpr WebType kWebTypes[] = {
  { "html", "text/html; charset=utf-8" },
  { "css", "text/css; charset=utf-8" },
  { "js", "text/javascript; charset=utf-8" },
  { "svg", "image/svg+xml" },
  { "png", "image/png" },
  { "ico", "image/x-icon" },
  { "json", "application/json" },
  { "map", "application/json" },
};

/* on every answer of ours, pages, files and errors alike */
void
add_common_headers (http::Headers & h)
{
  h.set ("X-Content-Type-Options", "nosniff");
  h.set ("Referrer-Policy", "no-referrer");
}

void
reply_plain (http::Response & res, guint status, const char *text)
{
  add_common_headers (res.headers);
  http::reply_plain_text (res, status, text);
}

/* If-Modified-Since counts only without If-None-Match (RFC 9110 13.2.2) */
bool
not_modified (const http::Request & req, const std::string & etag, int64_t mtime_ns)
{
  const char *inm = req.header ("If-None-Match");
  if (inm)
    return etag_matches (inm, etag);
  const char *ims = req.header ("If-Modified-Since");
  if (!ims)
    return false;
  g_autoptr (GDateTime) since = soup_date_time_new_from_http_string (ims);
  return since && mtime_ns / 1000000000 <= g_date_time_to_unix (since);
}

}  // namespace

bool
valid_ui_name (const std::string & name)
{
  if (name.empty () || name.size () > kMaxNameLength || name[0] == '.')
    return false;
  for (char c : name)
    if (!g_ascii_isalnum (c) && c != '.' && c != '_' && c != '-')
      return false;
  return true;
}

const char *
web_content_type (const std::string & name)
{
  size_t dot = name.rfind ('.');
  if (dot == std::string::npos)
    return nullptr;
  for (const WebType & t : kWebTypes)
    if (name.compare (dot + 1, std::string::npos, t.extension) == 0)
      return t.content_type;
  return nullptr;
}

std::string
page_for_path (const std::string & path)
{
  constexpr std::string_view kBroadcast = "/broadcast/", kWatch = "/watch/", kStreams = "/streams/";
  if (path == "/")
    return "dashboard.html";
  if (path == "/broadcast")
    return "broadcast.html";
  if (path.compare (0, kBroadcast.size (), kBroadcast) == 0)
    return valid_stream_id (path.substr (kBroadcast.size ())) ? "broadcast.html" : "";
  if (path.compare (0, kWatch.size (), kWatch) == 0)
    return valid_stream_id (path.substr (kWatch.size ())) ? "watch.html" : "";
  if (path.compare (0, kStreams.size (), kStreams) == 0)
    return valid_stream_id (path.substr (kStreams.size ())) ? "stream.html" : "";
  return "";
}

std::string
url_origin (const std::string & url)
{
  g_autoptr (GUri) uri = g_uri_parse (url.c_str (), G_URI_FLAGS_NONE, nullptr);
  const char *scheme = uri ? g_uri_get_scheme (uri) : nullptr;
  const char *host = uri ? g_uri_get_host (uri) : nullptr;
  if (!scheme || !host || !*host)
    return "";
  std::string origin = std::string (scheme) + "://";
  /* an IPv6 literal comes back without its brackets */
  origin += strchr (host, ':') ? "[" + std::string (host) + "]" : host;
  if (g_uri_get_port (uri) > 0)
    origin += ":" + std::to_string (g_uri_get_port (uri));
  return origin;
}

std::string
page_csp (const Config & config)
{
  std::string base = url_origin (config.base_url ());
  std::string ws = base;
  if (g_str_has_prefix (ws.c_str (), "https://"))
    ws = "wss://" + ws.substr (8);
  else if (g_str_has_prefix (ws.c_str (), "http://"))
    ws = "ws://" + ws.substr (7);
  std::string hls = config.s3.enabled () ? url_origin (config.s3.public_base_url) : base;

  /* 'self' is where the page was loaded from; the configured origins may
   * differ from it (public_url behind a proxy, S3 playback) */
  auto with = [] (std::string list, std::initializer_list<std::string> extra) {
    for (auto & e : extra)
      if (!e.empty () && list.find (" " + e) == std::string::npos)
        list += " " + e;
    return list;
  };
  std::string media = with ("'self' blob:", { base, hls });
  std::string connect = with ("'self'", { base, ws, hls });
  /* thumbnails come from where the HLS does */
  std::string img = with ("'self' data: blob:", { base, hls });
  return "default-src 'self'; media-src " + media + "; connect-src " + connect
      + "; img-src " + img + "; style-src 'self'; script-src 'self'"
      + "; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
}

std::vector<VendoredFile>
vendored_files (const Config & config)
{
  auto in_uplot = [&config] (const char *name) {
    g_autofree gchar *p = g_build_filename (config.uplot_dir.c_str (), name, nullptr);
    return VendoredFile { name, p, "uplot_dir" };
  };
  return { { "hls.min.js", config.hlsjs_path, "hlsjs_path" }, in_uplot ("uPlot.iife.min.js"),
    in_uplot ("uPlot.min.css") };
}

bool
etag_matches (const char *if_none_match, const std::string & etag)
{
  if (!if_none_match)
    return false;
  std::string_view want (etag);
  if (want.size () > 2 && want.compare (0, 2, "W/") == 0)
    want.remove_prefix (2);
  g_auto (GStrv) tags = g_strsplit (if_none_match, ",", -1);
  for (char **t = tags; *t; t++) {
    std::string_view tag (g_strstrip (*t));
    if (tag == "*")
      return true;
    if (tag.size () > 2 && tag.compare (0, 2, "W/") == 0)
      tag.remove_prefix (2);
    if (!tag.empty () && tag == want)
      return true;
  }
  return false;
}

WebPages::WebPages (const Config & config)
    : web_dir_ (config.web_dir), vendored_ (vendored_files (config)), csp_ (page_csp (config))
{
  if (!g_file_test (web_dir_.c_str (), G_FILE_TEST_IS_DIR))
    g_warning ("web_dir %s is not a directory: the web pages will answer 404", web_dir_.c_str ());
  for (const VendoredFile & v : vendored_)
    if (!g_file_test (v.path.c_str (), G_FILE_TEST_IS_REGULAR))
      g_warning ("%s: %s is not a file: /ui/%s will answer 404 (scripts/setup.sh runs npm install)",
          v.setting.c_str (), v.path.c_str (), v.name.c_str ());
}

WebPages::~WebPages () = default;

void
WebPages::handle (const http::Request & req, http::Response & res)
{
  constexpr std::string_view kUi = "/ui/";
  const std::string & p = req.path;
  std::string file;
  bool follow_links = false;
  if (p.compare (0, kUi.size (), kUi) == 0) {
    std::string name = p.substr (kUi.size ());
    auto v = std::find_if (vendored_.begin (), vendored_.end (),
        [&name] (const VendoredFile & f) { return f.name == name; });
    if (v != vendored_.end ()) {
      file = v->path;              /* empty: 404 below */
      follow_links = true;         /* a path the administrator chose */
    } else if (valid_ui_name (name) && web_content_type (name)) {
      file = web_dir_ + G_DIR_SEPARATOR_S + name;
    }
  } else {
    std::string page = page_for_path (p);
    if (!page.empty ())
      file = web_dir_ + G_DIR_SEPARATOR_S + page;
  }
  if (file.empty ()) {
    reply_plain (res, 404, "not found");
    return;
  }
  if (!req.is ("GET") && !req.is ("HEAD")) {
    res.headers.set ("Allow", kAllow);
    reply_plain (res, 405, "use GET or HEAD");
    return;
  }
  serve (req, res, file, follow_links);
}

void
WebPages::serve (const http::Request & req, http::Response & res, const std::string & path,
    bool follow_links)
{
  std::optional<CachedFile> f = load (path, follow_links);
  if (!f) {
    reply_plain (res, 404, "not found");
    return;
  }
  http::Headers & h = res.headers;
  add_common_headers (h);
  const char *type = web_content_type (path);
  if (g_str_has_suffix (path.c_str (), ".html")) {
    h.set ("Content-Security-Policy", csp_);
    h.set ("X-Frame-Options", "DENY");
  }
  h.set ("Cache-Control", "no-cache");
  h.set ("ETag", f->etag);
  if (!f->last_modified.empty ())
    h.set ("Last-Modified", f->last_modified);
  if (not_modified (req, f->etag, f->mtime_ns)) {
    res.status = 304;
    return;
  }
  h.set ("Content-Type", type ? type : "application/octet-stream");
  /* for HEAD the server sends only its length */
  res.body = f->content;
  res.status = 200;
}

std::optional<WebPages::CachedFile>
WebPages::load (const std::string & path, bool follow_links)
{
  /* O_NOFOLLOW: a symlink in web_dir never leads out of it; O_NONBLOCK:
   * a FIFO does not hang the main context (it is refused below) */
  http::Fd fd (open (path.c_str (), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY
          | (follow_links ? 0 : O_NOFOLLOW)));
  struct stat st;
  if (fd.get () < 0 || fstat (fd.get (), &st) != 0 || !S_ISREG (st.st_mode)
      || st.st_size > kMaxFileSize) {
    std::lock_guard<std::mutex> lk (lock_);
    cache_.erase (path);
    return std::nullopt;
  }
  int64_t mtime_ns = (int64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  {
    std::lock_guard<std::mutex> lk (lock_);
    auto it = cache_.find (path);
    if (it != cache_.end () && it->second.mtime_ns == mtime_ns && it->second.size == st.st_size
        && it->second.inode == st.st_ino)
      return it->second;
  }
  /* read without the lock: a page is read once per change */
  http::Bytes content (http::read_up_to (fd.get (), st.st_size));
  if (!content.get () || content.size () != (gsize) st.st_size) {
    /* unreadable, or changed while read: not cached */
    std::lock_guard<std::mutex> lk (lock_);
    cache_.erase (path);
    return std::nullopt;
  }
  CachedFile f;
  f.content = std::move (content);
  f.mtime_ns = mtime_ns;
  f.size = st.st_size;
  f.inode = st.st_ino;
  /* from the content, so a file touched but unchanged still matches */
  g_autofree gchar *sum = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, f.content.get ());
  f.etag = "\"" + std::string (sum, 32) + "\"";
  f.last_modified = http::http_date (st.st_mtim.tv_sec);
  std::lock_guard<std::mutex> lk (lock_);
  cache_[path] = f;
  return f;
}

}  // namespace castline::launcher
