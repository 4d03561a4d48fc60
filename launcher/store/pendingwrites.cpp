#include "store/pendingwrites.h"

namespace castline::launcher {

PendingWrites::PendingWrites (std::unique_ptr<StreamStore> store) : store_ (std::move (store))
{
}

PendingWrites::~PendingWrites ()
{
  /* the last chance: what does not land now, the next start settles */
  for (auto it = pending_.begin (); it != pending_.end ();)
    it = write_again (it->second) != WriteResult::error ? pending_.erase (it) : std::next (it);
  for (auto & [id, k] : pending_)
    g_warning ("stream %s: its state (%s) could not be stored before the daemon stopped",
        id.c_str (), state_name (k.record.state));
}

std::optional<StreamRecord>
PendingWrites::get (const std::string & id) const
{
  auto it = pending_.find (id);
  if (it != pending_.end ())
    return it->second.record;
  return store_->get (id);
}

std::optional<StreamRecord>
PendingWrites::find_by_key (const std::string & key) const
{
  std::optional<StreamRecord> r = store_->find_by_key (key);
  if (r) {
    auto it = pending_.find (r->id);
    if (it != pending_.end ())
      return it->second.record;
  }
  return r;
}

std::vector<StreamRecord>
PendingWrites::list () const
{
  std::vector<StreamRecord> all = store_->list ();
  for (StreamRecord & r : all) {
    auto it = pending_.find (r.id);
    if (it != pending_.end ())
      r = it->second.record;
  }
  return all;
}

WriteResult
PendingWrites::save (StreamRecord & r, std::string & error)
{
  /* r is newer than what is kept of its stream (read through get), on
   * the same epoch: it replaces it */
  WriteResult result = store_->save (r, error);
  if (result == WriteResult::error) {
    keep (r, error);
    return result;
  }
  auto it = pending_.find (r.id);
  if (it != pending_.end ()) {
    if (result == WriteResult::ok)
      g_message ("stream %s: its state is stored now", r.id.c_str ());
    pending_.erase (it);
  }
  return result;
}

WriteResult
PendingWrites::claim (StreamRecord & r, std::string & error)
{
  auto it = pending_.find (r.id);
  if (it != pending_.end ()) {
    /* what the daemon decided last lands first: the claim moves on from it */
    int64_t read = it->second.record.epoch;
    WriteResult first = write_again (it->second);
    if (first == WriteResult::error) {
      error = "the stream's last state cannot be stored yet";
      return WriteResult::error;
    }
    if (first == WriteResult::ok && r.epoch == read)
      r.epoch = it->second.record.epoch;
    pending_.erase (it);
  }
  return store_->claim (r, error);
}

void
PendingWrites::keep (const StreamRecord & r, const std::string & error)
{
  auto it = pending_.find (r.id);
  if (it == pending_.end ()) {
    g_warning ("stream %s: cannot store its state (%s): %s; the daemon keeps it and tries "
        "again until it can", r.id.c_str (), state_name (r.state), error.c_str ());
    pending_[r.id] = Kept { r, g_get_monotonic_time () };
  } else {
    it->second.record = r;           /* the newer state; still failing since */
  }
  retry_.start ();
}

WriteResult
PendingWrites::write_again (Kept & k)
{
  std::string error;
  StreamRecord & r = k.record;
  WriteResult result = store_->save (r, error);
  switch (result) {
    case WriteResult::ok:
      g_message ("stream %s: its state (%s) is stored now, %.1f s after it could not be",
          r.id.c_str (), state_name (r.state),
          (g_get_monotonic_time () - k.since) / (double) G_USEC_PER_SEC);
      break;
    case WriteResult::stale:
      g_message ("stream %s: another node has moved it on; its state kept here (%s) is "
          "dropped", r.id.c_str (), state_name (r.state));
      break;
    case WriteResult::error:
      g_debug ("stream %s: its state cannot be stored yet: %s", r.id.c_str (), error.c_str ());
      break;
  }
  return result;
}

bool
PendingWrites::retry ()
{
  for (auto it = pending_.begin (); it != pending_.end ();)
    it = write_again (it->second) != WriteResult::error ? pending_.erase (it) : std::next (it);
  return pending_.empty ();
}

}  // namespace castline::launcher
