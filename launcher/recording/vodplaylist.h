/* castline-launcher: the text of a recording's VOD playlist (vod.m3u8):
 * every segment an HLS output kept, from the first, with its duration,
 * EXT-X-PLAYLIST-TYPE:VOD and EXT-X-ENDLIST, so a player shows the whole
 * stream from start to end and never reloads it. */
#pragma once

#include <gst/gst.h>

#include <set>
#include <string>
#include <vector>

namespace castline::launcher {

struct VodSegment {
  std::string uri;                 /* relative to the playlist: "segment00000.ts" */
  GstClockTime duration = 0;       /* ns */
};

/* The VOD playlist of segments (HLS version 3: decimal EXTINF durations
 * with millisecond precision). EXT-X-TARGETDURATION is the longest
 * segment rounded up to whole seconds (at least 1), as RFC 8216 4.3.3.1
 * requires of every EXTINF. init: the init segment of fMP4 segments
 * ("init.mp4", relative to the playlist), named by EXT-X-MAP (version 7
 * then); "" for MPEG-TS segments. */
std::string render_vod_playlist (const std::vector<VodSegment> & segments,
    const std::string & init = "");

/* The VOD master playlist of an abr recording, from its live master: every
 * variant whose URI is "<rung>/index.m3u8" with rung in rungs (those with
 * a VOD) points at "<rung>/<vod_name>" instead, its EXT-X-STREAM-INF kept;
 * other variants are left out. "" when none is left. */
std::string render_vod_master (const std::string & live_master, const std::set<std::string> & rungs,
    const std::string & vod_name = "vod.m3u8");

/* The files a playlist names, as written in it (relative URIs): every
 * segment and the init segment of an EXT-X-MAP; a master's variant
 * playlists. Only plain file names and "<folder>/<file>" are kept: a URI
 * with a scheme, a query, "..", or an absolute path is left out (a file of
 * ours never names one). */
std::vector<std::string> playlist_files (const std::string & playlist);

/* Whether a playlist is a master playlist (it has EXT-X-STREAM-INF). */
bool is_master_playlist (const std::string & playlist);

/* The sum of the segments' durations, ns. */
GstClockTime total_duration (const std::vector<VodSegment> & segments);

}  // namespace castline::launcher
