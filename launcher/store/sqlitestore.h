/* castline-launcher: the embedded store, one SQLite file (by default the
 * data directory's castline.db). One node: the cluster calls do nothing. */
#pragma once

#include "store/streamstore.h"

#include <sqlite3.h>

#include <memory>

namespace castline::launcher {

class SqliteStore : public StreamStore {
 public:
  /* Opens (creating) the database and brings an older one up to the
   * current schema (PRAGMA user_version counts the migrations applied).
   * Streams a daemon that died left live or interrupted stay so until
   * StreamManager::settle_unfinished ends them. */
  bool open (const std::string & path, std::string & error);

  const char *kind () const override { return "sqlite"; }
  bool shared () const override { return false; }
  std::string describe () const override { return path_; }

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

  bool renew_lease (const NodeRecord &, int64_t, std::string &) override { return true; }
  bool drop_lease (const std::string &, std::string &) override { return true; }
  bool add_order (const std::string &, const std::string &, std::string &) override
  {
    return true;
  }
  std::vector<std::string> take_orders (const std::string &, std::string &) override
  {
    return {};
  }
  std::vector<NodeRecord> nodes (std::string &) const override { return {}; }
  std::vector<StreamRecord> take_over_lost (int64_t, std::string &) override { return {}; }
  std::vector<StreamRecord> end_expired (const std::string &, std::string &) override
  {
    return {};
  }
  bool put_shares (const std::string &, const std::vector<StreamShare> &,
      std::string &) override
  {
    return true;
  }
  std::vector<StreamShare> shares (std::string &) const override { return {}; }

 private:
  WriteResult update (StreamRecord & r, bool claim, std::string & error);

  struct DbCloser {
    void operator() (sqlite3 * db) const { sqlite3_close (db); }
  };
  std::unique_ptr<sqlite3, DbCloser> db_;
  std::string path_;
};

}  // namespace castline::launcher
