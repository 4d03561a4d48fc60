/* castline-launcher: how a stream is written in JSON, what the HTTP API,
 * the event streams and the webhooks share: its record's members, its
 * recordings, times as ISO 8601 UTC, GstStructure stats, a builder's
 * text. */
#pragma once

#include "config/config.h"
#include "store/streamstore.h"

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <cstdint>
#include <string>

namespace castline::launcher {

/* unix µs as ISO 8601 in UTC ("2026-12-01T07:17:24Z"); "" when 0 or less */
std::string iso8601 (int64_t unix_us);
/* a member with the time as ISO 8601, or null when unset (0) */
void add_time (JsonBuilder * b, const char *name, int64_t unix_us);
void add_string (JsonBuilder * b, const char *name, const std::string & value);
/* a GstStructure (viewerstats, s3hlssink stats) as a JSON object: strings,
 * booleans, numbers, nested structures; anything else as null */
void add_structure (JsonBuilder * b, const GstStructure * s);
/* The members every view of a stream shares (the API, the events, the
 * webhooks): id, title, state, reason (failed; interrupted or ended with
 * one), pipeline, ingest,
 * record and its times. Never the key nor its hash. */
void add_stream_record (JsonBuilder * b, const StreamRecord & r);
/* a JSON object's text as a member value (null when it is not one) */
void add_json_text (JsonBuilder * b, const std::string & json);
/* A stream's recordings as the API and "recording.ready" give them:
 * [{"kind": "hls", "name", "url", "duration" (s), "segments", "created_at"},
 *  {"kind": "mp4", "name", "url", "duration", "bytes", "created_at"}]; one
 * that could not be made has "error" instead of "url" (and is left out
 * with playable_only: the public status). name: the file under the
 * stream's output ("vod.m3u8", "s2-vod.m3u8", "360p/vod.m3u8"). */
JsonNode *recordings_json (const std::vector<RecordingRecord> & recordings,
    const Config & config, bool playable_only = false);
/* the builder's root as compact JSON text */
std::string to_text (JsonBuilder * b);

}  // namespace castline::launcher
