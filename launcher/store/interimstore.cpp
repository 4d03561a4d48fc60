/* INTERIM, for the h20-install branch only: open_store and
 * redact_store_url as far as `castline-launcher --check` needs them
 * (SQLite opened, nothing read or written), until the store's own
 * implementation lands; launcher/meson.build drops this file then. */
#include "store/openstore.h"

#include <sqlite3.h>

namespace castline::launcher {

namespace {

class OpenedSqlite : public StreamStore {
 public:
  OpenedSqlite (sqlite3 *db, std::string path) : db_ (db), path_ (std::move (path)) {}
  ~OpenedSqlite () override { sqlite3_close (db_); }

  const char *kind () const override { return "sqlite"; }
  bool shared () const override { return false; }
  std::string describe () const override { return path_; }
  bool insert (const StreamRecord &, std::string & e) override { return no (e); }
  std::optional<StreamRecord> get (const std::string &) const override { return {}; }
  std::optional<StreamRecord> find_by_key (const std::string &) const override { return {}; }
  std::vector<StreamRecord> list () const override { return {}; }
  WriteResult save (StreamRecord &, std::string & e) override { return no (e), WriteResult::error; }
  WriteResult claim (StreamRecord &, std::string & e) override { return no (e), WriteResult::error; }
  bool add_recording (const RecordingRecord &, std::string & e) override { return no (e); }
  std::vector<RecordingRecord> recordings (const std::string &) const override { return {}; }
  bool renew_lease (const NodeRecord &, int64_t, std::string & e) override { return no (e); }
  bool drop_lease (const std::string &, std::string & e) override { return no (e); }
  std::vector<NodeRecord> nodes (std::string & e) const override { return no (e), std::vector<NodeRecord> (); }
  std::vector<StreamRecord> take_over_lost (int64_t, std::string & e) override
  {
    return no (e), std::vector<StreamRecord> ();
  }
  std::vector<StreamRecord> end_expired (const std::string &, std::string & e) override
  {
    return no (e), std::vector<StreamRecord> ();
  }
  bool put_shares (const std::string &, const std::vector<StreamShare> &, std::string & e) override
  {
    return no (e);
  }
  std::vector<StreamShare> shares (std::string & e) const override { return no (e), std::vector<StreamShare> (); }

 private:
  static bool no (std::string & e) { e = "interim store: not implemented"; return false; }
  sqlite3 *db_;
  std::string path_;
};

}  // namespace

std::unique_ptr<StreamStore>
open_store (const std::string & url, const std::string & data_dir, std::string & error)
{
  if (url.rfind ("postgresql://", 0) == 0 || url.rfind ("postgres://", 0) == 0) {
    error = "this build has no PostgreSQL store yet";
    return nullptr;
  }
  std::string path = url.empty () ? data_dir + "/castline.db"
      : url.rfind ("sqlite:", 0) == 0 ? url.substr (7) : std::string ();
  if (path.empty ()) {
    error = "store.url must be empty, sqlite:PATH or postgresql://...";
    return nullptr;
  }
  sqlite3 *db = nullptr;
  int rc = sqlite3_open_v2 (path.c_str (), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec (db, "PRAGMA user_version", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    error = "cannot open " + path + ": " + (db ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
    sqlite3_close (db);
    return nullptr;
  }
  return std::make_unique<OpenedSqlite> (db, path);
}

std::unique_ptr<ClusterBus>
open_bus (const std::string &, std::string &)
{
  return nullptr;
}

std::string
redact_store_url (const std::string & url)
{
  std::string::size_type scheme = url.find ("://");
  std::string::size_type at = url.find ('@');
  if (scheme == std::string::npos || at == std::string::npos)
    return url;
  std::string::size_type colon = url.find (':', scheme + 3);
  if (colon == std::string::npos || colon > at)
    return url;
  return url.substr (0, colon + 1) + "***" + url.substr (at);
}

}  // namespace castline::launcher
