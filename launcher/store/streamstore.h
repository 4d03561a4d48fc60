/* castline-launcher: where streams, their keys and their recordings are
 * kept, and, in a cluster, the nodes. One interface, two stores:
 * SqliteStore (the embedded default: the data directory's castline.db,
 * one node) and PgStore (PostgreSQL: every node of a cluster shares it).
 * open_store (store/openstore.h) picks one from Config::store_url.
 *
 * Keys are kept as SHA-256 digests: a stolen database gives no publishing
 * rights. Calls block the caller for at most the store's own bound (a
 * local file; PostgreSQL's connect and statement time-outs, a few
 * seconds) and are made from the main context only.
 *
 * Every stream row has an epoch that each write moves on by one: a write
 * names the epoch it read (StreamRecord::epoch) and fails with
 * WriteResult::stale when the row has moved since. So a node that lost a
 * stream to another (its lease expired and a survivor interrupted the
 * stream, or a publisher resumed it elsewhere) cannot write over it: the
 * epoch is the fencing token of the claim. */
#pragma once

#include <glib.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace castline::launcher {

/* interrupted: its publisher was lost without stopping; it may come back
 * (live again) within Config::reconnect_window, else the stream ends. Last,
 * so the others keep their numbers (metrics index by them). */
enum class StreamState { created, scheduled, live, ended, failed, interrupted };

const char *state_name (StreamState s);
/* the state of a name state_name gives; failed for anything else */
StreamState state_from_name (const std::string & s);

struct StreamRecord {
  std::string id;
  std::string title;
  std::string pipeline;            /* empty: chosen from the ingest's codecs */
  std::string key_hash;            /* hex SHA-256 of the stream key */
  StreamState state = StreamState::created;
  /* why it failed, was interrupted, or ended without a stop */
  std::string reason;
  std::string ingest;              /* "whip", "websocket", "rtmp", "rtmps", "srt" or "" */
  int64_t created_at = 0;          /* unix µs */
  int64_t scheduled_at = 0;        /* unix µs; 0: not scheduled */
  int64_t started_at = 0;
  int64_t ended_at = 0;
  bool record = false;             /* keeps every segment and writes a VOD at the end */
  /* the node that took the stream last (Config::node_id): the one that
   * runs it while live, that holds its files afterwards with local
   * output; "" before its first publisher */
  std::string node;
  /* the publisher session it is at: 0 before its first publisher, 1 for
   * the first, one more at each resume */
  unsigned session = 0;
  /* while interrupted: when its reconnect window ends (unix µs) */
  int64_t resume_until = 0;
  /* moved on by every write (see above); 0 for a new record */
  int64_t epoch = 0;
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

/* A node of a cluster, as its lease row says. */
struct NodeRecord {
  std::string id;
  std::string public_url;          /* where its ingest and playback are reached */
  unsigned live_streams = 0;       /* when it last renewed */
  unsigned max_live_streams = 0;
  int64_t started_at = 0;          /* unix µs */
  /* whether its lease is still running, by the store's clock */
  bool alive = false;
  int64_t lease_left_us = 0;       /* < 0: expired that long ago */
};

/* What one node has of a stream: its viewers there and, from the node
 * that runs it, its latest stats (the stream JSON's "stats" object). */
struct StreamShare {
  std::string stream_id;
  std::string node;
  unsigned hls_viewers = 0;
  unsigned webrtc_viewers = 0;
  std::string stats_json;          /* "" or a JSON object */
};

/* A node's cluster counters (/metrics), since it started. */
struct ClusterMetrics {
  bool on = false;                 /* a shared store: the cluster mode */
  unsigned nodes_alive = 0;        /* as of the last tick */
  guint64 lease_failures = 0;      /* renewals that failed */
  guint64 takeovers = 0;           /* live streams of lost nodes this node interrupted */
  guint64 expired = 0;             /* interrupted streams this node ended after their window */
  bool fenced = false;             /* without a lease now: it runs nothing */
  bool bus_connected = false;
};

enum class WriteResult {
  ok,
  stale,                           /* the row moved on since it was read (or is gone) */
  error,                           /* the store could not be written: error says why */
};

class StreamStore {
 public:
  virtual ~StreamStore () = default;

  /* "sqlite" or "postgresql" */
  virtual const char *kind () const = 0;
  /* whether other nodes share it (the cluster is on) */
  virtual bool shared () const = 0;
  /* where it is, without a password (for logs and --check) */
  virtual std::string describe () const = 0;

  /* A new stream (an id already taken is an error). */
  virtual bool insert (const StreamRecord & r, std::string & error) = 0;
  virtual std::optional<StreamRecord> get (const std::string & id) const = 0;
  /* The stream whose key this is (an RTMP or SRT publisher names its
   * stream by its key alone): looked up by the key's hash, then checked
   * with key_matches. */
  virtual std::optional<StreamRecord> find_by_key (const std::string & key) const = 0;
  virtual std::vector<StreamRecord> list () const = 0;   /* newest first */
  /* Why the last of those reading calls (get, find_by_key, list) failed,
   * "" when it worked: no row, or no store to read, which a caller
   * answers differently (404 or 503). */
  virtual std::string read_error () const { return ""; }
  /* Writes r over its row if the row's epoch is still r.epoch; then
   * r.epoch is the row's new one. */
  virtual WriteResult save (StreamRecord & r, std::string & error) = 0;
  /* Takes the stream for its publisher: as save, and only while the row
   * is created, scheduled or interrupted (r holds what it becomes: live,
   * its node, session, ingest, pipeline). Of two nodes that read the
   * same row and claim it, one gets ok and the other stale. */
  virtual WriteResult claim (StreamRecord & r, std::string & error) = 0;

  /* a stream's recordings (a new one replaces one of the same name) */
  virtual bool add_recording (const RecordingRecord & r, std::string & error) = 0;
  virtual std::vector<RecordingRecord> recordings (const std::string & stream_id) const = 0;
  /* drops a recording's row (its stream, kind and name); true when it is
   * gone, or was not there */
  virtual bool remove_recording (const RecordingRecord & r, std::string & error) = 0;
  /* the recordings of every stream written before unix µs `before`,
   * oldest first, at most `limit` (retention) */
  virtual std::vector<RecordingRecord> recordings_before (int64_t before, size_t limit) const = 0;

  /* ---- the cluster (a shared store; SqliteStore does none of it) ---- */

  /* Writes this node's lease row: running for lease_us from now by the
   * store's clock. */
  virtual bool renew_lease (const NodeRecord & self, int64_t lease_us, std::string & error) = 0;
  /* Removes this node's lease row (a clean stop) and its shares. */
  virtual bool drop_lease (const std::string & node_id, std::string & error) = 0;
  /* Asks node to end a stream it runs: kept until that node takes it
   * (the bus only wakes it up: a message it missed while reconnecting
   * loses nothing). */
  virtual bool add_order (const std::string & node_id, const std::string & stream_id,
      std::string & error) = 0;
  /* The orders for this node, each given once (and gone from the store). */
  virtual std::vector<std::string> take_orders (const std::string & node_id,
      std::string & error) = 0;
  /* Every node with a lease row, alive or not. */
  virtual std::vector<NodeRecord> nodes (std::string & error) const = 0;
  /* Every stream live on a node whose lease ran out (or that has no
   * lease row) becomes interrupted, in one statement, with the reason
   * "its node <id> was lost" and resume_until = now + window_us. Only
   * the caller that changed a row gets it back: each is told once, by
   * one node. */
  virtual std::vector<StreamRecord> take_over_lost (int64_t window_us, std::string & error) = 0;
  /* Every interrupted stream whose resume_until has passed ends with
   * reason, ended_at now; returned to the one caller that ended it. */
  virtual std::vector<StreamRecord> end_expired (const std::string & reason,
      std::string & error) = 0;
  /* Replaces this node's shares with these. */
  virtual bool put_shares (const std::string & node_id, const std::vector<StreamShare> & shares,
      std::string & error) = 0;
  /* The shares of every node alive, this one's too. */
  virtual std::vector<StreamShare> shares (std::string & error) const = 0;
};

/* What crosses between the nodes of a cluster as it happens (PgBus:
 * PostgreSQL's LISTEN/NOTIFY on the store's database). Messages are JSON
 * objects of at most 7,000 bytes; a node hears its own too. Main
 * context. */
class ClusterBus {
 public:
  virtual ~ClusterBus () = default;
  /* channel: "events" (a stream event: {"node","type","id"}) or
   * "control" (an order for a node: {"to","end"}) */
  using Listener = std::function<void (const std::string & channel, const std::string & json)>;
  /* Connects, LISTENs, and calls listener on the main context for each
   * message. After a lost connection it connects again (backing off up
   * to a few seconds); messages sent meanwhile are lost. */
  virtual bool start (Listener listener, std::string & error) = 0;
  virtual bool publish (const std::string & channel, const std::string & json,
      std::string & error) = 0;
  /* whether it is connected and listening now */
  virtual bool connected () const = 0;
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
