/* castline-launcher: the HLS files a stream's hlssink2 writes, served
 * from its directory over HTTP (GET, HEAD, single byte ranges, CORS).
 * Names are checked and opened without following symlinks, so a request
 * only ever reaches a regular file directly inside that directory.
 * Main context; the file is read with a blocking read (a few MB at most). */
#pragma once

#include "common/http/message.h"

#include <ctime>
#include <string>

namespace castline::launcher {

struct HlsServeOptions {
  /* Cache-Control of playlists (.m3u8); they change every segment */
  std::string playlist_cache_control = "no-cache";
  /* Cache-Control of segments (.ts .m4s .mp4 .aac .vtt); never rewritten */
  std::string segment_cache_control = "public, max-age=86400, immutable";
  /* Cache-Control of a stream's thumbnail (.jpg); replaced every few seconds */
  std::string picture_cache_control = "max-age=5";
  /* Access-Control-Allow-Origin; empty: no CORS headers */
  std::string cors_origin = "*";
};

/* true for a plain file name an HLS sink writes: [A-Za-z0-9_.-]{1,128},
 * no leading '.', no "..", extension one of m3u8 ts m4s mp4 aac vtt jpg
 * (the stream's thumbnail) */
bool valid_hls_file_name (const std::string & name);

/* true for a folder inside a stream's directory: an abr rung's name,
 * [A-Za-z0-9_-]{1,32} (so never "." or "..") */
bool valid_hls_folder_name (const std::string & name);

/* Answers @req with @path under @dir: "name" or "folder/name" (an abr
 * rung's files), both checked (400 otherwise), then as serve_hls_file. */
void serve_hls_path (const http::Request & req, http::Response & res, const std::string & dir,
    const std::string & path, const HlsServeOptions & options);

/* The CORS headers of an HLS answer (none when options.cors_origin is
 * empty). */
void add_hls_cors (http::Headers & h, const HlsServeOptions & options);

/* the Content-Type of an HLS file, by its extension; nullptr for another */
const char *hls_content_type (const std::string & name);

/* CORS headers, then the answer to a method that is not GET or HEAD:
 * 204 for a CORS preflight (OPTIONS), 405 for another; true when it
 * answered (the caller stops), false for GET and HEAD. */
bool answer_hls_method (const http::Request & req, http::Response & res,
    const HlsServeOptions & options);

/* Answers @req (GET, HEAD, OPTIONS...) with @content, the bytes of @name
 * held in memory (an LL-HLS part, its playlist), as serve_hls_file does a
 * file: type and cache headers by name, 200, 206 for a single range,
 * 416, If-Range against @mtime (as the file's Last-Modified). */
void serve_hls_bytes (const http::Request & req, http::Response & res, const std::string & name,
    const http::Bytes & content, time_t mtime, const HlsServeOptions & options);

/* Answers @req with @dir/@name: 200/206/416 for the file, 204 for a CORS
 * preflight, 400 for a bad name, 404 when missing, 405 for other methods,
 * 503 + Retry-After for a playlist caught half written (empty, or its last
 * line cut short), 500 on read errors
 * or files over 64 MiB. */
void serve_hls_file (const http::Request & req, http::Response & res, const std::string & dir,
    const std::string & name, const HlsServeOptions & options);

}  // namespace castline::launcher
