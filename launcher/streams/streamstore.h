/* castline-launcher: streams and their keys in SQLite (the data
 * directory's castline.db), so they survive a restart. Keys are kept as
 * SHA-256 digests: a stolen database gives no publishing rights. Used from
 * the main context only. */
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace castline::launcher {

/* interrupted: its publisher was lost without stopping; it may come back
 * (live again) within Config::reconnect_window, else the stream ends. Last,
 * so the others keep their numbers (metrics index by them). */
enum class StreamState { created, scheduled, live, ended, failed, interrupted };

const char *state_name (StreamState s);

struct StreamRecord {
  std::string id;
  std::string title;
  std::string pipeline;            /* empty: chosen from the ingest's codecs */
  std::string key_hash;            /* hex SHA-256 of the stream key */
  StreamState state = StreamState::created;
  /* why it failed, was interrupted, or ended without a stop */
  std::string reason;
  std::string ingest;              /* "whip", "websocket" or "" */
  int64_t created_at = 0;          /* unix µs */
  int64_t scheduled_at = 0;        /* unix µs; 0: not scheduled */
  int64_t started_at = 0;
  int64_t ended_at = 0;
  bool record = false;             /* keeps every segment and writes a VOD at the end */
};

/* One file a recorded stream left (Recorder): its VOD playlist, or its
 * MP4 (record_mp4). */
struct RecordingRecord {
  std::string stream_id;
  std::string kind;                /* "hls" or "mp4" */
  /* the file under the stream's output (local directory or S3 prefix):
   * "vod.m3u8" ("<rung>/vod.m3u8" for an ABR rung), "recording.mp4" */
  std::string name;
  int64_t duration_us = 0;
  unsigned segments = 0;           /* hls */
  int64_t created_at = 0;          /* unix µs */
  int64_t bytes = 0;               /* mp4 */
  std::string error;               /* why the file could not be made ("": it was) */
};

class StreamStore {
 public:
  StreamStore () = default;
  ~StreamStore ();
  StreamStore (const StreamStore &) = delete;
  StreamStore & operator= (const StreamStore &) = delete;

  /* Opens (creating) the database and brings an older one up to the
   * current schema (PRAGMA user_version counts the migrations applied).
   * Streams a daemon that died left live or interrupted stay so until
   * StreamManager::settle_unfinished ends them. */
  bool open (const std::string & path, std::string & error);

  bool insert (const StreamRecord & r, std::string & error);
  std::optional<StreamRecord> get (const std::string & id) const;
  /* The stream whose key this is (an RTMP publisher names its stream by
   * its key alone): looked up by the key's hash, then checked with
   * key_matches. */
  std::optional<StreamRecord> find_by_key (const std::string & key) const;
  std::vector<StreamRecord> list () const;   /* newest first */
  bool save (const StreamRecord & r, std::string & error);   /* by id */

  /* a stream's recordings (a new one replaces one of the same name) */
  bool add_recording (const RecordingRecord & r, std::string & error);
  std::vector<RecordingRecord> recordings (const std::string & stream_id) const;

 private:
  /* verb: INSERT (a new id) or REPLACE (by id) */
  bool write (const char *verb, const StreamRecord & r, std::string & error);

  sqlite3 *db_ = nullptr;
};

/* Hex SHA-256 of a key. */
std::string hash_key (const std::string & key);
/* Whether key hashes to key_hash, in time independent of both. */
bool key_matches (const std::string & key, const std::string & key_hash);
/* n random bytes from the kernel's CSPRNG, base64url without padding. */
std::string random_token (size_t n_bytes);
/* A new stream id: 12 characters of [a-z0-9]. */
std::string random_stream_id ();
/* What a stream id may be: 1 to 64 of [a-z0-9-], not starting with '-'. */
bool valid_stream_id (const std::string & id);

}  // namespace castline::launcher
