/* castline-launcher: this node in a cluster of nodes sharing one store
 * (PostgreSQL) and one bus (its LISTEN/NOTIFY). Made by StreamManager
 * when its store is shared; none on the embedded default (SQLite).
 *
 * Every lease/5 s (at least 0.5 s) on the main context, it
 *  - renews this node's lease (its row in the store: public URL, live
 *    streams, limit). A node that could not renew it for a whole lease
 *    (the store is down, or this node is cut off) is fenced: it stops its
 *    own live streams (Hooks::fenced), since the others will take them
 *    over; it is unfenced once a renewal succeeds again;
 *  - takes over the live streams of nodes whose lease ran out (they
 *    become interrupted: Hooks::taken_over, on the one node whose
 *    statement changed them), and ends interrupted streams whose window
 *    passed (Hooks::expired);
 *  - every 10 ticks, and once a lost lease is back, hands every stream
 *    to Hooks::reconcile;
 *  - publishes what it has of each stream (viewers, and the stats of the
 *    ones it runs: StreamShare) and reads everyone's.
 * Stream events go out on the bus ("events"); the others' come back
 * through Hooks::remote_event. DELETE of a stream another node runs goes
 * to it as an order ("control"). A node with room and the node that
 * serves a stream's files are known from the last tick and the events,
 * for the routes (thread-safe: /live is answered on the server's
 * threads). */
#pragma once

#include "config/config.h"
#include "store/streamstore.h"

#include <glib.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace castline::launcher {

class ClusterNode {
 public:
  struct Hooks {
    /* a live stream of a lost node, now interrupted by this node */
    std::function<void (const StreamRecord &)> taken_over;
    /* an interrupted stream whose window passed, now ended by this node */
    std::function<void (const StreamRecord &)> expired;
    /* this node could not renew its lease for a lease: stop what it runs */
    std::function<void ()> fenced;
    /* another node asks this one to end a stream it runs */
    std::function<void (const std::string & id)> end_requested;
    /* an event of another node (type, the stream as the store has it now) */
    std::function<void (const std::string & type, const StreamRecord &)> remote_event;
    /* what this node has of each stream now */
    std::function<std::vector<StreamShare> ()> local_shares;
    /* streams live here now */
    std::function<unsigned ()> live_count;
    /* every stream, as the store has them: at each full refresh and once
     * a lost lease is back, for the streams the store says this node runs
     * when it does not (it was fenced, or could not write their end) */
    std::function<void (const std::vector<StreamRecord> &)> reconcile;
  };

  ClusterNode (const Config & config, StreamStore & store, std::unique_ptr<ClusterBus> bus);
  ~ClusterNode ();
  ClusterNode (const ClusterNode &) = delete;
  ClusterNode & operator= (const ClusterNode &) = delete;

  /* Takes the lease (a first renewal), listens on the bus and starts the
   * ticks. False when the store cannot be written. */
  bool start (Hooks hooks, std::string & error);
  /* A clean stop: the ticks end and the lease row goes (the others see
   * this node gone at once, not after its lease). */
  void stop ();

  const std::string & id () const { return config_.node.id; }
  /* whether the last renewal failed for a lease or more */
  bool fenced () const { return fenced_; }

  /* Tells the other nodes (a stream event of this node). */
  void publish_event (const std::string & type, const StreamRecord & r);
  /* Asks node to end stream id (it runs it). */
  void request_end (const std::string & node, const std::string & id);

  /* The base URL of the node that serves stream id's files when it is not
   * this one and is alive; "" otherwise. Thread-safe. */
  std::string files_node_url (const std::string & id) const;
  /* The base URL of an alive node other than this one below its live
   * stream limit (the one with the fewest live streams); "" when none.
   * Thread-safe. */
  std::string node_with_room () const;
  ClusterMetrics metrics () const;
  /* the nodes as of the last tick */
  std::vector<NodeRecord> nodes () const;
  /* other nodes' viewers of a stream (HLS and WebRTC) as of the last tick */
  unsigned remote_viewers (const std::string & id) const;
  /* the stats the node running stream id published ("" when none or when
   * this node runs it) */
  std::string remote_stats (const std::string & id) const;

 private:
  void tick ();
  void on_message (const std::string & channel, const std::string & json);
  /* the orders the store holds for this node, carried out */
  void take_orders ();
  /* the stream's node, for files_node_url */
  void remember_node (const std::string & id, const std::string & node);
  /* full: the stream→node map too, and Hooks::reconcile */
  void refresh_nodes (bool full);

  const Config & config_;
  StreamStore & store_;
  std::unique_ptr<ClusterBus> bus_;
  Hooks hooks_;
  guint timer_ = 0;
  unsigned ticks_ = 0;
  gint64 started_at_ = 0;             /* unix µs, for the lease row */
  gint64 last_renewal_ = 0;            /* monotonic µs of the last good renewal */
  bool fenced_ = false;
  ClusterMetrics counters_;            /* main context */

  mutable std::mutex lock_;            /* what the server's threads read: */
  std::vector<NodeRecord> nodes_;
  std::map<std::string, std::string> stream_nodes_;   /* stream id → node id */
  std::map<std::string, unsigned> remote_viewers_;
  std::map<std::string, std::string> remote_stats_;
};

}  // namespace castline::launcher
