/* castline-launcher: the store every node of a cluster shares, on
 * PostgreSQL. The same streams and recordings as SqliteStore, plus the
 * nodes' leases and what each node has of each stream (its viewers).
 * Every "now" is the database's clock, never a node's: nodes compare
 * leases and reconnect windows by one clock. */
#pragma once

#include "store/pgconnection.h"
#include "store/streamstore.h"

namespace castline::launcher {

class PgStore : public StreamStore {
 public:
  explicit PgStore (const std::string & url);

  /* Connects and brings the schema up to date: the migrations the
   * database lacks, in one transaction under an advisory lock (nodes
   * starting together wait for one another); a database of a newer
   * castline is refused. */
  bool open (std::string & error);

  const char *kind () const override { return "postgresql"; }
  bool shared () const override { return true; }
  std::string describe () const override { return described_; }

  bool insert (const StreamRecord & r, std::string & error) override;
  std::optional<StreamRecord> get (const std::string & id) const override;
  std::optional<StreamRecord> find_by_key (const std::string & key) const override;
  std::vector<StreamRecord> list () const override;
  WriteResult save (StreamRecord & r, std::string & error) override;
  WriteResult claim (StreamRecord & r, std::string & error) override;

  bool add_recording (const RecordingRecord & r, std::string & error) override;
  std::vector<RecordingRecord> recordings (const std::string & stream_id) const override;
  bool remove_recording (const RecordingRecord & r, std::string & error) override;
  std::vector<RecordingRecord> recordings_before (int64_t before, size_t limit) const override;

  bool renew_lease (const NodeRecord & self, int64_t lease_us, std::string & error) override;
  bool drop_lease (const std::string & node_id, std::string & error) override;
  bool add_order (const std::string & node_id, const std::string & stream_id,
      std::string & error) override;
  std::vector<std::string> take_orders (const std::string & node_id, std::string & error) override;
  std::vector<NodeRecord> nodes (std::string & error) const override;
  std::vector<StreamRecord> take_over_lost (int64_t window_us, std::string & error) override;
  std::vector<StreamRecord> end_expired (const std::string & reason,
      std::string & error) override;
  bool put_shares (const std::string & node_id, const std::vector<StreamShare> & shares,
      std::string & error) override;
  std::vector<StreamShare> shares (std::string & error) const override;
  std::string read_error () const override { return last_reported_; }

 private:
  bool migrate (std::string & error);
  /* the migrations' transaction, under the advisory lock */
  bool migrate_locked (std::string & error);
  WriteResult update (StreamRecord & r, bool claim, std::string & error);
  /* the streams a statement returned (kStreamColumns) */
  std::vector<StreamRecord> streams_of (const std::string & sql,
      const std::vector<std::string> & params, std::string & error) const;

  /* Logs the error of a call that has no error to return (get, list...)
   * when it is not the one logged last: a database that is gone is told
   * once, not at every call. "": the call worked. */
  void report (const std::string & error) const;

  std::string described_;
  mutable std::string last_reported_;
  /* reconnects on its own: even a reading call may make it again */
  mutable PgConnection conn_;
};

}  // namespace castline::launcher
