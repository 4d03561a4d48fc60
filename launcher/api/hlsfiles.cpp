#include "api/hlsfiles.h"

#include "hls/abrladder.h"
#include "common/http/byteranges.h"
#include "common/http/fileresponse.h"
#include "common/http/replies.h"

#include <glib.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <fcntl.h>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace castline::launcher {

namespace {

constexpr gsize kMaxNameLength = 128;
/* playlists are read into memory: a few KB, a VOD of a long stream some MB */
constexpr guint64 kMaxPlaylistSize = 64 * 1024 * 1024;
constexpr const char *kAllow = "GET, HEAD, OPTIONS";

/* how long a cache may keep a file: a playlist changes every segment, a
 * segment never, a picture (the thumbnail) every few seconds */
enum class Caching { playlist, segment, picture };

struct FileType {
  const char *extension;
  const char *content_type;
  bool playlist;
  Caching caching;
};

constexpr FileType kFileTypes[] = {
  { "m3u8", "application/vnd.apple.mpegurl", true, Caching::playlist },
  { "ts", "video/mp2t", false, Caching::segment },
  { "m4s", "video/iso.segment", false, Caching::segment },
  { "mp4", "video/mp4", false, Caching::segment },
  { "aac", "audio/aac", false, Caching::segment },
  { "vtt", "text/vtt", false, Caching::segment },
  { "jpg", "image/jpeg", false, Caching::picture },
};

const std::string &
cache_control (const FileType & type, const HlsServeOptions & options)
{
  switch (type.caching) {
    case Caching::playlist: return options.playlist_cache_control;
    case Caching::picture: return options.picture_cache_control;
    default: return options.segment_cache_control;
  }
}

const FileType *
file_type (const std::string & name)
{
  size_t dot = name.rfind ('.');
  if (dot == std::string::npos)
    return nullptr;
  for (const FileType & t : kFileTypes)
    if (name.compare (dot + 1, std::string::npos, t.extension) == 0)
      return &t;
  return nullptr;
}

}  // namespace

void
add_hls_cors (http::Headers & h, const HlsServeOptions & options)
{
  if (options.cors_origin.empty ())
    return;
  h.set ("Access-Control-Allow-Origin", options.cors_origin);
  h.set ("Access-Control-Expose-Headers", "Content-Length, Content-Range");
}

const char *
hls_content_type (const std::string & name)
{
  const FileType *type = file_type (name);
  return type ? type->content_type : nullptr;
}

bool
valid_hls_file_name (const std::string & name)
{
  if (name.empty () || name.size () > kMaxNameLength || name[0] == '.'
      || name.find ("..") != std::string::npos)
    return false;
  for (char c : name)
    if (!g_ascii_isalnum (c) && c != '_' && c != '.' && c != '-')
      return false;
  return file_type (name) != nullptr;
}

bool
valid_hls_folder_name (const std::string & name)
{
  return valid_rung_name (name);
}

void
serve_hls_path (const http::Request & req, http::Response & res, const std::string & dir,
    const std::string & path, const HlsServeOptions & options)
{
  size_t slash = path.find ('/');
  if (slash == std::string::npos) {
    serve_hls_file (req, res, dir, path, options);
    return;
  }
  std::string folder = path.substr (0, slash), name = path.substr (slash + 1);
  if (!valid_hls_folder_name (folder)) {
    add_hls_cors (res.headers, options);
    http::reply_plain_text (res, 400, "not an HLS folder name");
    return;
  }
  /* a real folder, never a symlink out of the stream's directory */
  std::string sub = dir + G_DIR_SEPARATOR_S + folder;
  struct stat st;
  if (lstat (sub.c_str (), &st) != 0 || !S_ISDIR (st.st_mode)) {
    add_hls_cors (res.headers, options);
    http::reply_plain_text (res, 404, "no such file");
    return;
  }
  /* a second '/' in name is refused as a file name */
  serve_hls_file (req, res, sub, name, options);
}

bool
answer_hls_method (const http::Request & req, http::Response & res, const HlsServeOptions & options)
{
  http::Headers & h = res.headers;
  add_hls_cors (h, options);
  if (req.is ("OPTIONS")) {
    h.set ("Allow", kAllow);
    if (!options.cors_origin.empty ()) {
      h.set ("Access-Control-Allow-Methods", kAllow);
      h.set ("Access-Control-Allow-Headers", "Range");
      h.set ("Access-Control-Max-Age", "86400");
    }
    res.status = 204;
    return true;
  }
  if (!req.is ("HEAD") && !req.is ("GET")) {
    h.set ("Allow", kAllow);
    http::reply_plain_text (res, 405, "use GET or HEAD");
    return true;
  }
  return false;
}

namespace {

/* The answer to a GET or HEAD of a whole file of size bytes: its headers,
 * 416 for a range it cannot satisfy, else 200 or 206 with body (first,
 * length) setting the bytes. */
void
answer_ranged (const http::Request & req, http::Response & res, const FileType & type,
    guint64 size, time_t mtime, const HlsServeOptions & options,
    const std::function<void (guint64 first, guint64 length)> & body)
{
  http::Headers & h = res.headers;
  std::string last_modified = http::http_date (mtime);
  h.set ("Content-Type", type.content_type);
  h.set ("Cache-Control", cache_control (type, options));
  h.set ("Accept-Ranges", "bytes");
  h.set ("X-Content-Type-Options", "nosniff");
  if (!last_modified.empty ())
    h.set ("Last-Modified", last_modified);
  http::ByteRange range = req.is ("HEAD") ? http::ByteRange ()
      : http::parse_range (req.header ("Range"), size);
  if (range.kind != http::RangeKind::none
      && !http::if_range_matches (req.header ("If-Range"), last_modified, mtime))
    range.kind = http::RangeKind::none;
  if (range.kind == http::RangeKind::unsatisfiable) {
    h.set ("Content-Range", "bytes */" + std::to_string (size));
    h.remove ("Content-Type");
    h.set ("Cache-Control", "no-cache");
    res.status = 416;
    return;
  }
  guint64 first = range.kind == http::RangeKind::single ? range.first : 0;
  guint64 length = range.kind == http::RangeKind::single ? range.last - range.first + 1 : size;
  body (first, length);
  if (range.kind == http::RangeKind::single) {
    h.set ("Content-Range", "bytes " + std::to_string (first) + "-"
        + std::to_string (first + length - 1) + "/" + std::to_string (size));
    res.status = 206;
  } else {
    res.status = 200;
  }
}

}  // namespace

void
serve_hls_bytes (const http::Request & req, http::Response & res, const std::string & name,
    const http::Bytes & content, time_t mtime, const HlsServeOptions & options)
{
  if (answer_hls_method (req, res, options))
    return;
  const FileType *type = file_type (name);
  if (!type) {
    http::reply_plain_text (res, 400, "not an HLS file name");
    return;
  }
  answer_ranged (req, res, *type, content.size (), mtime, options,
      [&] (guint64 first, guint64 length) {
        res.body = length == content.size () ? content
            : http::Bytes (g_bytes_new_from_bytes (content.get (), first, length));
      });
}

void
serve_hls_file (const http::Request & req, http::Response & res, const std::string & dir,
    const std::string & name, const HlsServeOptions & options)
{
  if (answer_hls_method (req, res, options))
    return;
  if (!valid_hls_file_name (name)) {
    http::reply_plain_text (res, 400, "not an HLS file name");
    return;
  }
  const FileType *type = file_type (name);
  /* one open per request: name is a checked plain name, dir the stream's
   * own (or a rung folder checked to be a real one). O_NOFOLLOW: a
   * symlink fails with ELOOP; O_NONBLOCK: a FIFO does not hang a server
   * thread waiting for a writer (it is refused below) */
  std::string path = dir + G_DIR_SEPARATOR_S + name;
  http::Fd fd (open (path.c_str (), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get () < 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP || errno == EMLINK)
      http::reply_plain_text (res, 404, "no such file");
    else
      http::reply_plain_text (res, 500, "cannot open the file");
    return;
  }
  struct stat st;
  if (fstat (fd.get (), &st) != 0) {
    http::reply_plain_text (res, 500, "cannot read the file");
    return;
  }
  if (!S_ISREG (st.st_mode)) {
    http::reply_plain_text (res, 404, "no such file");
    return;
  }
  if (!type->playlist) {
    /* a segment or a recording: the server sends it from the file itself
     * (sendfile), whatever its size, never read into memory here */
    answer_ranged (req, res, *type, st.st_size, st.st_mtime, options,
        [&] (guint64 first, guint64 length) {
          res.file = std::make_shared<http::FileBody> (fd.release (), first, length);
        });
    return;
  }
  /* a playlist is read, to see whether it is complete: hlssink2 replaces
   * playlists whole, but one written in place shows up empty or cut
   * mid-line; the player asks again shortly. Whole: the last line ends,
   * or is the ENDLIST tag (hlssink2 writes no newline after it in a
   * final playlist). */
  if ((guint64) st.st_size > kMaxPlaylistSize) {
    http::reply_plain_text (res, 500, "playlist too large");
    return;
  }
  http::Bytes content (http::read_up_to (fd.get (), st.st_size));
  if (!content.get ()) {
    http::reply_plain_text (res, 500, "cannot read the file");
    return;
  }
  std::string_view all = content.view ();
  constexpr std::string_view kEndList = "#EXT-X-ENDLIST";
  bool whole = !all.empty () && (all.back () == '\n'
      || (all.size () >= kEndList.size ()
          && all.compare (all.size () - kEndList.size (), kEndList.size (), kEndList) == 0));
  if (!whole) {
    res.headers.set ("Retry-After", "1");
    http::reply_plain_text (res, 503, "the playlist is being written");
    return;
  }
  serve_hls_bytes (req, res, name, content, st.st_mtime, options);
}

}  // namespace castline::launcher
