#include "streams/streamstore.h"

#include <glib.h>
#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace castline::launcher {

const char *
state_name (StreamState s)
{
  switch (s) {
    case StreamState::created:
      return "created";
    case StreamState::scheduled:
      return "scheduled";
    case StreamState::live:
      return "live";
    case StreamState::ended:
      return "ended";
    case StreamState::failed:
      return "failed";
    case StreamState::interrupted:
      return "interrupted";
  }
  return "failed";
}

static StreamState
state_from_name (const std::string & s)
{
  for (StreamState st : { StreamState::created, StreamState::scheduled, StreamState::live,
           StreamState::ended, StreamState::interrupted })
    if (s == state_name (st))
      return st;
  return StreamState::failed;
}

namespace {

struct StmtDeleter {
  void operator() (sqlite3_stmt * s) const { sqlite3_finalize (s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

Stmt
prepare (sqlite3 * db, const char *sql)
{
  sqlite3_stmt *s = nullptr;
  if (sqlite3_prepare_v2 (db, sql, -1, &s, nullptr) != SQLITE_OK)
    return nullptr;
  return Stmt (s);
}

const char *const kColumns =
    "id, title, pipeline, key_hash, state, reason, ingest, created_at, scheduled_at, "
    "started_at, ended_at, record";

std::string
text (sqlite3_stmt * s, int col)
{
  const unsigned char *t = sqlite3_column_text (s, col);
  return t ? (const char *) t : "";
}

StreamRecord
row (sqlite3_stmt * s)
{
  StreamRecord r;
  r.id = text (s, 0);
  r.title = text (s, 1);
  r.pipeline = text (s, 2);
  r.key_hash = text (s, 3);
  r.state = state_from_name (text (s, 4));
  r.reason = text (s, 5);
  r.ingest = text (s, 6);
  r.created_at = sqlite3_column_int64 (s, 7);
  r.scheduled_at = sqlite3_column_int64 (s, 8);
  r.started_at = sqlite3_column_int64 (s, 9);
  r.ended_at = sqlite3_column_int64 (s, 10);
  r.record = sqlite3_column_int (s, 11) != 0;
  return r;
}

/* binds every column in kColumns order */
void
bind (sqlite3_stmt * s, const StreamRecord & r)
{
  sqlite3_bind_text (s, 1, r.id.c_str (), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (s, 2, r.title.c_str (), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (s, 3, r.pipeline.c_str (), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (s, 4, r.key_hash.c_str (), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (s, 5, state_name (r.state), -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 6, r.reason.c_str (), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (s, 7, r.ingest.c_str (), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (s, 8, r.created_at);
  sqlite3_bind_int64 (s, 9, r.scheduled_at);
  sqlite3_bind_int64 (s, 10, r.started_at);
  sqlite3_bind_int64 (s, 11, r.ended_at);
  sqlite3_bind_int (s, 12, r.record ? 1 : 0);
}

/* Schema changes since the first release, in order: migration i takes a
 * database at user_version i to i + 1. Append only; never edit one that
 * shipped. */
const char *const kMigrations[] = {
  /* 1: recordings (issue 5) */
  "ALTER TABLE streams ADD COLUMN record INTEGER NOT NULL DEFAULT 0;"
  "CREATE TABLE recordings ("
  " stream_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,"
  " duration_us INTEGER NOT NULL, segments INTEGER NOT NULL, created_at INTEGER NOT NULL,"
  " bytes INTEGER NOT NULL, error TEXT NOT NULL, PRIMARY KEY (stream_id, kind, name));",
  /* 2: streams found by their key's hash (RTMP, issue 16) */
  "CREATE INDEX streams_key_hash ON streams (key_hash);",
};

/* Applies the migrations a database lacks, each in a transaction with
 * its user_version, so a crash leaves it at one version or the next. */
bool
migrate (sqlite3 * db, std::string & error)
{
  Stmt v = prepare (db, "PRAGMA user_version");
  if (!v || sqlite3_step (v.get ()) != SQLITE_ROW) {
    error = sqlite3_errmsg (db);
    return false;
  }
  int version = sqlite3_column_int (v.get (), 0);
  v.reset ();
  int latest = (int) G_N_ELEMENTS (kMigrations);
  if (version > latest) {
    error = "the database is of a newer castline (schema " + std::to_string (version) + ", this "
        "one knows " + std::to_string (latest) + ")";
    return false;
  }
  for (; version < latest; version++) {
    std::string sql = std::string ("BEGIN;") + kMigrations[version] + "PRAGMA user_version = "
        + std::to_string (version + 1) + ";COMMIT;";
    char *msg = nullptr;
    if (sqlite3_exec (db, sql.c_str (), nullptr, nullptr, &msg) != SQLITE_OK) {
      error = "migration " + std::to_string (version + 1) + ": " + (msg ? msg : "failed");
      sqlite3_free (msg);
      sqlite3_exec (db, "ROLLBACK", nullptr, nullptr, nullptr);
      return false;
    }
  }
  return true;
}

}  // namespace

StreamStore::~StreamStore ()
{
  if (db_)
    sqlite3_close (db_);
}

bool
StreamStore::open (const std::string & path, std::string & error)
{
  if (sqlite3_open (path.c_str (), &db_) != SQLITE_OK) {
    error = path + ": " + sqlite3_errmsg (db_);
    sqlite3_close (db_);
    db_ = nullptr;
    return false;
  }
  sqlite3_busy_timeout (db_, 2000);
  const char *schema =
      "PRAGMA journal_mode=WAL;"
      "CREATE TABLE IF NOT EXISTS streams ("
      " id TEXT PRIMARY KEY, title TEXT NOT NULL, pipeline TEXT NOT NULL,"
      " key_hash TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL,"
      " ingest TEXT NOT NULL, created_at INTEGER NOT NULL, scheduled_at INTEGER NOT NULL,"
      " started_at INTEGER NOT NULL, ended_at INTEGER NOT NULL);";
  char *msg = nullptr;
  if (sqlite3_exec (db_, schema, nullptr, nullptr, &msg) != SQLITE_OK) {
    error = path + ": " + (msg ? msg : "cannot create the schema");
    sqlite3_free (msg);
    return false;
  }
  /* the first schema above, then what came after it */
  std::string why;
  if (!migrate (db_, why)) {
    error = path + ": " + why;
    return false;
  }
  return true;
}

bool
StreamStore::insert (const StreamRecord & r, std::string & error)
{
  return write ("INSERT", r, error);
}

bool
StreamStore::save (const StreamRecord & r, std::string & error)
{
  return write ("REPLACE", r, error);
}

bool
StreamStore::write (const char *verb, const StreamRecord & r, std::string & error)
{
  std::string sql = std::string (verb) + " INTO streams (" + kColumns
      + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)";
  Stmt s = prepare (db_, sql.c_str ());
  if (!s) {
    error = sqlite3_errmsg (db_);
    return false;
  }
  bind (s.get (), r);
  if (sqlite3_step (s.get ()) != SQLITE_DONE) {
    error = sqlite3_errmsg (db_);
    return false;
  }
  return true;
}

std::optional<StreamRecord>
StreamStore::get (const std::string & id) const
{
  std::string sql = std::string ("SELECT ") + kColumns + " FROM streams WHERE id = ?";
  Stmt s = prepare (db_, sql.c_str ());
  if (!s)
    return std::nullopt;
  sqlite3_bind_text (s.get (), 1, id.c_str (), -1, SQLITE_TRANSIENT);
  if (sqlite3_step (s.get ()) != SQLITE_ROW)
    return std::nullopt;
  return row (s.get ());
}

std::optional<StreamRecord>
StreamStore::find_by_key (const std::string & key) const
{
  std::string sql = std::string ("SELECT ") + kColumns + " FROM streams WHERE key_hash = ?";
  Stmt s = prepare (db_, sql.c_str ());
  if (!s)
    return std::nullopt;
  std::string hash = hash_key (key);
  sqlite3_bind_text (s.get (), 1, hash.c_str (), -1, SQLITE_TRANSIENT);
  /* the index finds the row by a hash, which tells nothing of the key;
   * the key itself is then checked as everywhere, in constant time */
  while (sqlite3_step (s.get ()) == SQLITE_ROW) {
    StreamRecord r = row (s.get ());
    if (key_matches (key, r.key_hash))
      return r;
  }
  return std::nullopt;
}

std::vector<StreamRecord>
StreamStore::list () const
{
  std::vector<StreamRecord> out;
  std::string sql = std::string ("SELECT ") + kColumns + " FROM streams ORDER BY created_at DESC";
  Stmt s = prepare (db_, sql.c_str ());
  while (s && sqlite3_step (s.get ()) == SQLITE_ROW)
    out.push_back (row (s.get ()));
  return out;
}

bool
StreamStore::add_recording (const RecordingRecord & r, std::string & error)
{
  Stmt s = prepare (db_, "REPLACE INTO recordings (stream_id, kind, name, duration_us, segments,"
      " created_at, bytes, error) VALUES (?,?,?,?,?,?,?,?)");
  if (!s) {
    error = sqlite3_errmsg (db_);
    return false;
  }
  sqlite3_bind_text (s.get (), 1, r.stream_id.c_str (), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (s.get (), 2, r.kind.c_str (), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (s.get (), 3, r.name.c_str (), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (s.get (), 4, r.duration_us);
  sqlite3_bind_int64 (s.get (), 5, r.segments);
  sqlite3_bind_int64 (s.get (), 6, r.created_at);
  sqlite3_bind_int64 (s.get (), 7, r.bytes);
  sqlite3_bind_text (s.get (), 8, r.error.c_str (), -1, SQLITE_TRANSIENT);
  if (sqlite3_step (s.get ()) != SQLITE_DONE) {
    error = sqlite3_errmsg (db_);
    return false;
  }
  return true;
}

std::vector<RecordingRecord>
StreamStore::recordings (const std::string & stream_id) const
{
  std::vector<RecordingRecord> out;
  Stmt s = prepare (db_, "SELECT stream_id, kind, name, duration_us, segments, created_at,"
      " bytes, error FROM recordings WHERE stream_id = ? ORDER BY kind, instr (name, '/') > 0, name");
  if (!s)
    return out;
  sqlite3_bind_text (s.get (), 1, stream_id.c_str (), -1, SQLITE_TRANSIENT);
  while (sqlite3_step (s.get ()) == SQLITE_ROW) {
    RecordingRecord r;
    r.stream_id = text (s.get (), 0);
    r.kind = text (s.get (), 1);
    r.name = text (s.get (), 2);
    r.duration_us = sqlite3_column_int64 (s.get (), 3);
    r.segments = (unsigned) sqlite3_column_int64 (s.get (), 4);
    r.created_at = sqlite3_column_int64 (s.get (), 5);
    r.bytes = sqlite3_column_int64 (s.get (), 6);
    r.error = text (s.get (), 7);
    out.push_back (std::move (r));
  }
  return out;
}

std::string
hash_key (const std::string & key)
{
  g_autofree gchar *hex = g_compute_checksum_for_string (G_CHECKSUM_SHA256, key.data (),
      (gssize) key.size ());
  return hex;
}

bool
key_matches (const std::string & key, const std::string & key_hash)
{
  std::string h = hash_key (key);
  if (h.size () != key_hash.size ())
    return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < h.size (); i++)
    diff |= (unsigned char) (h[i] ^ key_hash[i]);
  return diff == 0;
}

static void
random_bytes (unsigned char *buf, size_t n)
{
  size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom (buf + got, n - got, 0);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      g_error ("getrandom failed: %s", g_strerror (errno));   /* no keys without entropy */
    got += (size_t) r;
  }
}

std::string
random_token (size_t n_bytes)
{
  std::string raw (n_bytes, '\0');
  random_bytes ((unsigned char *) &raw[0], n_bytes);
  g_autofree gchar *b64 = g_base64_encode ((const guchar *) raw.data (), raw.size ());
  std::string s (b64);
  for (char & c : s)
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!s.empty () && s.back () == '=')
    s.pop_back ();
  return s;
}

std::string
random_stream_id ()
{
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char raw[12];
  random_bytes (raw, sizeof (raw));
  std::string id;
  for (unsigned char b : raw)
    id += alphabet[b % 36];
  return id;
}

bool
valid_stream_id (const std::string & id)
{
  if (id.empty () || id.size () > 64 || id[0] == '-')
    return false;
  for (char c : id)
    if (!(g_ascii_islower (c) || g_ascii_isdigit (c) || c == '-'))
      return false;
  return true;
}

}  // namespace castline::launcher
