#include "store/sqlitestore.h"

#include "store/streamrows.h"

#include <glib.h>

namespace castline::launcher {

namespace {

struct StmtDeleter {
  void operator() (sqlite3_stmt * s) const { sqlite3_finalize (s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

Stmt
prepare (sqlite3 * db, const std::string & sql)
{
  sqlite3_stmt *s = nullptr;
  if (sqlite3_prepare_v2 (db, sql.c_str (), -1, &s, nullptr) != SQLITE_OK)
    return nullptr;
  return Stmt (s);
}

/* binds values to ?1, ?2, ... */
void
bind_texts (sqlite3_stmt * s, const std::vector<std::string> & values)
{
  for (size_t i = 0; i < values.size (); i++)
    sqlite3_bind_text (s, (int) i + 1, values[i].c_str (), -1, SQLITE_TRANSIENT);
}

std::function<const char *(int)>
columns_of (sqlite3_stmt * s)
{
  return [s] (int i) { return (const char *) sqlite3_column_text (s, i); };
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
  /* 3: the node that runs a stream, its publisher session, its reconnect
   * window and the epoch that fences its writes (the cluster, issue 20) */
  "ALTER TABLE streams ADD COLUMN node TEXT NOT NULL DEFAULT '';"
  "ALTER TABLE streams ADD COLUMN session INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE streams ADD COLUMN resume_until INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE streams ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;",
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

bool
SqliteStore::open (const std::string & path, std::string & error)
{
  sqlite3 *db = nullptr;
  int rc = sqlite3_open (path.c_str (), &db);
  db_.reset (db);
  if (rc != SQLITE_OK) {
    error = path + ": " + sqlite3_errmsg (db);
    db_.reset ();
    return false;
  }
  path_ = path;
  sqlite3_busy_timeout (db, 2000);
  const char *schema =
      "PRAGMA journal_mode=WAL;"
      "CREATE TABLE IF NOT EXISTS streams ("
      " id TEXT PRIMARY KEY, title TEXT NOT NULL, pipeline TEXT NOT NULL,"
      " key_hash TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL,"
      " ingest TEXT NOT NULL, created_at INTEGER NOT NULL, scheduled_at INTEGER NOT NULL,"
      " started_at INTEGER NOT NULL, ended_at INTEGER NOT NULL);";
  char *msg = nullptr;
  if (sqlite3_exec (db, schema, nullptr, nullptr, &msg) != SQLITE_OK) {
    error = path + ": " + (msg ? msg : "cannot create the schema");
    sqlite3_free (msg);
    return false;
  }
  /* the first schema above, then what came after it */
  std::string why;
  if (!migrate (db, why)) {
    error = path + ": " + why;
    return false;
  }
  return true;
}

bool
SqliteStore::insert (const StreamRecord & r, std::string & error)
{
  Stmt s = prepare (db_.get (), stream_insert_sql ('?'));
  if (!s) {
    error = sqlite3_errmsg (db_.get ());
    return false;
  }
  std::vector<std::string> values = stream_values (r);
  values.back () = "0";              /* a new row's epoch */
  bind_texts (s.get (), values);
  if (sqlite3_step (s.get ()) != SQLITE_DONE) {
    error = sqlite3_errmsg (db_.get ());
    return false;
  }
  return true;
}

WriteResult
SqliteStore::save (StreamRecord & r, std::string & error)
{
  return update (r, false, error);
}

WriteResult
SqliteStore::claim (StreamRecord & r, std::string & error)
{
  return update (r, true, error);
}

WriteResult
SqliteStore::update (StreamRecord & r, bool claim, std::string & error)
{
  Stmt s = prepare (db_.get (), stream_update_sql ('?', claim));
  if (!s) {
    error = sqlite3_errmsg (db_.get ());
    return WriteResult::error;
  }
  bind_texts (s.get (), stream_values (r));
  if (sqlite3_step (s.get ()) != SQLITE_DONE) {
    error = sqlite3_errmsg (db_.get ());
    return WriteResult::error;
  }
  if (sqlite3_changes (db_.get ()) != 1)
    return WriteResult::stale;
  r.epoch++;
  return WriteResult::ok;
}

std::optional<StreamRecord>
SqliteStore::get (const std::string & id) const
{
  Stmt s = prepare (db_.get (), std::string ("SELECT ") + kStreamColumns
      + " FROM streams WHERE id = ?1");
  if (!s)
    return std::nullopt;
  bind_texts (s.get (), { id });
  if (sqlite3_step (s.get ()) != SQLITE_ROW)
    return std::nullopt;
  return stream_from_columns (columns_of (s.get ()));
}

std::optional<StreamRecord>
SqliteStore::find_by_key (const std::string & key) const
{
  Stmt s = prepare (db_.get (), std::string ("SELECT ") + kStreamColumns
      + " FROM streams WHERE key_hash = ?1");
  if (!s)
    return std::nullopt;
  bind_texts (s.get (), { hash_key (key) });
  /* the index finds the row by a hash, which tells nothing of the key;
   * the key itself is then checked as everywhere, in constant time */
  while (sqlite3_step (s.get ()) == SQLITE_ROW) {
    StreamRecord r = stream_from_columns (columns_of (s.get ()));
    if (key_matches (key, r.key_hash))
      return r;
  }
  return std::nullopt;
}

std::vector<StreamRecord>
SqliteStore::list () const
{
  std::vector<StreamRecord> out;
  Stmt s = prepare (db_.get (), std::string ("SELECT ") + kStreamColumns
      + " FROM streams ORDER BY created_at DESC");
  while (s && sqlite3_step (s.get ()) == SQLITE_ROW)
    out.push_back (stream_from_columns (columns_of (s.get ())));
  return out;
}

bool
SqliteStore::add_recording (const RecordingRecord & r, std::string & error)
{
  Stmt s = prepare (db_.get (), std::string ("REPLACE INTO recordings (") + kRecordingColumns
      + ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8)");
  if (!s) {
    error = sqlite3_errmsg (db_.get ());
    return false;
  }
  bind_texts (s.get (), recording_values (r));
  if (sqlite3_step (s.get ()) != SQLITE_DONE) {
    error = sqlite3_errmsg (db_.get ());
    return false;
  }
  return true;
}

std::vector<RecordingRecord>
SqliteStore::recordings (const std::string & stream_id) const
{
  std::vector<RecordingRecord> out;
  Stmt s = prepare (db_.get (), std::string ("SELECT ") + kRecordingColumns
      + " FROM recordings WHERE stream_id = ?1 ORDER BY kind, instr (name, '/') > 0, name");
  if (!s)
    return out;
  bind_texts (s.get (), { stream_id });
  while (sqlite3_step (s.get ()) == SQLITE_ROW)
    out.push_back (recording_from_columns (columns_of (s.get ())));
  return out;
}

bool
SqliteStore::remove_recording (const RecordingRecord & r, std::string & error)
{
  Stmt s = prepare (db_.get (),
      "DELETE FROM recordings WHERE stream_id = ?1 AND kind = ?2 AND name = ?3");
  if (!s) {
    error = sqlite3_errmsg (db_.get ());
    return false;
  }
  bind_texts (s.get (), { r.stream_id, r.kind, r.name });
  if (sqlite3_step (s.get ()) != SQLITE_DONE) {
    error = sqlite3_errmsg (db_.get ());
    return false;
  }
  return true;
}

std::vector<RecordingRecord>
SqliteStore::recordings_before (int64_t before, size_t limit) const
{
  std::vector<RecordingRecord> out;
  Stmt s = prepare (db_.get (), std::string ("SELECT ") + kRecordingColumns
      + " FROM recordings WHERE created_at < ?1 ORDER BY created_at LIMIT ?2");
  if (!s)
    return out;
  sqlite3_bind_int64 (s.get (), 1, before);
  sqlite3_bind_int64 (s.get (), 2, (sqlite3_int64) limit);
  while (sqlite3_step (s.get ()) == SQLITE_ROW)
    out.push_back (recording_from_columns (columns_of (s.get ())));
  return out;
}

}  // namespace castline::launcher
