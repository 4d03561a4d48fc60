/* The store's contract, on SQLite, and on PostgreSQL when
 * CASTLINE_TEST_PG_URL names a database (tests/with_postgres.py starts
 * one): the same cases over a StreamStore &. Rows are made with fresh ids,
 * so the cases share one PostgreSQL database without meeting. */
#include "store/openstore.h"
#include "store/pgconnection.h"
#include "store/sqlitestore.h"

#include "mainloopwait.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <signal.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>

using castline::testing::iterate_until;

using namespace castline::launcher;

/* removes path and what it holds */
static void
remove_tree (const std::string & path)
{
  if (GDir *dir = g_dir_open (path.c_str (), 0, nullptr)) {
    while (const char *name = g_dir_read_name (dir))
      remove_tree (path + "/" + name);
    g_dir_close (dir);
  }
  g_remove (path.c_str ());
}

/* The test process's scratch directory, removed when it exits (each
 * case runs in a process of its own). */
struct ScratchDir {
  std::string path;
  ScratchDir ()
  {
    g_autofree gchar *d = g_dir_make_tmp ("castline-store-XXXXXX", nullptr);
    path = d;
  }
  ~ScratchDir () { remove_tree (path); }
};

/* a new directory in the scratch directory */
static std::string
temp_dir ()
{
  static ScratchDir scratch;
  static unsigned n = 0;
  std::string d = scratch.path + "/" + std::to_string (++n);
  g_mkdir (d.c_str (), 0700);
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

/* ---- PostgreSQL only: several nodes on one database ---- */

/* runs each job on its own thread, all let go at once */
static void
run_together (const std::vector<std::function<void ()>> & jobs)
{
  std::atomic<bool> go { false };
  std::vector<std::thread> threads;
  for (const auto & job : jobs)
    threads.emplace_back ([&go, &job] {
          while (!go.load ())
            std::this_thread::yield ();
          job ();
        });
  go = true;
  for (std::thread & t : threads)
    t.join ();
}

/* a statement the stores do not make, on a connection of its own */
static PgResult
sql_pg (const std::string & statement)
{
  PgConnection c (pg_url (), "test");
  std::string error;
  fail_unless (c.connect (error), "%s", error.c_str ());
  PgResult r = c.query (statement, {}, error);
  fail_unless (r != nullptr, "%s: %s", statement.c_str (), error.c_str ());
  return r;
}

GST_START_TEST (test_two_nodes_claiming_one_stream_one_wins)
{
  auto a = open_test_store ();
  auto b = open_test_store ();
  std::vector<std::string> ids;
  for (int i = 0; i < 20; i++)
    ids.push_back (new_stream (*a).id);
  /* each node reads every row, then both claim them all at once */
  std::map<std::string, int> wins;
  std::atomic<int> errors { 0 };
  auto claim_all = [&] (StreamStore & s, const char *node, std::vector<std::string> & won) {
    std::vector<StreamRecord> read;
    for (const std::string & id : ids)
      read.push_back (*s.get (id));
    for (StreamRecord & r : read) {
      r.state = StreamState::live;
      r.node = node;
      r.session = 1;
      std::string error;
      WriteResult w = s.claim (r, error);
      if (w == WriteResult::ok)
        won.push_back (r.id);
      else if (w == WriteResult::error)
        errors++;
    }
  };
  std::vector<std::string> won_a, won_b;
  run_together ({ [&] { claim_all (*a, "node-a", won_a); },
        [&] { claim_all (*b, "node-b", won_b); } });
  fail_unless_equals_int (errors.load (), 0);
  for (const std::string & id : won_a)
    wins[id]++;
  for (const std::string & id : won_b)
    wins[id]++;
  for (const std::string & id : ids) {
    fail_unless_equals_int (wins[id], 1);
    auto r = a->get (id);
    bool by_a = std::find (won_a.begin (), won_a.end (), id) != won_a.end ();
    fail_unless (r->node == (by_a ? "node-a" : "node-b"), "the loser wrote %s", id.c_str ());
    fail_unless_equals_int64 (r->epoch, 1);
  }
}
GST_END_TEST;

/* Runs sweep on two stores (two nodes) at once: each stream of due comes
 * back exactly once over both, not_due never (others' rows may come too);
 * check looks at each of ours. */
static void
sweep_together (StreamStore & a, StreamStore & b,
    const std::function<std::vector<StreamRecord> (StreamStore &, std::string &)> & sweep,
    const std::set<std::string> & due, const std::string & not_due,
    const std::function<void (const StreamRecord &)> & check)
{
  std::vector<StreamRecord> by_a, by_b;
  std::string error_a, error_b;
  run_together ({ [&] { by_a = sweep (a, error_a); }, [&] { by_b = sweep (b, error_b); } });
  fail_unless (error_a.empty () && error_b.empty (), "%s %s", error_a.c_str (),
      error_b.c_str ());
  std::map<std::string, int> told;
  for (auto *list : { &by_a, &by_b })
    for (const StreamRecord & r : *list)
      if (due.count (r.id) || r.id == not_due) {
        told[r.id]++;
        check (r);
      }
  fail_unless_equals_int (told.size (), due.size ());
  for (auto & [id, n] : told)
    fail_unless (n == 1 && due.count (id), "%s told %d times", id.c_str (), n);
}

GST_START_TEST (test_lost_nodes_streams_are_taken_over_once)
{
  auto a = open_test_store ();
  auto b = open_test_store ();
  std::string error;
  std::string suffix = random_stream_id ();
  NodeRecord alive, dead;
  alive.id = "alive-" + suffix;
  dead.id = "dead-" + suffix;
  fail_unless (a->renew_lease (alive, 60 * G_USEC_PER_SEC, error), "%s", error.c_str ());
  fail_unless (a->renew_lease (dead, 1000, error), "%s", error.c_str ());
  g_usleep (20000);                  /* the dead node's lease runs out */

  std::set<std::string> lost;
  for (int i = 0; i < 10; i++) {
    StreamRecord r = new_stream (*a);
    r.state = StreamState::live;
    r.node = i < 8 ? dead.id : "never-leased-" + suffix;
    fail_unless (a->claim (r, error) == WriteResult::ok, "%s", error.c_str ());
    lost.insert (r.id);
  }
  StreamRecord kept = new_stream (*a);
  kept.state = StreamState::live;
  kept.node = alive.id;
  fail_unless (a->claim (kept, error) == WriteResult::ok);

  int64_t window = 30 * G_USEC_PER_SEC;
  int64_t before = g_get_real_time ();
  sweep_together (*a, *b, [&] (StreamStore & s, std::string & e) {
        return s.take_over_lost (window, e);
      }, lost, kept.id, [&] (const StreamRecord & r) {
        fail_unless (r.state == StreamState::interrupted);
        fail_unless (r.reason == "its node " + r.node + " was lost", "%s", r.reason.c_str ());
        fail_unless_equals_int64 (r.epoch, 2);
        /* by the database's clock, which is this machine's here */
        fail_unless (r.resume_until >= before + window - G_USEC_PER_SEC
            && r.resume_until <= g_get_real_time () + window + G_USEC_PER_SEC);
      });
  fail_unless (a->get (kept.id)->state == StreamState::live, "a live node's stream was taken");

  /* nothing is left to take over */
  for (const StreamRecord & r : a->take_over_lost (window, error))
    fail_if (lost.count (r.id), "%s taken over twice", r.id.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_expired_interrupted_streams_end_once)
{
  auto a = open_test_store ();
  auto b = open_test_store ();
  std::string error;
  std::set<std::string> expired;
  for (int i = 0; i < 10; i++) {
    StreamRecord r = new_stream (*a, StreamState::interrupted);
    /* in the past by the database's clock (this machine's) */
    r.resume_until = i < 8 ? g_get_real_time () - G_USEC_PER_SEC : 0;
    fail_unless (a->save (r, error) == WriteResult::ok, "%s", error.c_str ());
    if (i < 8)
      expired.insert (r.id);
  }
  StreamRecord waiting = new_stream (*a, StreamState::interrupted);
  waiting.resume_until = g_get_real_time () + 60 * G_USEC_PER_SEC;
  fail_unless (a->save (waiting, error) == WriteResult::ok);

  const std::string reason = "its publisher did not come back";
  sweep_together (*a, *b, [&] (StreamStore & s, std::string & e) {
        return s.end_expired (reason, e);
      }, expired, waiting.id, [&] (const StreamRecord & r) {
        fail_unless (r.state == StreamState::ended && r.reason == reason && r.ended_at > 0);
      });
  fail_unless (a->get (waiting.id)->state == StreamState::interrupted);
}
GST_END_TEST;

GST_START_TEST (test_leases_and_shares)
{
  auto s = open_test_store ();
  std::string error;
  std::string suffix = random_stream_id ();
  NodeRecord self;
  self.id = "self-" + suffix;
  self.public_url = "http://127.0.0.1:1";
  self.live_streams = 2;
  self.max_live_streams = 80;
  self.started_at = 42;
  fail_unless (s->renew_lease (self, 30 * G_USEC_PER_SEC, error), "%s", error.c_str ());
  self.live_streams = 3;             /* renewed: the row is updated */
  fail_unless (s->renew_lease (self, 30 * G_USEC_PER_SEC, error), "%s", error.c_str ());
  NodeRecord gone;
  gone.id = "gone-" + suffix;
  fail_unless (s->renew_lease (gone, 1000, error));
  g_usleep (20000);

  auto nodes = s->nodes (error);
  fail_unless (error.empty (), "%s", error.c_str ());
  auto find = [&] (const std::string & id) {
    return std::find_if (nodes.begin (), nodes.end (),
        [&] (const NodeRecord & n) { return n.id == id; });
  };
  fail_unless (find (self.id) != nodes.end () && find (gone.id) != nodes.end ());
  fail_unless (find (self.id)->alive && find (self.id)->public_url == self.public_url);
  fail_unless_equals_int (find (self.id)->live_streams, 3);
  fail_unless_equals_int (find (self.id)->max_live_streams, 80);
  fail_unless_equals_int64 (find (self.id)->started_at, 42);
  int64_t left = find (self.id)->lease_left_us;
  fail_unless (left > 29 * G_USEC_PER_SEC && left <= 30 * G_USEC_PER_SEC, "%" G_GINT64_FORMAT,
      left);
  fail_if (find (gone.id)->alive);
  fail_unless (find (gone.id)->lease_left_us < 0);

  StreamShare one { "one-" + suffix, self.id, 3, 1, "{\"bitrate\":1}" };
  StreamShare two { "two-" + suffix, self.id, 0, 2, "" };
  fail_unless (s->put_shares (self.id, { one, two }, error), "%s", error.c_str ());
  StreamShare ghost { "one-" + suffix, gone.id, 5, 5, "" };
  fail_unless (s->put_shares (gone.id, { ghost }, error), "%s", error.c_str ());
  auto mine = [&] () {
    std::vector<StreamShare> out;
    std::string e;
    for (StreamShare & sh : s->shares (e))
      if (g_str_has_suffix (sh.stream_id.c_str (), suffix.c_str ()))
        out.push_back (sh);
    fail_unless (e.empty (), "%s", e.c_str ());
    return out;
  };
  auto shares = mine ();
  fail_unless_equals_int (shares.size (), 2);   /* not the dead node's */
  fail_unless (shares[0].stream_id == one.stream_id && shares[0].node == self.id);
  fail_unless (shares[0].hls_viewers == 3 && shares[0].webrtc_viewers == 1);
  fail_unless (shares[0].stats_json == "{\"bitrate\":1}");
  one.hls_viewers = 7;
  fail_unless (s->put_shares (self.id, { one }, error), "%s", error.c_str ());
  shares = mine ();
  fail_unless_equals_int (shares.size (), 1);
  fail_unless_equals_int (shares[0].hls_viewers, 7);

  fail_unless (s->drop_lease (self.id, error), "%s", error.c_str ());
  nodes = s->nodes (error);
  fail_unless (find (self.id) == nodes.end ());
  fail_unless (mine ().empty ());
  PgResult left_shares = sql_pg ("SELECT count (*) FROM stream_shares WHERE node = '"
      + self.id + "'");
  fail_unless_equals_string (PQgetvalue (left_shares.get (), 0, 0), "0");
}
GST_END_TEST;

GST_START_TEST (test_nodes_starting_together_migrate_once)
{
  std::string schema = "fresh_" + random_stream_id ();
  sql_pg ("CREATE SCHEMA " + schema);
  std::string url = pg_url () + (pg_url ().find ('?') == std::string::npos ? "?" : "&")
      + "options=-csearch_path%3D" + schema;
  std::string errors[3];
  std::unique_ptr<StreamStore> stores[3];
  run_together ({ [&] { stores[0] = open_store (url, "", errors[0]); },
        [&] { stores[1] = open_store (url, "", errors[1]); },
        [&] { stores[2] = open_store (url, "", errors[2]); } });
  for (int i = 0; i < 3; i++)
    fail_unless (stores[i] != nullptr, "node %d: %s", i, errors[i].c_str ());
  PgResult r = sql_pg ("SELECT count (*), max (version) FROM " + schema + ".castline_schema");
  fail_unless_equals_string (PQgetvalue (r.get (), 0, 0), "1");
  fail_unless_equals_string (PQgetvalue (r.get (), 0, 1), "1");

  /* a newer castline's database is refused, with the reason */
  sql_pg ("UPDATE " + schema + ".castline_schema SET version = 99");
  std::string error;
  fail_unless (open_store (url, "", error) == nullptr, "opened a newer schema");
  fail_unless (error.find ("newer") != std::string::npos, "%s", error.c_str ());
  sql_pg ("DROP SCHEMA " + schema + " CASCADE");
}
GST_END_TEST;

GST_START_TEST (test_errors_name_no_password)
{
  std::string url = pg_url ();
  size_t at = url.find ('@');
  size_t colon = url.rfind (':', at);
  std::string password = url.substr (colon + 1, at - colon - 1);
  fail_unless (password.size () > 4, "the test server's URL has no password: %s", url.c_str ());
  std::string wrong = url.substr (0, colon + 1) + "not-" + password + url.substr (at);
  std::string error;
  fail_unless (open_store (wrong, "", error) == nullptr, "a wrong password was let in");
  fail_unless (error.find ("password") != std::string::npos, "%s", error.c_str ());
  fail_unless (error.find (password) == std::string::npos, "the password is in: %s",
      error.c_str ());
  auto s = open_test_store ();
  fail_unless (s->describe ().find (password) == std::string::npos);
  fail_unless (std::string (s->kind ()) == "postgresql");
}
GST_END_TEST;

GST_START_TEST (test_connections_carry_their_bounds)
{
  PgConnection c (pg_url (), "test");
  std::string error;
  fail_unless (c.connect (error), "%s", error.c_str ());
  PgResult r = c.query ("SELECT current_setting ('statement_timeout'),"
      " current_setting ('lock_timeout'), current_setting ('application_name')", {}, error);
  fail_unless (r != nullptr, "%s", error.c_str ());
  fail_unless_equals_string (PQgetvalue (r.get (), 0, 0), "5s");
  fail_unless_equals_string (PQgetvalue (r.get (), 0, 1), "3s");
  fail_unless (g_str_has_prefix (PQgetvalue (r.get (), 0, 2), "castline-"));
  fail_unless (g_str_has_suffix (PQgetvalue (r.get (), 0, 2), "-test"));
}
GST_END_TEST;

/* A server that stops answering (its process stopped) costs a call a few
 * seconds, then the connection is dropped and made again. */
GST_START_TEST (test_a_silent_database_costs_seconds)
{
  PgConnection c (pg_url (), "test");
  std::string error;
  fail_unless (c.connect (error), "%s", error.c_str ());
  PgResult r = c.query ("SELECT pg_backend_pid ()", {}, error);
  fail_unless (r != nullptr, "%s", error.c_str ());
  pid_t backend = (pid_t) atoi (PQgetvalue (r.get (), 0, 0));
  fail_unless (kill (backend, SIGSTOP) == 0);
  int64_t t = g_get_monotonic_time ();
  PgResult none = c.query ("SELECT 1", {}, error);
  int64_t took = g_get_monotonic_time () - t;
  kill (backend, SIGCONT);
  fail_unless (none == nullptr, "a stopped server answered");
  fail_unless (took < 8 * G_USEC_PER_SEC, "waited %" G_GINT64_FORMAT " µs", took);
  fail_unless (error.find ("did not answer") != std::string::npos, "%s", error.c_str ());
  fail_if (c.connected ());
  /* the last connection was made more than 2 s ago: made again at once */
  fail_unless (c.query ("SELECT 1", {}, error) != nullptr, "%s", error.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_store_survives_a_cut_connection)
{
  auto s = open_test_store ();
  StreamRecord r = new_stream (*s);
  sql_pg ("SELECT pg_terminate_backend (pid) FROM pg_stat_activity"
      " WHERE application_name LIKE 'castline-%-store' AND pid <> pg_backend_pid ()");
  /* the next call finds the connection lost and makes it again */
  auto got = s->get (r.id);
  fail_unless (got.has_value (), "the first call after the cut failed");
  std::string error;
  fail_unless (s->save (*got, error) == WriteResult::ok, "%s", error.c_str ());
}
GST_END_TEST;

static std::string
server_started_at ()
{
  PgConnection c (pg_url (), "test");
  std::string error;
  if (!c.connect (error))
    return "";
  PgResult r = c.query ("SELECT pg_postmaster_start_time ()", {}, error);
  return r ? PQgetvalue (r.get (), 0, 0) : "";
}

/* The database restarts under two nodes: one idle meanwhile (its first
 * call after works), one calling all along (its calls fail, fast, and work
 * again within a reconnection's spacing of the server's return). */
GST_START_TEST (test_store_survives_a_database_restart)
{
  const char *pid = g_getenv ("CASTLINE_TEST_PG_RESTART_PID");
  if (!pid)
    return;                          /* a server we may not restart */
  auto idle = open_test_store ();
  auto busy = open_test_store ();
  StreamRecord r = new_stream (*idle);
  std::string before = server_started_at ();
  fail_unless (!before.empty ());
  fail_unless (kill ((pid_t) atoi (pid), SIGUSR1) == 0);

  int64_t deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  int failures = 0;
  int64_t slowest = 0;
  std::string now;
  while (g_get_monotonic_time () < deadline) {
    int64_t t = g_get_monotonic_time ();
    if (!busy->get (r.id))
      failures++;
    slowest = std::max (slowest, g_get_monotonic_time () - t);
    now = server_started_at ();
    if (!now.empty () && now != before)
      break;
    g_usleep (50000);
  }
  fail_unless (!now.empty () && now != before, "the server did not come back");
  fail_unless (failures > 0, "no call failed: the server did not go away");
  fail_unless (slowest < 4 * G_USEC_PER_SEC, "a call took %" G_GINT64_FORMAT " µs", slowest);
  fail_unless (idle->get (r.id).has_value (), "the idle node's first call failed");
  /* the busy one tried last less than 2 s ago at most */
  fail_unless (iterate_until ([&] { return busy->get (r.id).has_value (); }, 3000));
}
GST_END_TEST;

GST_START_TEST (test_no_database_fails_fast)
{
  /* a port where nothing listens */
  GSocket *probe = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, nullptr);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  fail_unless (g_socket_bind (probe, any, FALSE, nullptr));
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (probe, nullptr);
  guint16 port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_object_unref (probe);
  std::string url = "postgresql://castline:secret@127.0.0.1:" + std::to_string (port) + "/x";

  std::string error;
  int64_t t = g_get_monotonic_time ();
  fail_unless (open_store (url, "", error) == nullptr);
  fail_unless (g_get_monotonic_time () - t < 4 * G_USEC_PER_SEC);
  fail_unless (error.find ("secret") == std::string::npos, "%s", error.c_str ());
  fail_unless (error.find ("***") != std::string::npos, "%s", error.c_str ());

  PgConnection c (url, "test");
  fail_if (c.connect (error));
  std::string first = error;
  /* within 2 s of the last try: no new try, the last error at once */
  t = g_get_monotonic_time ();
  fail_unless (c.query ("SELECT 1", {}, error) == nullptr);
  fail_unless (g_get_monotonic_time () - t < 100000);
  fail_unless (error == first, "%s", error.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_bus_carries_messages_between_nodes)
{
  std::string error;
  auto a = open_bus (pg_url (), error);
  auto b = open_bus (pg_url (), error);
  fail_unless (a && b, "%s", error.c_str ());
  std::vector<std::string> heard_a, heard_b;
  fail_unless (a->start ([&] (const std::string & ch, const std::string & json) {
        heard_a.push_back (ch + " " + json);
      }, error), "%s", error.c_str ());
  fail_unless (b->start ([&] (const std::string & ch, const std::string & json) {
        heard_b.push_back (ch + " " + json);
      }, error), "%s", error.c_str ());
  fail_unless (a->connected () && b->connected ());

  fail_unless (a->publish ("events", "{\"node\":\"a\",\"type\":\"stream.live\"}", error), "%s",
      error.c_str ());
  fail_unless (b->publish ("control", "{\"to\":\"a\",\"end\":\"x\"}", error), "%s",
      error.c_str ());
  fail_unless (iterate_until ([&] { return heard_a.size () == 2 && heard_b.size () == 2; }, 5000),
      "heard %zu and %zu", heard_a.size (), heard_b.size ());
  fail_unless (heard_b[0] == "events {\"node\":\"a\",\"type\":\"stream.live\"}", "%s",
      heard_b[0].c_str ());
  fail_unless (heard_a[1] == "control {\"to\":\"a\",\"end\":\"x\"}", "%s", heard_a[1].c_str ());
  fail_if (a->publish ("events", std::string (7001, 'x'), error), "a payload too big went");

  /* the listening connections are cut: they come back and hear again */
  PgResult killed = sql_pg ("SELECT pg_terminate_backend (pid) FROM pg_stat_activity"
      " WHERE application_name LIKE 'castline-%-bus-listen'");
  fail_unless_equals_int (PQntuples (killed.get ()), 2);
  fail_unless (iterate_until ([&] { return !a->connected () && !b->connected (); }, 5000),
      "the lost connections went unnoticed");
  fail_unless (iterate_until ([&] { return a->connected () && b->connected (); }, 10000),
      "not listening again");
  heard_b.clear ();
  fail_unless (a->publish ("events", "{\"again\":true}", error), "%s", error.c_str ());
  fail_unless (iterate_until ([&] { return heard_b.size () == 1; }, 5000));
  fail_unless (heard_b[0] == "events {\"again\":true}");
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
  tcase_add_test (tc, test_no_database_fails_fast);
  if (pg_url ().empty ()) {
    tcase_add_test (tc, test_migrates_a_database_from_before_the_cluster);
    tcase_add_test (tc, test_opens_the_store_a_url_names);
    tcase_add_test (tc, test_redacts_the_password_of_a_url);
  } else {
    tcase_add_test (tc, test_two_nodes_claiming_one_stream_one_wins);
    tcase_add_test (tc, test_lost_nodes_streams_are_taken_over_once);
    tcase_add_test (tc, test_expired_interrupted_streams_end_once);
    tcase_add_test (tc, test_leases_and_shares);
    tcase_add_test (tc, test_nodes_starting_together_migrate_once);
    tcase_add_test (tc, test_errors_name_no_password);
    tcase_add_test (tc, test_bus_carries_messages_between_nodes);
    tcase_add_test (tc, test_store_survives_a_cut_connection);
    tcase_add_test (tc, test_connections_carry_their_bounds);
    tcase_add_test (tc, test_a_silent_database_costs_seconds);
    tcase_add_test (tc, test_store_survives_a_database_restart);
  }
  return s;
}

GST_CHECK_MAIN (store);
