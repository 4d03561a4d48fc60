/* The store's contract, on SQLite, and on PostgreSQL when
 * CASTLINE_TEST_PG_URL names a database (tests/with_postgres.py starts
 * one): the same cases over a StreamStore &. Rows are made with fresh ids,
 * so the cases share one PostgreSQL database without meeting. */
#include "store/openstore.h"
#include "store/sqlitestore.h"

#include <gst/check/gstcheck.h>
#include <sqlite3.h>

#include <algorithm>
#include <string>

using namespace castline::launcher;

static std::string
temp_dir ()
{
  g_autofree gchar *d = g_dir_make_tmp ("castline-store-XXXXXX", nullptr);
  return d;
}

static std::string
pg_url ()
{
  const char *url = g_getenv ("CASTLINE_TEST_PG_URL");
  return url ? url : "";
}

/* the store under test: PostgreSQL when a URL is given, else SQLite in
 * a new directory */
static std::unique_ptr<StreamStore>
open_test_store ()
{
  std::string error;
  std::string url = pg_url ().empty () ? "sqlite:" + temp_dir () + "/castline.db" : pg_url ();
  auto store = open_store (url, "", error);
  fail_unless (store != nullptr, "%s", error.c_str ());
  fail_unless (store->shared () == !pg_url ().empty ());
  return store;
}

static StreamRecord
new_stream (StreamStore & s, StreamState state = StreamState::created, int64_t created_at = 1)
{
  StreamRecord r;
  r.id = random_stream_id ();
  r.title = "t'\"; DROP TABLE streams; --";
  r.key_hash = hash_key (r.id + "-key");
  r.state = state;
  r.created_at = created_at;
  std::string error;
  fail_unless (s.insert (r, error), "%s", error.c_str ());
  return r;
}

static ptrdiff_t
position (const std::vector<StreamRecord> & list, const std::string & id)
{
  auto it = std::find_if (list.begin (), list.end (),
      [&] (const StreamRecord & r) { return r.id == id; });
  return it == list.end () ? -1 : it - list.begin ();
}

GST_START_TEST (test_inserts_and_finds_streams)
{
  auto s = open_test_store ();
  std::string error;
  int64_t now = g_get_real_time ();
  StreamRecord older = new_stream (*s, StreamState::created, now);
  StreamRecord r;
  r.id = random_stream_id ();
  r.title = "every column";
  r.pipeline = "passthrough";
  r.key_hash = hash_key ("k-" + r.id);
  r.state = StreamState::scheduled;
  r.reason = "why";
  r.ingest = "srt";
  r.created_at = now + 1;
  r.scheduled_at = now + 2;
  r.started_at = now + 3;
  r.ended_at = now + 4;
  r.record = true;
  r.node = "node-a";
  r.session = 3;
  r.resume_until = now + 5;
  r.epoch = 0;
  fail_unless (s->insert (r, error), "%s", error.c_str ());
  fail_if (s->insert (r, error), "a duplicate id was inserted");

  auto got = s->get (r.id);
  fail_unless (got.has_value ());
  fail_unless (got->title == r.title && got->pipeline == r.pipeline
      && got->key_hash == r.key_hash && got->reason == r.reason && got->ingest == r.ingest);
  fail_unless (got->state == StreamState::scheduled);
  fail_unless_equals_int64 (got->created_at, now + 1);
  fail_unless_equals_int64 (got->scheduled_at, now + 2);
  fail_unless_equals_int64 (got->started_at, now + 3);
  fail_unless_equals_int64 (got->ended_at, now + 4);
  fail_unless (got->record);
  fail_unless (got->node == "node-a");
  fail_unless_equals_int (got->session, 3);
  fail_unless_equals_int64 (got->resume_until, now + 5);
  fail_unless_equals_int64 (got->epoch, 0);
  fail_unless (s->get (older.id)->title == "t'\"; DROP TABLE streams; --");
  fail_if (s->get ("missing-" + r.id).has_value ());

  auto list = s->list ();
  fail_unless (position (list, r.id) >= 0 && position (list, older.id) > position (list, r.id),
      "not newest first");

  auto by_key = s->find_by_key ("k-" + r.id);
  fail_unless (by_key.has_value () && by_key->id == r.id);
  fail_if (s->find_by_key ("k-" + r.id + "x").has_value ());
}
GST_END_TEST;

GST_START_TEST (test_save_after_another_save_is_stale)
{
  auto s = open_test_store ();
  std::string error;
  StreamRecord r = new_stream (*s);
  StreamRecord mine = *s->get (r.id);
  StreamRecord theirs = mine;

  mine.title = "mine";
  fail_unless (s->save (mine, error) == WriteResult::ok, "%s", error.c_str ());
  fail_unless_equals_int64 (mine.epoch, 1);
  fail_unless_equals_int64 (s->get (r.id)->epoch, 1);

  theirs.title = "theirs";
  fail_unless (s->save (theirs, error) == WriteResult::stale, "a write over a moved row");
  fail_unless_equals_int64 (theirs.epoch, 0);
  fail_unless (s->get (r.id)->title == "mine");

  /* the writer that read last goes on */
  mine.title = "mine again";
  fail_unless (s->save (mine, error) == WriteResult::ok);
  fail_unless_equals_int64 (mine.epoch, 2);

  StreamRecord gone = mine;
  gone.id = "gone-" + r.id;
  fail_unless (s->save (gone, error) == WriteResult::stale, "a row that is not there");
}
GST_END_TEST;

GST_START_TEST (test_claims_only_a_stream_waiting_for_its_publisher)
{
  auto s = open_test_store ();
  std::string error;
  for (StreamState from : { StreamState::created, StreamState::scheduled, StreamState::live,
           StreamState::ended, StreamState::failed, StreamState::interrupted }) {
    StreamRecord r = new_stream (*s, from);
    r.state = StreamState::live;
    r.node = "node-b";
    r.session = 1;
    r.ingest = "whip";
    bool claimable = from == StreamState::created || from == StreamState::scheduled
        || from == StreamState::interrupted;
    WriteResult w = s->claim (r, error);
    fail_unless (w == (claimable ? WriteResult::ok : WriteResult::stale), "claimed from %s",
        state_name (from));
    auto got = s->get (r.id);
    if (claimable) {
      fail_unless (got->state == StreamState::live && got->node == "node-b"
          && got->session == 1 && got->ingest == "whip");
      fail_unless_equals_int64 (got->epoch, 1);
      fail_unless_equals_int64 (r.epoch, 1);
    } else {
      fail_unless (got->state == from, "a refused claim wrote");
      fail_unless_equals_int64 (got->epoch, 0);
    }
  }

  /* read, then moved on by another write: the claim is stale */
  StreamRecord r = new_stream (*s);
  StreamRecord read = *s->get (r.id);
  StreamRecord other = read;
  fail_unless (s->save (other, error) == WriteResult::ok);
  read.state = StreamState::live;
  fail_unless (s->claim (read, error) == WriteResult::stale);
  fail_unless (s->get (r.id)->state == StreamState::created);
}
GST_END_TEST;

GST_START_TEST (test_keeps_recordings)
{
  auto s = open_test_store ();
  std::string error;
  StreamRecord r = new_stream (*s);
  RecordingRecord rec { r.id, "hls", "vod.m3u8", 8000000, 4, 5, 0, "" };
  fail_unless (s->add_recording (rec, error), "%s", error.c_str ());
  rec.segments = 5;                  /* the same name again: replaced */
  fail_unless (s->add_recording (rec, error), "%s", error.c_str ());
  RecordingRecord rung { r.id, "hls", "720p/vod.m3u8", 8000000, 4, 5, 0, "" };
  fail_unless (s->add_recording (rung, error), "%s", error.c_str ());
  RecordingRecord mp4 { r.id, "mp4", "recording.mp4", 8000000, 0, 6, 12345, "no space" };
  fail_unless (s->add_recording (mp4, error), "%s", error.c_str ());

  auto recs = s->recordings (r.id);
  fail_unless_equals_int (recs.size (), 3);
  fail_unless (recs[0].name == "vod.m3u8" && recs[0].kind == "hls", "the master comes first");
  fail_unless_equals_int (recs[0].segments, 5);
  fail_unless_equals_int64 (recs[0].duration_us, 8000000);
  fail_unless_equals_int64 (recs[0].created_at, 5);
  fail_unless (recs[1].name == "720p/vod.m3u8");
  fail_unless (recs[2].kind == "mp4" && recs[2].error == "no space");
  fail_unless_equals_int64 (recs[2].bytes, 12345);
  fail_unless (s->recordings ("other-" + r.id).empty ());
}
GST_END_TEST;

/* ---- SQLite only ---- */

static void
sql (const std::string & path, const char *statements)
{
  sqlite3 *db = nullptr;
  fail_unless (sqlite3_open (path.c_str (), &db) == SQLITE_OK);
  char *msg = nullptr;
  int rc = sqlite3_exec (db, statements, nullptr, nullptr, &msg);
  fail_unless (rc == SQLITE_OK, "%s", msg ? msg : "?");
  sqlite3_close (db);
}

/* the schema castline had before the cluster (user_version 2) */
static void
make_v2_database (const std::string & path)
{
  sql (path,
      "CREATE TABLE streams (id TEXT PRIMARY KEY, title TEXT NOT NULL, pipeline TEXT NOT NULL,"
      " key_hash TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL,"
      " ingest TEXT NOT NULL, created_at INTEGER NOT NULL, scheduled_at INTEGER NOT NULL,"
      " started_at INTEGER NOT NULL, ended_at INTEGER NOT NULL,"
      " record INTEGER NOT NULL DEFAULT 0);"
      "CREATE TABLE recordings (stream_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,"
      " duration_us INTEGER NOT NULL, segments INTEGER NOT NULL, created_at INTEGER NOT NULL,"
      " bytes INTEGER NOT NULL, error TEXT NOT NULL, PRIMARY KEY (stream_id, kind, name));"
      "CREATE INDEX streams_key_hash ON streams (key_hash);"
      "INSERT INTO streams VALUES ('old2', 'before the cluster', '', 'h', 'ended', '', 'rtmp',"
      " 1, 0, 2, 3, 1);"
      "INSERT INTO recordings VALUES ('old2', 'hls', 'vod.m3u8', 4000000, 2, 3, 0, '');"
      "PRAGMA user_version = 2;");
}

GST_START_TEST (test_migrates_a_database_from_before_the_cluster)
{
  std::string path = temp_dir () + "/castline.db";
  make_v2_database (path);
  std::string error;
  SqliteStore s;
  fail_unless (s.open (path, error), "%s", error.c_str ());
  auto old = s.get ("old2");
  fail_unless (old.has_value (), "the old stream is unreadable after the migration");
  fail_unless (old->title == "before the cluster" && old->state == StreamState::ended
      && old->ingest == "rtmp" && old->record);
  fail_unless (old->node.empty () && old->session == 0 && old->resume_until == 0
      && old->epoch == 0);
  fail_unless_equals_int (s.recordings ("old2").size (), 1);
  /* the new columns are there, and the old row's writes are fenced */
  sql (path, "SELECT node, session, resume_until, epoch FROM streams");
  old->node = "n";
  fail_unless (s.save (*old, error) == WriteResult::ok, "%s", error.c_str ());
  fail_unless (s.get ("old2")->node == "n" && s.get ("old2")->epoch == 1);
  fail_unless (s.describe () == path && std::string (s.kind ()) == "sqlite");

  /* a store that does not share: the cluster calls are no-ops */
  NodeRecord self;
  self.id = "n";
  fail_unless (s.renew_lease (self, 1000000, error));
  fail_unless (s.nodes (error).empty () && s.shares (error).empty ());
  fail_unless (s.take_over_lost (1000000, error).empty ());
}
GST_END_TEST;

GST_START_TEST (test_opens_the_store_a_url_names)
{
  std::string dir = temp_dir ();
  std::string error;
  auto def = open_store ("", dir, error);
  fail_unless (def != nullptr, "%s", error.c_str ());
  fail_unless (def->describe () == dir + "/castline.db");
  fail_unless (open_bus ("", error) == nullptr);
  auto elsewhere = open_store ("sqlite:" + dir + "/deeper/db/c.db", dir, error);
  fail_unless (elsewhere != nullptr, "%s", error.c_str ());
  fail_unless (g_file_test ((dir + "/deeper/db/c.db").c_str (), G_FILE_TEST_EXISTS));
  fail_unless (open_store ("mysql://x", dir, error) == nullptr);
  fail_unless (error.find ("mysql://x") != std::string::npos, "%s", error.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_redacts_the_password_of_a_url)
{
  const char *cases[][2] = {
    { "postgresql://castline:s3cret@db:5432/castline", "postgresql://castline:***@db:5432/castline" },
    { "postgres://u:p@ss@db/x", "postgres://u:***@db/x" },
    { "postgresql://u@db/x?sslmode=require", "postgresql://u@db/x?sslmode=require" },
    { "postgresql://db/x?user=u&password=p&a=b", "postgresql://db/x?user=u&password=***&a=b" },
    { "sqlite:/var/lib/castline/castline.db", "sqlite:/var/lib/castline/castline.db" },
  };
  for (auto & c : cases) {
    std::string got = redact_store_url (c[0]);
    fail_unless (got == c[1], "%s gave %s", c[0], got.c_str ());
  }
}
GST_END_TEST;

static Suite *
store_suite (void)
{
  Suite *s = suite_create ("store");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_inserts_and_finds_streams);
  tcase_add_test (tc, test_save_after_another_save_is_stale);
  tcase_add_test (tc, test_claims_only_a_stream_waiting_for_its_publisher);
  tcase_add_test (tc, test_keeps_recordings);
  if (pg_url ().empty ()) {
    tcase_add_test (tc, test_migrates_a_database_from_before_the_cluster);
    tcase_add_test (tc, test_opens_the_store_a_url_names);
    tcase_add_test (tc, test_redacts_the_password_of_a_url);
  }
  return s;
}

GST_CHECK_MAIN (store);
