/* castline-launcher: ending the live playlists a daemon that died left
 * open. hlssink2 writes #EXT-X-ENDLIST only on EOS, which a process that
 * is killed never sends: players of such a playlist would wait for new
 * segments forever. At start (streams/streammanager.h, settle_unfinished)
 * each media playlist of such a stream gets it: the stream's index.m3u8,
 * or with an abr master playlist there, each rung's. Master playlists
 * never get one (RFC 8216 4.3.4). */
#pragma once

#include "s3/s3client.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace castline::launcher {

/* A media playlist's text with #EXT-X-ENDLIST added at its end; "" when it
 * has one already, or is not a media playlist (a master, not a playlist).
 * An LL-HLS playlist also loses its EXT-X-PART, EXT-X-PRELOAD-HINT and
 * EXT-X-RENDITION-REPORT lines: the parts lived in the dead daemon's
 * memory, and the part of a segment never completed has no file. */
std::string playlist_with_endlist (const std::string & text);

/* The URI of the last segment a media playlist names; "" for none. */
std::string last_segment_uri (const std::string & text);

/* The URIs a master playlist's variants name (after each
 * EXT-X-STREAM-INF); empty for a media playlist. */
std::vector<std::string> variant_uris (const std::string & text);

/* Local output: index.m3u8 in dir and in each folder under it (abr
 * rungs), each ended and replaced atomically (a temporary file renamed
 * over it). false when one could not be written (logged unless quiet);
 * why: for the log. */
bool end_local_playlists (const std::string & dir,
    const char *why = "the daemon had stopped unexpectedly", bool quiet = false);

/* S3 output: the same under key_prefix (ending in '/'), read from and
 * written back to the bucket. done runs once, on the client's thread:
 * ok false when the bucket could not be read or written (try again
 * later), else for each media playlist its rung ("" for the stream's own)
 * and its last segment's URI (none when nothing was uploaded). */
void end_s3_playlists (std::shared_ptr<castline::s3::S3Client> s3, const std::string & key_prefix,
    std::function<void (bool ok, std::map<std::string, std::string> last_segments)> done);

}  // namespace castline::launcher
