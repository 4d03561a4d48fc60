#include "hls/playlistend.h"

#include <glib.h>

#include <atomic>
#include <mutex>
#include <sstream>

namespace castline::launcher {

namespace {

constexpr const char *kPlaylist = "index.m3u8";
constexpr const char *kEndList = "#EXT-X-ENDLIST";
/* as s3hlssink sends its playlists; an ended one no longer changes, but a
 * CDN may hold the open one for this long */
constexpr const char *kPlaylistType = "application/vnd.apple.mpegurl";
constexpr const char *kPlaylistCacheControl = "max-age=1";

std::vector<std::string>
lines_of (const std::string & text)
{
  std::vector<std::string> lines;
  std::istringstream in (text);
  std::string line;
  while (std::getline (in, line)) {
    if (!line.empty () && line.back () == '\r')
      line.pop_back ();
    lines.push_back (line);
  }
  return lines;
}

bool
is_media_playlist (const std::string & text)
{
  return text.rfind ("#EXTM3U", 0) == 0 && text.find ("#EXT-X-STREAM-INF") == std::string::npos
      && text.find ("#EXT-X-TARGETDURATION") != std::string::npos;
}

/* the rung a variant URI "<rung>/index.m3u8" names; "" otherwise */
std::string
rung_of (const std::string & uri)
{
  size_t slash = uri.find ('/');
  if (slash == 0 || slash == std::string::npos || uri.substr (slash + 1) != kPlaylist
      || uri.find ("..") != std::string::npos)
    return "";
  return uri.substr (0, slash);
}

/* LL-HLS lines about parts and what comes next: meaningless once ended */
bool
is_live_only (const std::string & line)
{
  for (const char *tag : { "#EXT-X-PART:", "#EXT-X-PRELOAD-HINT:", "#EXT-X-RENDITION-REPORT:" })
    if (line.rfind (tag, 0) == 0)
      return true;
  return false;
}

}  // namespace

std::string
playlist_with_endlist (const std::string & text)
{
  if (!is_media_playlist (text))
    return "";
  bool low_latency = false;
  for (const std::string & l : lines_of (text)) {
    if (l == kEndList)
      return "";
    low_latency = low_latency || is_live_only (l);
  }
  if (!low_latency)
    return text + (text.empty () || text.back () == '\n' ? "" : "\n") + kEndList + "\n";
  /* an LL-HLS playlist: its parts were served from the dead daemon's
   * memory (never written to disk), and nothing is coming */
  std::string out;
  for (const std::string & l : lines_of (text))
    if (!is_live_only (l))
      out += l + "\n";
  return out + kEndList + "\n";
}

std::string
last_segment_uri (const std::string & text)
{
  std::string last;
  for (const std::string & l : lines_of (text))
    if (!l.empty () && l[0] != '#')
      last = l;
  return last;
}

std::vector<std::string>
variant_uris (const std::string & text)
{
  std::vector<std::string> uris;
  bool next = false;
  for (const std::string & l : lines_of (text)) {
    if (l.rfind ("#EXT-X-STREAM-INF", 0) == 0)
      next = true;
    else if (next && !l.empty () && l[0] != '#') {
      uris.push_back (l);
      next = false;
    }
  }
  return uris;
}

bool
end_local_playlists (const std::string & dir, const char *why, bool quiet)
{
  bool all = true;
  std::vector<std::string> paths = { dir + G_DIR_SEPARATOR_S + kPlaylist };
  if (g_autoptr (GDir) d = g_dir_open (dir.c_str (), 0, nullptr)) {
    while (const char *f = g_dir_read_name (d)) {
      std::string sub = dir + G_DIR_SEPARATOR_S + f;
      if (g_file_test (sub.c_str (), G_FILE_TEST_IS_DIR)
          && !g_file_test (sub.c_str (), G_FILE_TEST_IS_SYMLINK))
        paths.push_back (sub + G_DIR_SEPARATOR_S + kPlaylist);
    }
  }
  for (const std::string & path : paths) {
    g_autofree gchar *text = nullptr;
    gsize size = 0;
    if (!g_file_get_contents (path.c_str (), &text, &size, nullptr))
      continue;
    std::string ended = playlist_with_endlist (std::string (text, size));
    if (ended.empty ())
      continue;
    g_autoptr (GError) err = nullptr;
    /* a temporary file renamed over it: a reader sees the old or the new */
    if (g_file_set_contents (path.c_str (), ended.data (), (gssize) ended.size (), &err)) {
      g_message ("%s: #EXT-X-ENDLIST added (%s)", path.c_str (), why);
      continue;
    }
    all = false;
    if (!quiet)
      g_warning ("cannot end the playlist %s: %s", path.c_str (), err->message);
  }
  return all;
}

namespace {

/* One run of end_s3_playlists: the media playlists still to do, and what
 * they gave. On the client's thread. */
struct S3Ending {
  std::shared_ptr<castline::s3::S3Client> s3;
  std::string key_prefix;
  std::function<void (bool, std::map<std::string, std::string>)> done;
  std::mutex lock;
  size_t pending = 0;
  bool ok = true;
  std::map<std::string, std::string> last;
};

bool
unreachable (const castline::s3::S3Result & r)
{
  return !r.ok && r.http_status != 404;
}

void
one_done (const std::shared_ptr<S3Ending> & e, bool ok)
{
  bool finished;
  {
    std::lock_guard<std::mutex> lk (e->lock);
    e->ok = e->ok && ok;
    finished = --e->pending == 0;
  }
  if (finished)
    e->done (e->ok, e->ok ? e->last : std::map<std::string, std::string> ());
}

/* a media playlist: its last segment noted, ended and put back */
void
end_s3_media (const std::shared_ptr<S3Ending> & e, const std::string & rung,
    const std::string & text)
{
  {
    std::lock_guard<std::mutex> lk (e->lock);
    e->last[rung] = last_segment_uri (text);
  }
  std::string ended = playlist_with_endlist (text);
  if (ended.empty ()) {
    one_done (e, true);
    return;
  }
  std::string key = e->key_prefix + (rung.empty () ? "" : rung + "/") + kPlaylist;
  g_autoptr (GBytes) body = g_bytes_new (ended.data (), ended.size ());
  e->s3->put_object (key, body, kPlaylistType, kPlaylistCacheControl,
      [e, key] (castline::s3::S3Result r) {
        if (!r.ok)
          g_warning ("cannot end the playlist %s: %s", key.c_str (),
              r.error.describe ().c_str ());
        else
          g_message ("%s: #EXT-X-ENDLIST added (the daemon had stopped unexpectedly)",
              key.c_str ());
        one_done (e, r.ok);
      });
}

std::string
body_of (const castline::s3::S3Result & r)
{
  if (!r.ok || !r.body)
    return "";
  gsize size = 0;
  const char *data = (const char *) g_bytes_get_data (r.body.get (), &size);
  return std::string (data ? data : "", size);
}

}  // namespace

void
end_s3_playlists (std::shared_ptr<castline::s3::S3Client> s3, const std::string & key_prefix,
    std::function<void (bool ok, std::map<std::string, std::string> last_segments)> done)
{
  auto e = std::make_shared<S3Ending> ();
  e->s3 = s3;
  e->key_prefix = key_prefix;
  e->done = std::move (done);
  e->pending = 1;                    /* the root playlist */
  s3->get_object (key_prefix + kPlaylist, [e] (castline::s3::S3Result r) {
        if (unreachable (r)) {
          one_done (e, false);
          return;
        }
        std::string text = body_of (r);
        std::vector<std::string> rungs;
        for (const std::string & uri : variant_uris (text))
          if (!rung_of (uri).empty ())
            rungs.push_back (rung_of (uri));
        if (rungs.empty ()) {
          if (text.empty ())
            one_done (e, true);      /* nothing was uploaded */
          else
            end_s3_media (e, "", text);
          return;
        }
        {
          std::lock_guard<std::mutex> lk (e->lock);
          e->pending += rungs.size ();
        }
        for (const std::string & rung : rungs)
          e->s3->get_object (e->key_prefix + rung + "/" + kPlaylist,
              [e, rung] (castline::s3::S3Result rr) {
                if (unreachable (rr))
                  one_done (e, false);
                else if (rr.ok)
                  end_s3_media (e, rung, body_of (rr));
                else
                  one_done (e, true);
              });
        one_done (e, true);          /* the root's own count */
      });
}

}  // namespace castline::launcher
