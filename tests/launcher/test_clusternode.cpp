/* ClusterNode against a real PostgreSQL (CASTLINE_TEST_PG_URL, from
 * tests/with_postgres.py): nodes of one process, each with its own store
 * connection and bus, as separate daemons would be. A node that stops
 * ticking without giving up its lease is a node that died (kill -9). */
#include "cluster/clusternode.h"
#include "store/openstore.h"

#include <gst/check/gstcheck.h>

#include <map>
#include <string>
#include <vector>

using namespace castline::launcher;

namespace {

std::string
pg_url ()
{
  const char *url = g_getenv ("CASTLINE_TEST_PG_URL");
  return url ? url : "";
}

/* a node: its config, store and ClusterNode, and what its hooks saw */
struct TestNode {
  Config config;
  std::unique_ptr<StreamStore> store;
  std::unique_ptr<ClusterNode> node;
  std::vector<StreamRecord> taken, expired;
  std::vector<std::pair<std::string, std::string>> remote;   /* type, id */
  std::vector<std::string> end_requests;
  unsigned fenced = 0;

  explicit TestNode (const std::string & id, unsigned window = 30)
  {
    config = default_config ();
    config.node.id = id;
    config.node.lease = 3;
    config.node.public_url = "http://" + id + ".test:8080";
    config.reconnect_window = window;
    config.store.url = pg_url ();
    std::string error;
    store = open_store (config.store.url, "", error);
    fail_unless (store != nullptr, "%s", error.c_str ());
    auto bus = open_bus (config.store.url, error);
    fail_unless (bus != nullptr, "%s", error.c_str ());
    node = std::make_unique<ClusterNode> (config, *store, std::move (bus));
    ClusterNode::Hooks h;
    h.taken_over = [this] (const StreamRecord & r) { taken.push_back (r); };
    h.expired = [this] (const StreamRecord & r) { expired.push_back (r); };
    h.fenced = [this] { fenced++; };
    h.end_requested = [this] (const std::string & s) { end_requests.push_back (s); };
    h.remote_event = [this] (const std::string & type, const StreamRecord & r) {
      remote.emplace_back (type, r.id);
    };
    h.local_shares = [id] {
      StreamShare s;
      s.stream_id = "shared-" + id;
      s.node = id;
      s.hls_viewers = 3;
      s.webrtc_viewers = 1;
      s.stats_json = "{\"video\":{\"fps\":30}}";
      return std::vector<StreamShare> { s };
    };
    h.live_count = [] { return 0u; };
    fail_unless (node->start (std::move (h), error), "%s", error.c_str ());
  }

  /* a clean stop (a node that dies resets `node` first) */
  ~TestNode ()
  {
    if (node)
      node->stop ();
  }
};

/* runs the main context until done() or seconds pass */
template <typename F>
bool
run_until (F done, double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (!done () && g_get_monotonic_time () < end)
    g_main_context_iteration (nullptr, FALSE) || (g_usleep (5000), true);
  return done ();
}

/* how many times the nodes' hook (taken or expired) was told of stream id */
size_t
times_told (std::initializer_list<const TestNode *> nodes,
    std::vector<StreamRecord> TestNode::*told, const std::string & id)
{
  size_t times = 0;
  for (const TestNode *n : nodes)
    for (const StreamRecord & r : n->*told)
      times += r.id == id;
  return times;
}

StreamRecord
live_stream_on (StreamStore & store, const std::string & node)
{
  StreamRecord r;
  r.id = random_stream_id ();
  r.title = "cluster";
  r.key_hash = hash_key (r.id);
  r.created_at = g_get_real_time ();
  std::string error;
  fail_unless (store.insert (r, error), "%s", error.c_str ());
  r.state = StreamState::live;
  r.node = node;
  r.session = 1;
  fail_unless (store.claim (r, error) == WriteResult::ok, "%s", error.c_str ());
  return r;
}

}  // namespace

/* A node that dies: one survivor, and only one, takes its live stream
 * over within the lease and a tick; the other node's hook never fires. */
GST_START_TEST (test_a_lost_node_is_taken_over_once)
{
  auto dead = std::make_unique<TestNode> ("dead-" + random_stream_id ());
  TestNode b ("b-" + random_stream_id ()), c ("c-" + random_stream_id ());
  StreamRecord r = live_stream_on (*dead->store, dead->config.node.id);
  /* it stops ticking; its lease row stays, as after kill -9 */
  dead->node.reset ();
  gint64 t0 = g_get_monotonic_time ();
  auto took = [&] () { return times_told ({ &b, &c }, &TestNode::taken, r.id) > 0; };
  fail_unless (run_until (took, 8), "nobody took the lost node's stream over");
  double after = (g_get_monotonic_time () - t0) / 1e6;
  fail_unless (after < 3 + 1.5, "taken over after %.1f s (lease 3 s)", after);
  /* a few more ticks: nobody takes it again */
  run_until ([] { return false; }, 2);
  fail_unless_equals_int (times_told ({ &b, &c }, &TestNode::taken, r.id), 1);
  auto now = b.store->get (r.id);
  fail_unless (now && now->state == StreamState::interrupted);
  fail_unless (now->reason.find (dead->config.node.id) != std::string::npos, "%s",
      now->reason.c_str ());
  fail_unless (now->resume_until > g_get_real_time ());
  /* the dead node's epoch is gone: a write of its old record is stale */
  std::string error;
  fail_unless (dead->store->save (r, error) == WriteResult::stale);
  /* it shows as not alive */
  bool seen = false;
  for (const NodeRecord & n : b.node->nodes ())
    if (n.id == dead->config.node.id) {
      seen = true;
      fail_if (n.alive);
    }
  fail_unless (seen);
}
GST_END_TEST;

/* An interrupted stream whose window passed is ended by one node. */
GST_START_TEST (test_an_expired_window_ends_once)
{
  TestNode b ("b-" + random_stream_id ()), c ("c-" + random_stream_id ());
  StreamRecord r = live_stream_on (*b.store, b.config.node.id);
  r.state = StreamState::interrupted;
  r.resume_until = g_get_real_time () + 1 * G_USEC_PER_SEC;
  std::string error;
  fail_unless (b.store->save (r, error) == WriteResult::ok, "%s", error.c_str ());
  auto ended = [&] () { return times_told ({ &b, &c }, &TestNode::expired, r.id) > 0; };
  fail_unless (run_until (ended, 6));
  run_until ([] { return false; }, 1.5);
  fail_unless_equals_int (times_told ({ &b, &c }, &TestNode::expired, r.id), 1);
  auto now = b.store->get (r.id);
  fail_unless (now && now->state == StreamState::ended && now->ended_at > 0);
}
GST_END_TEST;

/* Events and orders cross the bus; a node does not hear its own events
 * as remote ones. Shares add up across nodes. */
GST_START_TEST (test_events_orders_and_shares_cross_nodes)
{
  TestNode a ("a-" + random_stream_id ()), b ("b-" + random_stream_id ());
  StreamRecord r = live_stream_on (*a.store, a.config.node.id);
  a.node->publish_event ("stream.started", r);
  auto heard = [&] () { return !b.remote.empty (); };
  fail_unless (run_until (heard, 5), "b heard nothing");
  fail_unless (b.remote[0].first == "stream.started");
  fail_unless (b.remote[0].second == r.id);
  fail_unless (a.remote.empty ());
  /* b knows where the stream's files are now: a */
  /* (held: the check macros keep the pointer past the statement) */
  std::string where = b.node->files_node_url (r.id), a_url = "http://" + a.config.node.id
      + ".test:8080", b_url = "http://" + b.config.node.id + ".test:8080";
  fail_unless_equals_string (where.c_str (), a_url.c_str ());
  where = a.node->files_node_url (r.id);
  fail_unless_equals_string (where.c_str (), "");

  b.node->request_end (a.config.node.id, r.id);
  fail_unless (run_until ([&] () { return !a.end_requests.empty (); }, 5));
  fail_unless (a.end_requests[0] == r.id);
  fail_unless (b.end_requests.empty ());
  /* an order whose message was missed (the bus reconnecting) is still
   * carried out, at the next tick, and once */
  std::string error;
  fail_unless (b.store->add_order (a.config.node.id, "missed", error), "%s", error.c_str ());
  fail_unless (run_until ([&] () { return a.end_requests.size () == 2; }, 3));
  fail_unless (a.end_requests[1] == "missed");
  run_until ([] { return false; }, 1.5);
  fail_unless_equals_int (a.end_requests.size (), 2);

  /* after a tick each: a sees b's share and not its own */
  std::string b_shared = "shared-" + b.config.node.id;
  std::string stats;
  fail_unless (run_until ([&] () { return a.node->remote_viewers (b_shared) == 4; }, 5));
  fail_unless_equals_int (a.node->remote_viewers ("shared-" + a.config.node.id), 0);
  stats = a.node->remote_stats (b_shared);
  fail_unless (stats.find ("\"fps\"") != std::string::npos, "%s", stats.c_str ());
  /* a node with room: the other one */
  where = a.node->node_with_room ();
  fail_unless_equals_string (where.c_str (), b_url.c_str ());
}
GST_END_TEST;

/* A clean stop gives the lease up at once: the others see the node gone
 * without waiting for its lease to run out. */
GST_START_TEST (test_a_clean_stop_gives_the_lease_up)
{
  auto a = std::make_unique<TestNode> ("a-" + random_stream_id ());
  TestNode b ("b-" + random_stream_id ());
  std::string id = a->config.node.id;
  auto listed = [&] () {
    for (const NodeRecord & n : b.node->nodes ())
      if (n.id == id)
        return true;
    return false;
  };
  fail_unless (run_until (listed, 3));
  a->node->stop ();
  a.reset ();
  fail_unless (run_until ([&] () { return !listed (); }, 2), "the lease row stayed");
}
GST_END_TEST;

static Suite *
clusternode_suite ()
{
  Suite *s = suite_create ("clusternode");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  if (pg_url ().empty ()) {
    g_printerr ("CASTLINE_TEST_PG_URL is not set: run through tests/with_postgres.py\n");
    return s;
  }
  tcase_add_test (tc, test_a_lost_node_is_taken_over_once);
  tcase_add_test (tc, test_an_expired_window_ends_once);
  tcase_add_test (tc, test_events_orders_and_shares_cross_nodes);
  tcase_add_test (tc, test_a_clean_stop_gives_the_lease_up);
  return s;
}

GST_CHECK_MAIN (clusternode);
