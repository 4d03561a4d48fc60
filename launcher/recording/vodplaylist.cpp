#include "recording/vodplaylist.h"

#include <algorithm>

namespace castline::launcher {

namespace {

/* seconds with three decimals, whatever the locale */
std::string
seconds (GstClockTime ns)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (buf, sizeof (buf), "%.3f", (double) ns / GST_SECOND);
  return buf;
}

/* a relative URI of one of our files: "segment00000.ts", "360p/vod.m3u8" */
bool
plain_file (const std::string & uri)
{
  if (uri.empty () || uri[0] == '/' || uri.find_first_of (":?#\\") != std::string::npos)
    return false;
  g_auto (GStrv) parts = g_strsplit (uri.c_str (), "/", -1);
  guint n = g_strv_length (parts);
  if (n > 2)
    return false;
  for (guint i = 0; i < n; i++)
    if (!parts[i][0] || g_str_equal (parts[i], ".") || g_str_equal (parts[i], ".."))
      return false;
  return true;
}

}  // namespace

std::vector<std::string>
playlist_files (const std::string & playlist)
{
  std::vector<std::string> out;
  g_auto (GStrv) lines = g_strsplit (playlist.c_str (), "\n", -1);
  for (char **l = lines; *l; l++) {
    std::string line = *l;
    if (!line.empty () && line.back () == '\r')
      line.pop_back ();
    std::string uri;
    if (g_str_has_prefix (line.c_str (), "#EXT-X-MAP:")) {
      size_t at = line.find ("URI=\"");
      size_t end = at == std::string::npos ? at : line.find ('"', at + 5);
      if (end != std::string::npos)
        uri = line.substr (at + 5, end - at - 5);
    } else if (!line.empty () && line[0] != '#') {
      uri = line;
    }
    if (plain_file (uri) && std::find (out.begin (), out.end (), uri) == out.end ())
      out.push_back (uri);
  }
  return out;
}

bool
is_master_playlist (const std::string & playlist)
{
  return playlist.find ("#EXT-X-STREAM-INF:") != std::string::npos;
}

GstClockTime
total_duration (const std::vector<VodSegment> & segments)
{
  GstClockTime total = 0;
  for (auto & s : segments)
    total += s.duration;
  return total;
}

std::string
render_vod_playlist (const std::vector<VodSegment> & segments, const std::string & init)
{
  GstClockTime longest = 0;
  for (auto & s : segments)
    longest = std::max (longest, s.duration);
  /* rounded up: a target duration a segment exceeds stalls some players
   * (and breaks RFC 8216's rule for EXTINF) */
  guint64 target = std::max<guint64> (1, (longest + GST_SECOND - 1) / GST_SECOND);

  /* EXT-X-MAP outside an I-frame playlist needs version 6 (RFC 8216
   * 7); 7 as the live LL-HLS playlists' fMP4 segments are announced */
  std::string text = "#EXTM3U\n#EXT-X-VERSION:" + std::string (init.empty () ? "3" : "7")
      + "\n#EXT-X-PLAYLIST-TYPE:VOD\n";
  text += "#EXT-X-TARGETDURATION:" + std::to_string (target) + "\n";
  text += "#EXT-X-MEDIA-SEQUENCE:0\n";
  if (!init.empty ())
    text += "#EXT-X-MAP:URI=\"" + init + "\"\n";
  for (auto & s : segments)
    text += "#EXTINF:" + seconds (s.duration) + ",\n" + s.uri + "\n";
  text += "#EXT-X-ENDLIST\n";
  return text;
}

std::string
render_vod_master (const std::string & live_master, const std::set<std::string> & rungs,
    const std::string & vod_name)
{
  const std::string live = "/index.m3u8";
  std::string out, pending_inf;
  bool any = false;
  g_auto (GStrv) lines = g_strsplit (live_master.c_str (), "\n", -1);
  for (char **l = lines; *l; l++) {
    std::string line = *l;
    if (!line.empty () && line.back () == '\r')
      line.pop_back ();
    if (g_str_has_prefix (line.c_str (), "#EXT-X-STREAM-INF:")) {
      pending_inf = line;                /* its URI comes on the next line */
      continue;
    }
    if (line.empty () || line[0] == '#') {
      if (!line.empty ())
        out += line + "\n";
      continue;
    }
    /* a variant's URI */
    bool is_live = line.size () > live.size ()
        && line.compare (line.size () - live.size (), live.size (), live) == 0;
    std::string rung = is_live ? line.substr (0, line.size () - live.size ()) : "";
    if (!pending_inf.empty () && is_live && rungs.count (rung)) {
      out += pending_inf + "\n" + rung + "/" + vod_name + "\n";
      any = true;
    }
    pending_inf.clear ();
  }
  return any ? out : "";
}

}  // namespace castline::launcher
