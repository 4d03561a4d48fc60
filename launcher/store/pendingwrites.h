/* castline-launcher: a stream's state that the store could not take (its
 * disk full, PostgreSQL away) still wins. PendingWrites wraps the store
 * StreamManager uses: a save that fails with WriteResult::error is kept
 * in memory, shown over the store's row by get, find_by_key and list
 * (the API, the public status, the events say what the daemon decided),
 * and written again on a timer of the main context (every
 * kRetryFirstWaitS, doubling up to kRetryMaxWaitS) until it lands. A
 * retry that comes back stale (the row moved on: in a cluster, another
 * node owns the stream now) is dropped, never forced. Each stream's
 * failure is logged once, and its landing once.
 *
 * Only saves are kept: an insert or a claim that fails is the caller's
 * to refuse (the claim first writes what is kept of its stream). A
 * daemon that stops with writes still kept tries them once more; what
 * does not land then is lost, and the next start settles the stream as
 * a daemon that died would have left it. Main context only, as the
 * store. */
#pragma once

#include "store/streamstore.h"
#include "streams/retrytimer.h"

#include <map>
#include <memory>
#include <string>

namespace castline::launcher {

class PendingWrites : public StreamStore {
 public:
  explicit PendingWrites (std::unique_ptr<StreamStore> store);
  ~PendingWrites () override;
  PendingWrites (const PendingWrites &) = delete;
  PendingWrites & operator= (const PendingWrites &) = delete;

  /* the streams whose state is kept, not yet in the store */
  size_t pending () const { return pending_.size (); }

  const char *kind () const override { return store_->kind (); }
  bool shared () const override { return store_->shared (); }
  std::string describe () const override { return store_->describe (); }

  bool insert (const StreamRecord & r, std::string & error) override
  {
    return store_->insert (r, error);
  }
  std::optional<StreamRecord> get (const std::string & id) const override;
  std::optional<StreamRecord> find_by_key (const std::string & key) const override;
  std::vector<StreamRecord> list () const override;
  std::string read_error () const override { return store_->read_error (); }
  /* as the store's; on error r is kept (and error says why) */
  WriteResult save (StreamRecord & r, std::string & error) override;
  WriteResult claim (StreamRecord & r, std::string & error) override;

  bool add_recording (const RecordingRecord & r, std::string & error) override
  {
    return store_->add_recording (r, error);
  }
  std::vector<RecordingRecord> recordings (const std::string & stream_id) const override
  {
    return store_->recordings (stream_id);
  }
  bool remove_recording (const RecordingRecord & r, std::string & error) override
  {
    return store_->remove_recording (r, error);
  }
  std::vector<RecordingRecord> recordings_before (int64_t before, size_t limit) const override
  {
    return store_->recordings_before (before, limit);
  }

  bool renew_lease (const NodeRecord & self, int64_t lease_us, std::string & error) override
  {
    return store_->renew_lease (self, lease_us, error);
  }
  bool drop_lease (const std::string & node_id, std::string & error) override
  {
    return store_->drop_lease (node_id, error);
  }
  bool add_order (const std::string & node_id, const std::string & stream_id,
      std::string & error) override
  {
    return store_->add_order (node_id, stream_id, error);
  }
  std::vector<std::string> take_orders (const std::string & node_id,
      std::string & error) override
  {
    return store_->take_orders (node_id, error);
  }
  std::vector<NodeRecord> nodes (std::string & error) const override
  {
    return store_->nodes (error);
  }
  std::vector<StreamRecord> take_over_lost (int64_t window_us, std::string & error) override
  {
    return store_->take_over_lost (window_us, error);
  }
  std::vector<StreamRecord> end_expired (const std::string & reason,
      std::string & error) override
  {
    return store_->end_expired (reason, error);
  }
  bool put_shares (const std::string & node_id, const std::vector<StreamShare> & shares,
      std::string & error) override
  {
    return store_->put_shares (node_id, shares, error);
  }
  std::vector<StreamShare> shares (std::string & error) const override
  {
    return store_->shares (error);
  }

  static constexpr unsigned kRetryFirstWaitS = 1;
  static constexpr unsigned kRetryMaxWaitS = 8;

 private:
  struct Kept {
    StreamRecord record;
    int64_t since = 0;               /* monotonic µs of the first failure */
  };

  /* keeps r (a newer state of a stream replaces the older one) */
  void keep (const StreamRecord & r, const std::string & error);
  /* writes one kept record again (on ok, its epoch is the row's new one):
   * gone unless error */
  WriteResult write_again (Kept & k);
  /* every kept record, once: true when none is left */
  bool retry ();

  std::unique_ptr<StreamStore> store_;
  std::map<std::string, Kept> pending_;
  RetryTimer retry_ { kRetryFirstWaitS, kRetryMaxWaitS, [this] { return retry (); } };
};

}  // namespace castline::launcher
