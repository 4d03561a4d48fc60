#include "store/pgstore.h"

#include "store/openstore.h"
#include "store/streamrows.h"

#include <glib.h>
#include <json-glib/json-glib.h>

#include <cstring>

namespace castline::launcher {

namespace {

/* pg_advisory_xact_lock key of the migrations (an arbitrary constant,
 * the same in every castline) */
const char *const kMigrationLock = "7161116109151108105";
/* how long the migrations, and the nodes waiting for them, may take */
constexpr int64_t kMigrationWaitS = 60;
/* the database's clock as unix µs, where rows keep time so */
#define DB_NOW_US "(extract(epoch from clock_timestamp()) * 1000000)::bigint"

/* Schema changes, in order: migration i takes a database at version i to
 * i + 1. Append only; never edit one that shipped. */
const char *const kMigrations[] = {
  /* 1: the streams and recordings of SqliteStore's schema 3; the nodes'
   * leases; what each node has of each stream; the orders for a node
   * (end a stream it runs) */
  "CREATE TABLE streams ("
  " id TEXT PRIMARY KEY, title TEXT NOT NULL, pipeline TEXT NOT NULL,"
  " key_hash TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL, ingest TEXT NOT NULL,"
  " created_at BIGINT NOT NULL, scheduled_at BIGINT NOT NULL, started_at BIGINT NOT NULL,"
  " ended_at BIGINT NOT NULL, record INTEGER NOT NULL DEFAULT 0,"
  " node TEXT NOT NULL DEFAULT '', session BIGINT NOT NULL DEFAULT 0,"
  " resume_until BIGINT NOT NULL DEFAULT 0, epoch BIGINT NOT NULL DEFAULT 0);"
  "CREATE INDEX streams_key_hash ON streams (key_hash);"
  "CREATE INDEX streams_state ON streams (state);"
  "CREATE TABLE recordings ("
  " stream_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,"
  " duration_us BIGINT NOT NULL, segments BIGINT NOT NULL, created_at BIGINT NOT NULL,"
  " bytes BIGINT NOT NULL, error TEXT NOT NULL, PRIMARY KEY (stream_id, kind, name));"
  "CREATE TABLE nodes ("
  " id TEXT PRIMARY KEY, public_url TEXT NOT NULL, live_streams INT NOT NULL,"
  " max_live_streams INT NOT NULL, started_at BIGINT NOT NULL,"
  " lease_until TIMESTAMPTZ NOT NULL);"
  "CREATE TABLE stream_shares ("
  " stream_id TEXT NOT NULL, node TEXT NOT NULL, hls_viewers INT NOT NULL,"
  " webrtc_viewers INT NOT NULL, stats TEXT NOT NULL, updated_at TIMESTAMPTZ NOT NULL,"
  " PRIMARY KEY (stream_id, node));"
  "CREATE TABLE orders ("
  " node TEXT NOT NULL, stream_id TEXT NOT NULL, PRIMARY KEY (node, stream_id));",
};

std::function<const char *(int)>
columns_of (const PGresult * r, int row)
{
  return [r, row] (int i) {
    return PQgetisnull (r, row, i) ? nullptr : (const char *) PQgetvalue (r, row, i);
  };
}

/* the rows of a SELECT of kRecordingColumns (r may be null: none) */
std::vector<RecordingRecord>
recordings_of (const PGresult * r)
{
  std::vector<RecordingRecord> out;
  for (int i = 0; r && i < PQntuples (r); i++)
    out.push_back (recording_from_columns (columns_of (r, i)));
  return out;
}

int64_t
int_at (const PGresult * r, int row, int col)
{
  return g_ascii_strtoll (PQgetvalue (r, row, col), nullptr, 10);
}

std::string
select_streams (const char *where)
{
  return std::string ("SELECT ") + kStreamColumns + " FROM streams " + where;
}

/* shares as a JSON array, what json_to_recordset reads */
std::string
shares_json (const std::vector<StreamShare> & shares)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  for (const StreamShare & s : shares) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "stream_id");
    json_builder_add_string_value (b, s.stream_id.c_str ());
    json_builder_set_member_name (b, "hls_viewers");
    json_builder_add_int_value (b, s.hls_viewers);
    json_builder_set_member_name (b, "webrtc_viewers");
    json_builder_add_int_value (b, s.webrtc_viewers);
    json_builder_set_member_name (b, "stats");
    json_builder_add_string_value (b, s.stats_json.c_str ());
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *text = json_to_string (root, FALSE);
  return text;
}

}  // namespace

PgStore::PgStore (const std::string & url)
  : described_ (redact_store_url (url)), conn_ (url, "store")
{
}

bool
PgStore::open (std::string & error)
{
  std::string why;
  if (!conn_.connect (why) || !migrate (why)) {
    error = described_ + ": " + why;
    return false;
  }
  return true;
}

bool
PgStore::migrate (std::string & error)
{
  /* At start, not on a serving main context: a migration may take long,
   * and the nodes starting with this one wait for it (the lock). */
  conn_.set_answer_wait (kMigrationWaitS * G_USEC_PER_SEC + PgConnection::kAnswerWaitUs);
  bool done = migrate_locked (error);
  conn_.set_answer_wait (PgConnection::kAnswerWaitUs);
  return done;
}

bool
PgStore::migrate_locked (std::string & error)
{
  int latest = (int) G_N_ELEMENTS (kMigrations);
  std::string wait = std::to_string (kMigrationWaitS) + "s";
  if (!conn_.exec ("BEGIN; SET LOCAL statement_timeout = '" + wait + "';"
          " SET LOCAL lock_timeout = '" + wait + "';"
          " SELECT pg_advisory_xact_lock (" + kMigrationLock + ");"
          " CREATE TABLE IF NOT EXISTS castline_schema (version INT NOT NULL)", error))
    goto rollback;
  {
    PgResult v = conn_.query ("SELECT max (version) FROM castline_schema", {}, error);
    if (!v)
      goto rollback;
    int version = PQgetisnull (v.get (), 0, 0) ? 0 : (int) int_at (v.get (), 0, 0);
    if (version > latest) {
      error = "the database is of a newer castline (schema " + std::to_string (version)
          + ", this one knows " + std::to_string (latest) + ")";
      goto rollback;
    }
    if (version == latest)
      return conn_.exec ("COMMIT", error);
    for (; version < latest; version++) {
      if (!conn_.exec (kMigrations[version], error)) {
        error = "migration " + std::to_string (version + 1) + ": " + error;
        goto rollback;
      }
    }
    if (!conn_.exec ("DELETE FROM castline_schema; INSERT INTO castline_schema VALUES ("
            + std::to_string (latest) + "); COMMIT", error))
      goto rollback;
    return true;
  }

  /* ERRORS */
rollback:
  {
    std::string ignored;
    conn_.exec ("ROLLBACK", ignored);
  }
  return false;
}

bool
PgStore::insert (const StreamRecord & r, std::string & error)
{
  std::vector<std::string> values = stream_values (r);
  values.back () = "0";              /* a new row's epoch */
  return conn_.query (stream_insert_sql ('$'), values, error) != nullptr;
}

WriteResult
PgStore::save (StreamRecord & r, std::string & error)
{
  return update (r, false, error);
}

WriteResult
PgStore::claim (StreamRecord & r, std::string & error)
{
  return update (r, true, error);
}

WriteResult
PgStore::update (StreamRecord & r, bool claim, std::string & error)
{
  PgResult res = conn_.query (stream_update_sql ('$', claim), stream_values (r), error);
  if (!res)
    return WriteResult::error;
  if (strcmp (PQcmdTuples (res.get ()), "1") != 0)
    return WriteResult::stale;
  r.epoch++;
  return WriteResult::ok;
}

std::vector<StreamRecord>
PgStore::streams_of (const std::string & sql, const std::vector<std::string> & params,
    std::string & error) const
{
  std::vector<StreamRecord> out;
  PgResult res = conn_.query (sql, params, error);
  if (!res)
    return out;
  for (int i = 0; i < PQntuples (res.get ()); i++)
    out.push_back (stream_from_columns (columns_of (res.get (), i)));
  return out;
}

void
PgStore::report (const std::string & error) const
{
  if (error.empty ())
    last_reported_.clear ();
  else if (error != last_reported_)
    g_message ("store: %s", error.c_str ());
  last_reported_ = error;
}

std::optional<StreamRecord>
PgStore::get (const std::string & id) const
{
  std::string error;
  auto rows = streams_of (select_streams ("WHERE id = $1"), { id }, error);
  report (error);
  if (rows.empty ())
    return std::nullopt;
  return rows[0];
}

std::optional<StreamRecord>
PgStore::find_by_key (const std::string & key) const
{
  std::string error;
  auto rows = streams_of (select_streams ("WHERE key_hash = $1"), { hash_key (key) }, error);
  report (error);
  /* the index finds the row by a hash, which tells nothing of the key;
   * the key itself is then checked as everywhere, in constant time */
  for (StreamRecord & r : rows)
    if (key_matches (key, r.key_hash))
      return r;
  return std::nullopt;
}

std::vector<StreamRecord>
PgStore::list () const
{
  std::string error;
  auto rows = streams_of (select_streams ("ORDER BY created_at DESC"), {}, error);
  report (error);
  return rows;
}

bool
PgStore::add_recording (const RecordingRecord & r, std::string & error)
{
  std::string sql = std::string ("INSERT INTO recordings (") + kRecordingColumns
      + ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (stream_id, kind, name) DO UPDATE SET"
      " duration_us = excluded.duration_us, segments = excluded.segments,"
      " created_at = excluded.created_at, bytes = excluded.bytes, error = excluded.error";
  return conn_.query (sql, recording_values (r), error) != nullptr;
}

std::vector<RecordingRecord>
PgStore::recordings (const std::string & stream_id) const
{
  std::string error;
  PgResult res = conn_.query (std::string ("SELECT ") + kRecordingColumns
      + " FROM recordings WHERE stream_id = $1"
      " ORDER BY kind, strpos (name, '/') > 0, name COLLATE \"C\"", { stream_id }, error);
  report (error);
  return recordings_of (res.get ());
}

bool
PgStore::remove_recording (const RecordingRecord & r, std::string & error)
{
  return conn_.query ("DELETE FROM recordings WHERE stream_id = $1 AND kind = $2 AND name = $3",
      { r.stream_id, r.kind, r.name }, error) != nullptr;
}

std::vector<RecordingRecord>
PgStore::recordings_before (int64_t before, size_t limit) const
{
  std::string error;
  PgResult res = conn_.query (std::string ("SELECT ") + kRecordingColumns
      + " FROM recordings WHERE created_at < $1::bigint ORDER BY created_at LIMIT $2::bigint",
      { std::to_string (before), std::to_string (limit) }, error);
  report (error);
  return recordings_of (res.get ());
}

bool
PgStore::renew_lease (const NodeRecord & self, int64_t lease_us, std::string & error)
{
  return conn_.query ("INSERT INTO nodes (id, public_url, live_streams, max_live_streams,"
      " started_at, lease_until) VALUES ($1, $2, $3, $4, $5,"
      " now () + make_interval (secs => $6::double precision / 1000000))"
      " ON CONFLICT (id) DO UPDATE SET public_url = excluded.public_url,"
      " live_streams = excluded.live_streams, max_live_streams = excluded.max_live_streams,"
      " started_at = excluded.started_at, lease_until = excluded.lease_until",
      { self.id, self.public_url, std::to_string (self.live_streams),
        std::to_string (self.max_live_streams), std::to_string (self.started_at),
        std::to_string (lease_us) }, error) != nullptr;
}

bool
PgStore::drop_lease (const std::string & node_id, std::string & error)
{
  return conn_.query ("WITH shares AS (DELETE FROM stream_shares WHERE node = $1)"
      " DELETE FROM nodes WHERE id = $1", { node_id }, error) != nullptr;
}

bool
PgStore::add_order (const std::string & node_id, const std::string & stream_id,
    std::string & error)
{
  return conn_.query ("INSERT INTO orders (node, stream_id) VALUES ($1, $2)"
      " ON CONFLICT DO NOTHING", { node_id, stream_id }, error) != nullptr;
}

std::vector<std::string>
PgStore::take_orders (const std::string & node_id, std::string & error)
{
  std::vector<std::string> out;
  PgResult res = conn_.query ("DELETE FROM orders WHERE node = $1 RETURNING stream_id",
      { node_id }, error);
  for (int i = 0; res && i < PQntuples (res.get ()); i++)
    out.push_back (PQgetvalue (res.get (), i, 0));
  return out;
}

std::vector<NodeRecord>
PgStore::nodes (std::string & error) const
{
  std::vector<NodeRecord> out;
  PgResult res = conn_.query ("SELECT id, public_url, live_streams, max_live_streams,"
      " started_at, lease_until > now (),"
      " (extract (epoch from lease_until - now ()) * 1000000)::bigint"
      " FROM nodes ORDER BY id", {}, error);
  if (!res)
    return out;
  for (int i = 0; i < PQntuples (res.get ()); i++) {
    const PGresult *r = res.get ();
    NodeRecord n;
    n.id = PQgetvalue (r, i, 0);
    n.public_url = PQgetvalue (r, i, 1);
    n.live_streams = (unsigned) int_at (r, i, 2);
    n.max_live_streams = (unsigned) int_at (r, i, 3);
    n.started_at = int_at (r, i, 4);
    n.alive = strcmp (PQgetvalue (r, i, 5), "t") == 0;
    n.lease_left_us = int_at (r, i, 6);
    out.push_back (std::move (n));
  }
  return out;
}

std::vector<StreamRecord>
PgStore::take_over_lost (int64_t window_us, std::string & error)
{
  /* one statement: a row another node changed first no longer matches
   * when its lock is granted (READ COMMITTED re-reads it), so each row
   * comes back to one caller only */
  return streams_of (std::string ("UPDATE streams SET state = 'interrupted',"
      " reason = 'its node ' || node || ' was lost',"
      " resume_until = " DB_NOW_US " + $1::bigint, epoch = epoch + 1"
      " WHERE state = 'live' AND node NOT IN (SELECT id FROM nodes WHERE lease_until > now ())"
      " RETURNING ") + kStreamColumns, { std::to_string (window_us) }, error);
}

std::vector<StreamRecord>
PgStore::end_expired (const std::string & reason, std::string & error)
{
  return streams_of (std::string ("UPDATE streams SET state = 'ended', reason = $1,"
      " ended_at = " DB_NOW_US ", epoch = epoch + 1"
      " WHERE state = 'interrupted' AND resume_until > 0 AND resume_until < " DB_NOW_US
      " RETURNING ") + kStreamColumns, { reason }, error);
}

bool
PgStore::put_shares (const std::string & node_id, const std::vector<StreamShare> & shares,
    std::string & error)
{
  /* one statement, so atomic: the node's other rows go, these replace
   * theirs (a stream named twice counts once) */
  return conn_.query ("WITH fresh AS (SELECT DISTINCT ON (stream_id) * FROM json_to_recordset"
      " ($2::json) AS s (stream_id text, hls_viewers int, webrtc_viewers int, stats text)),"
      " gone AS (DELETE FROM stream_shares WHERE node = $1"
      "   AND stream_id NOT IN (SELECT stream_id FROM fresh))"
      " INSERT INTO stream_shares (stream_id, node, hls_viewers, webrtc_viewers, stats,"
      "   updated_at)"
      " SELECT stream_id, $1, hls_viewers, webrtc_viewers, coalesce (stats, ''), now ()"
      " FROM fresh ON CONFLICT (stream_id, node) DO UPDATE SET"
      " hls_viewers = excluded.hls_viewers, webrtc_viewers = excluded.webrtc_viewers,"
      " stats = excluded.stats, updated_at = excluded.updated_at",
      { node_id, shares_json (shares) }, error) != nullptr;
}

std::vector<StreamShare>
PgStore::shares (std::string & error) const
{
  std::vector<StreamShare> out;
  PgResult res = conn_.query ("SELECT s.stream_id, s.node, s.hls_viewers, s.webrtc_viewers,"
      " s.stats FROM stream_shares s JOIN nodes n ON n.id = s.node"
      " WHERE n.lease_until > now () AND s.updated_at > now () - interval '10 s'"
      " ORDER BY s.stream_id, s.node", {}, error);
  if (!res)
    return out;
  for (int i = 0; i < PQntuples (res.get ()); i++) {
    const PGresult *r = res.get ();
    StreamShare s;
    s.stream_id = PQgetvalue (r, i, 0);
    s.node = PQgetvalue (r, i, 1);
    s.hls_viewers = (unsigned) int_at (r, i, 2);
    s.webrtc_viewers = (unsigned) int_at (r, i, 3);
    s.stats_json = PQgetvalue (r, i, 4);
    out.push_back (std::move (s));
  }
  return out;
}

}  // namespace castline::launcher
