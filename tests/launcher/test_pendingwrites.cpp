/* PendingWrites: a stream's state the store could not take (a full disk)
 * is shown over the store's row and written once the store can take it;
 * a retry that another writer made stale is dropped, not forced. Over a
 * SQLite store whose saves fail on demand. */
#include "store/pendingwrites.h"
#include "store/sqlitestore.h"

#include "mainloopwait.h"

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

#include <functional>
#include <string>

using castline::testing::iterate_until;

using namespace castline::launcher;

namespace {

/* SQLite whose saves fail while full is set, as on a full disk */
class FullableStore : public SqliteStore {
 public:
  bool full = false;
  WriteResult save (StreamRecord & r, std::string & error) override
  {
    if (full) {
      error = "database or disk is full";
      return WriteResult::error;
    }
    return SqliteStore::save (r, error);
  }
};

struct Fixture {
  gchar *dir = g_dir_make_tmp ("castline-pending-XXXXXX", nullptr);
  FullableStore *disk = nullptr;     /* owned by store */
  std::unique_ptr<PendingWrites> store;
  StreamRecord stream;

  Fixture ()
  {
    auto s = std::make_unique<FullableStore> ();
    std::string error;
    fail_unless (s->open (std::string (dir) + "/castline.db", error), "%s", error.c_str ());
    disk = s.get ();
    store = std::make_unique<PendingWrites> (std::move (s));
    stream.id = random_stream_id ();
    stream.title = "t";
    stream.key_hash = hash_key ("key");
    stream.created_at = 1;
    fail_unless (store->insert (stream, error), "%s", error.c_str ());
  }
  ~Fixture ()
  {
    store.reset ();
    std::string db = std::string (dir) + "/castline.db";
    for (const char *end : { "", "-wal", "-shm" })
      g_remove ((db + end).c_str ());
    g_rmdir (dir);
    g_free (dir);
  }
  /* what the file holds, past the overlay */
  StreamRecord on_disk () { return *disk->SqliteStore::get (stream.id); }
};

}  // namespace

GST_START_TEST (test_kept_state_is_shown_then_stored)
{
  Fixture f;
  f.disk->full = true;
  StreamRecord r = *f.store->get (f.stream.id);
  r.state = StreamState::failed;
  r.reason = "the data disk is full";
  std::string error;
  fail_unless (f.store->save (r, error) == WriteResult::error);
  fail_unless_equals_string (error.c_str (), "database or disk is full");
  fail_unless_equals_int (f.store->pending (), 1);
  /* every reading call shows what the daemon decided */
  StreamRecord shown = *f.store->get (f.stream.id);
  fail_unless (shown.state == StreamState::failed);
  fail_unless_equals_string (shown.reason.c_str (), "the data disk is full");
  fail_unless (f.store->list ().at (0).state == StreamState::failed);
  fail_unless (f.store->find_by_key ("key")->state == StreamState::failed);
  fail_unless (f.on_disk ().state == StreamState::created);
  /* still full: kept, tried again */
  fail_if (iterate_until ([&] { return f.store->pending () == 0; }, 2000));
  f.disk->full = false;
  fail_unless (iterate_until ([&] { return f.store->pending () == 0; }, 10000));
  StreamRecord stored = f.on_disk ();
  fail_unless (stored.state == StreamState::failed);
  fail_unless_equals_string (stored.reason.c_str (), "the data disk is full");
}
GST_END_TEST;

GST_START_TEST (test_newer_state_replaces_the_kept_one)
{
  Fixture f;
  f.disk->full = true;
  StreamRecord r = *f.store->get (f.stream.id);
  r.state = StreamState::interrupted;
  std::string error;
  f.store->save (r, error);
  r = *f.store->get (f.stream.id);
  r.state = StreamState::ended;
  f.store->save (r, error);
  fail_unless_equals_int (f.store->pending (), 1);
  f.disk->full = false;
  fail_unless (iterate_until ([&] { return f.store->pending () == 0; }, 10000));
  fail_unless (f.on_disk ().state == StreamState::ended);
}
GST_END_TEST;

GST_START_TEST (test_stale_retry_is_dropped)
{
  Fixture f;
  f.disk->full = true;
  StreamRecord mine = *f.store->get (f.stream.id);
  mine.state = StreamState::failed;
  std::string error;
  f.store->save (mine, error);
  /* meanwhile another node writes the row */
  StreamRecord theirs = f.on_disk ();
  theirs.state = StreamState::live;
  theirs.node = "other";
  fail_unless (f.disk->SqliteStore::save (theirs, error) == WriteResult::ok);
  f.disk->full = false;
  fail_unless (iterate_until ([&] { return f.store->pending () == 0; }, 10000));
  fail_unless (f.on_disk ().state == StreamState::live);
  fail_unless (f.store->get (f.stream.id)->state == StreamState::live);
}
GST_END_TEST;

GST_START_TEST (test_claim_stores_the_kept_state_first)
{
  Fixture f;
  f.disk->full = true;
  StreamRecord r = *f.store->get (f.stream.id);
  r.state = StreamState::interrupted;
  r.session = 1;
  std::string error;
  f.store->save (r, error);
  StreamRecord again = *f.store->get (f.stream.id);
  again.state = StreamState::live;
  again.session = 2;
  fail_unless (f.store->claim (again, error) == WriteResult::error);   /* still full */
  f.disk->full = false;
  fail_unless (f.store->claim (again, error) == WriteResult::ok, "%s", error.c_str ());
  fail_unless_equals_int (f.store->pending (), 0);
  fail_unless (f.on_disk ().state == StreamState::live);
  fail_unless_equals_int (f.on_disk ().session, 2);
}
GST_END_TEST;

static Suite *
pendingwrites_suite (void)
{
  Suite *s = suite_create ("pendingwrites");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_kept_state_is_shown_then_stored);
  tcase_add_test (tc, test_newer_state_replaces_the_kept_one);
  tcase_add_test (tc, test_stale_retry_is_dropped);
  tcase_add_test (tc, test_claim_stores_the_kept_state_first);
  return s;
}

GST_CHECK_MAIN (pendingwrites);
