/* castline-launcher: castline's own web pages, served from Config::web_dir.
 *   /                     dashboard.html
 *   /broadcast[/{id}]     broadcast.html (the publisher's page)
 *   /watch/{id}           watch.html (the viewer's page)
 *   /streams/{id}         stream.html (a stream's details and charts)
 *   /ui/{name}            web_dir/{name}: the pages' CSS, scripts, images
 *   /ui/hls.min.js, ...   the npm packages the pages use (vendored_files)
 * Public (the API calls the pages make are what is protected). Every other
 * path no other handler takes is a 404 here. Files are kept in memory and
 * read again when their mtime, size or inode changes; answers carry an ETag
 * and Last-Modified with `Cache-Control: no-cache`, so a browser revalidates
 * and gets 304. HTML gets a Content-Security-Policy that lets the pages
 * reach only this server and the HLS playback origin. Main context. */
#pragma once

#include "config/config.h"

#include "common/http/message.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace castline::launcher {

/* A name /ui/ serves: 1 to 128 of [A-Za-z0-9._-], no leading '.', so
 * never "." or ".." and never a subdirectory. */
bool valid_ui_name (const std::string & name);
/* The Content-Type of a file by its extension (html css js svg png ico json
 * map), or nullptr: a file of another kind is not served. */
const char *web_content_type (const std::string & name);
/* The page a path shows ("dashboard.html", "broadcast.html", "watch.html",
 * "stream.html"), or "" when it shows none (a bad stream id included). */
std::string page_for_path (const std::string & path);
/* "scheme://host[:port]" of an absolute URL; "" when it has none. */
std::string url_origin (const std::string & url);
/* The pages' Content-Security-Policy: this server, plus the origins the
 * configuration hands out (public_url, its ws:// form, S3's public base)
 * for fetches, WebSockets and HLS media. */
std::string page_csp (const Config & config);
/* A file of an npm package the pages use, served as /ui/{name} from
 * where the configuration says (a path the administrator chose: symlinks
 * followed), not from web_dir. */
struct VendoredFile {
  std::string name;
  std::string path;
  std::string setting;            /* the setting that names it, for a warning */
};
/* hls.js (hlsjs_path) and uPlot's script and stylesheet (uplot_dir) */
std::vector<VendoredFile> vendored_files (const Config & config);
/* RFC 9110 13.1.2: whether an If-None-Match value names etag (weak
 * comparison; "*" names any). */
bool etag_matches (const char *if_none_match, const std::string & etag);

class WebPages {
 public:
  /* Warns once when web_dir or a vendored file is missing (they are then
   * 404). */
  explicit WebPages (const Config & config);
  ~WebPages ();
  WebPages (const WebPages &) = delete;
  WebPages & operator= (const WebPages &) = delete;

  /* "/": the pages, /ui/, and 404 for any unknown path */
  void handle (const http::Request & req, http::Response & res);

 private:
  struct CachedFile {
    int64_t mtime_ns = 0;
    int64_t size = -1;
    guint64 inode = 0;
    http::Bytes content;
    std::string etag;              /* "\"<hex>\"", from the content */
    std::string last_modified;     /* HTTP date of the mtime */
  };

  void serve (const http::Request & req, http::Response & res, const std::string & path,
      bool follow_links);
  /* the file at path, read again if it changed; none when it cannot be
   * read (missing, not a regular file, a symlink unless follow_links). A
   * copy: the cache may change once the lock is released. */
  std::optional<CachedFile> load (const std::string & path, bool follow_links);

  std::string web_dir_;
  std::vector<VendoredFile> vendored_;
  std::string csp_;
  std::mutex lock_;                            /* cache_ */
  std::map<std::string, CachedFile> cache_;   /* by path; only files that exist */
};

}  // namespace castline::launcher
