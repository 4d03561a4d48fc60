#include "api/hlsfiles.h"

#include "hls/abrladder.h"
#include "http/fileresponse.h"

#include <glib.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace castline::launcher {

namespace {

constexpr gsize kMaxNameLength = 128;
constexpr guint64 kMaxFileSize = 64 * 1024 * 1024;
constexpr const char *kAllow = "GET, HEAD, OPTIONS";

struct FileType {
  const char *extension;
  const char *content_type;
  bool playlist;
};

constexpr FileType kFileTypes[] = {
  { "m3u8", "application/vnd.apple.mpegurl", true },
  { "ts", "video/mp2t", false },
  { "m4s", "video/iso.segment", false },
  { "mp4", "video/mp4", false },
  { "aac", "audio/aac", false },
  { "vtt", "text/vtt", false },
};

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

enum class RangeKind { none, single, unsatisfiable };

struct ByteRange {
  RangeKind kind = RangeKind::none;
  guint64 first = 0;
  guint64 last = 0;
};

/* 1*DIGIT; saturates, so a huge position is merely past the end */
bool
parse_position (std::string_view s, guint64 & out)
{
  if (s.empty ())
    return false;
  guint64 v = 0;
  for (char c : s) {
    if (!g_ascii_isdigit (c))
      return false;
    guint d = c - '0';
    v = v > (G_MAXUINT64 - d) / 10 ? G_MAXUINT64 : v * 10 + d;
  }
  out = v;
  return true;
}

std::string_view
trim_ows (std::string_view s)
{
  while (!s.empty () && (s.front () == ' ' || s.front () == '\t'))
    s.remove_prefix (1);
  while (!s.empty () && (s.back () == ' ' || s.back () == '\t'))
    s.remove_suffix (1);
  return s;
}

/* RFC 9110 14.1.2, one range only: anything else (several ranges, another
 * unit, bad syntax) is ignored and the whole file is served, which 14.2
 * allows; libsoup's soup_message_headers_get_ranges would merge several
 * ranges and turn some malformed ones into 416 instead. */
ByteRange
parse_range (const char *header, guint64 size)
{
  ByteRange r;
  if (!header)
    return r;
  std::string_view v = trim_ows (header);
  if (v.size () < 6 || g_ascii_strncasecmp (v.data (), "bytes=", 6) != 0)
    return r;
  v = trim_ows (v.substr (6));
  if (v.find (',') != std::string_view::npos)
    return r;
  size_t dash = v.find ('-');
  if (dash == std::string_view::npos)
    return r;
  std::string_view first = v.substr (0, dash), last = v.substr (dash + 1);

  if (first.empty ()) {
    /* suffix: the last n bytes */
    guint64 n;
    if (!parse_position (last, n))
      return r;
    if (n == 0 || size == 0) {
      r.kind = RangeKind::unsatisfiable;
      return r;
    }
    r.kind = RangeKind::single;
    r.first = n >= size ? 0 : size - n;
    r.last = size - 1;
    return r;
  }

  guint64 a, b = G_MAXUINT64;
  if (!parse_position (first, a) || (!last.empty () && !parse_position (last, b)))
    return r;
  if (b < a)
    return r;                   /* invalid, so ignored */
  if (a >= size) {
    r.kind = RangeKind::unsatisfiable;
    return r;
  }
  r.kind = RangeKind::single;
  r.first = a;
  r.last = MIN (b, size - 1);
  return r;
}

void
add_cors (SoupMessageHeaders * h, const HlsServeOptions & options)
{
  if (options.cors_origin.empty ())
    return;
  soup_message_headers_replace (h, "Access-Control-Allow-Origin", options.cors_origin.c_str ());
  soup_message_headers_replace (h, "Access-Control-Expose-Headers",
      "Content-Length, Content-Range");
}

/* RFC 9110 13.1.5: a date validator counts only when it is exactly our
 * Last-Modified and that is at least a second old (a file rewritten within
 * the same second would otherwise match). No ETags are sent, so an entity
 * tag never matches. */
bool
if_range_matches (const char *if_range, const std::string & last_modified, time_t mtime)
{
  if (!if_range)
    return true;
  if (last_modified.empty () || last_modified != if_range)
    return false;
  return mtime < g_get_real_time () / G_USEC_PER_SEC;
}

}  // namespace

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
serve_hls_path (SoupServerMessage * msg, const std::string & dir, const std::string & path,
    const HlsServeOptions & options)
{
  size_t slash = path.find ('/');
  if (slash == std::string::npos) {
    serve_hls_file (msg, dir, path, options);
    return;
  }
  std::string folder = path.substr (0, slash), name = path.substr (slash + 1);
  if (!valid_hls_folder_name (folder)) {
    add_cors (soup_server_message_get_response_headers (msg), options);
    reply_plain_text (msg, SOUP_STATUS_BAD_REQUEST, "not an HLS folder name");
    return;
  }
  /* a real folder, never a symlink out of the stream's directory */
  std::string sub = dir + G_DIR_SEPARATOR_S + folder;
  struct stat st;
  if (lstat (sub.c_str (), &st) != 0 || !S_ISDIR (st.st_mode)) {
    add_cors (soup_server_message_get_response_headers (msg), options);
    reply_plain_text (msg, SOUP_STATUS_NOT_FOUND, "no such file");
    return;
  }
  /* a second '/' in name is refused as a file name */
  serve_hls_file (msg, sub, name, options);
}

void
serve_hls_file (SoupServerMessage * msg, const std::string & dir, const std::string & name,
    const HlsServeOptions & options)
{
  const char *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  add_cors (h, options);

  if (g_strcmp0 (method, "OPTIONS") == 0) {
    soup_message_headers_replace (h, "Allow", kAllow);
    if (!options.cors_origin.empty ()) {
      soup_message_headers_replace (h, "Access-Control-Allow-Methods", kAllow);
      soup_message_headers_replace (h, "Access-Control-Allow-Headers", "Range");
      soup_message_headers_replace (h, "Access-Control-Max-Age", "86400");
    }
    soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, nullptr);
    return;
  }
  bool head = g_strcmp0 (method, "HEAD") == 0;
  if (!head && g_strcmp0 (method, "GET") != 0) {
    soup_message_headers_replace (h, "Allow", kAllow);
    reply_plain_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET or HEAD");
    return;
  }
  if (!valid_hls_file_name (name)) {
    reply_plain_text (msg, SOUP_STATUS_BAD_REQUEST, "not an HLS file name");
    return;
  }
  const FileType *type = file_type (name);

  Fd dirfd (open (dir.c_str (), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dirfd.get () < 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      reply_plain_text (msg, SOUP_STATUS_NOT_FOUND, "no such file");
    else
      reply_plain_text (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "cannot open the stream directory");
    return;
  }
  /* O_NOFOLLOW: a symlink fails with ELOOP; O_NONBLOCK: a FIFO does not
   * hang the main context waiting for a writer (it is refused below) */
  Fd fd (openat (dirfd.get (), name.c_str (),
          O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get () < 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP || errno == EMLINK)
      reply_plain_text (msg, SOUP_STATUS_NOT_FOUND, "no such file");
    else
      reply_plain_text (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "cannot open the file");
    return;
  }
  struct stat st;
  if (fstat (fd.get (), &st) != 0) {
    reply_plain_text (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "cannot read the file");
    return;
  }
  if (!S_ISREG (st.st_mode)) {
    reply_plain_text (msg, SOUP_STATUS_NOT_FOUND, "no such file");
    return;
  }
  if (st.st_size < 0 || static_cast<guint64> (st.st_size) > kMaxFileSize) {
    reply_plain_text (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "file too large");
    return;
  }

  /* HEAD of a segment needs only its size; a playlist is always read to
   * see whether it is complete */
  guint64 size = st.st_size;
  g_autoptr (GBytes) content = nullptr;
  if (!head || type->playlist) {
    content = read_up_to (fd.get (), size);
    if (!content) {
      reply_plain_text (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "cannot read the file");
      return;
    }
    size = g_bytes_get_size (content);
  }
  if (type->playlist) {
    /* hlssink2 replaces playlists whole, but one written in place shows up
     * empty or cut mid-line; the player asks again shortly. Whole: the
     * last line ends, or is the ENDLIST tag (hlssink2 writes no newline
     * after it in a final playlist). */
    gsize n;
    const char *text = static_cast<const char *> (g_bytes_get_data (content, &n));
    std::string_view all (text ? text : "", text ? n : 0);
    constexpr std::string_view kEndList = "#EXT-X-ENDLIST";
    bool whole = !all.empty () && (all.back () == '\n'
        || (all.size () >= kEndList.size ()
            && all.compare (all.size () - kEndList.size (), kEndList.size (), kEndList) == 0));
    if (!whole) {
      soup_message_headers_replace (h, "Retry-After", "1");
      reply_plain_text (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "the playlist is being written");
      return;
    }
  }

  std::string last_modified = http_date (st.st_mtime);
  soup_message_headers_replace (h, "Content-Type", type->content_type);
  soup_message_headers_replace (h, "Cache-Control", type->playlist
      ? options.playlist_cache_control.c_str () : options.segment_cache_control.c_str ());
  soup_message_headers_replace (h, "Accept-Ranges", "bytes");
  soup_message_headers_replace (h, "X-Content-Type-Options", "nosniff");
  if (!last_modified.empty ())
    soup_message_headers_replace (h, "Last-Modified", last_modified.c_str ());

  if (head) {
    /* libsoup sends no body for HEAD and keeps an explicit Content-Length */
    soup_message_headers_set_content_length (h, size);
    soup_server_message_set_status (msg, SOUP_STATUS_OK, nullptr);
    return;
  }

  ByteRange range = parse_range (soup_message_headers_get_one (req, "Range"), size);
  if (range.kind != RangeKind::none
      && !if_range_matches (soup_message_headers_get_one (req, "If-Range"), last_modified,
          st.st_mtime))
    range.kind = RangeKind::none;

  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  switch (range.kind) {
    case RangeKind::single: {
      g_autoptr (GBytes) part = g_bytes_new_from_bytes (content, range.first,
          range.last - range.first + 1);
      soup_message_headers_set_content_range (h, range.first, range.last, size);
      soup_message_body_append_bytes (body, part);
      soup_server_message_set_status (msg, SOUP_STATUS_PARTIAL_CONTENT, nullptr);
      break;
    }
    case RangeKind::unsatisfiable: {
      g_autofree char *unsatisfied = g_strdup_printf ("bytes */%" G_GUINT64_FORMAT, size);
      soup_message_headers_replace (h, "Content-Range", unsatisfied);
      soup_message_headers_remove (h, "Content-Type");
      soup_message_headers_replace (h, "Cache-Control", "no-cache");
      soup_server_message_set_status (msg, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE, nullptr);
      break;
    }
    case RangeKind::none:
      /* libsoup's HTTP/1 writer would apply a Range we chose to ignore to
       * a 200 response itself (multipart/byteranges for several) */
      soup_message_headers_remove (req, "Range");
      if (size > 0)             /* libsoup refuses empty GBytes */
        soup_message_body_append_bytes (body, content);
      soup_server_message_set_status (msg, SOUP_STATUS_OK, nullptr);
      break;
  }
}

}  // namespace castline::launcher
