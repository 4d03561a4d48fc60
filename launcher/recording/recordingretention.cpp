#include "recording/recordingretention.h"

#include <algorithm>
#include <map>

namespace castline::launcher {

RecordingRetention::RecordingRetention (const Config & config, StreamStore & store,
    Recordings & recordings)
    : config_ (config), store_ (store), recordings_ (recordings)
{
}

RecordingRetention::~RecordingRetention ()
{
  if (first_)
    g_source_remove (first_);
  if (timer_)
    g_source_remove (timer_);
}

guint
RecordingRetention::period_ms (double days)
{
  double ms = days * 24 * 3600 * 1000 / 24;
  return (guint) std::clamp (ms, 1000.0, 3600.0 * 1000);
}

void
RecordingRetention::start ()
{
  if (config_.recordings_retention_days <= 0 || timer_)
    return;
  g_message ("recordings are kept %g days", config_.recordings_retention_days);
  auto run = [] (gpointer data) -> gboolean {
    static_cast<RecordingRetention *> (data)->pass ();
    return G_SOURCE_CONTINUE;
  };
  first_ = g_idle_add ([] (gpointer data) -> gboolean {
        auto *self = static_cast<RecordingRetention *> (data);
        self->first_ = 0;
        self->pass ();
        return G_SOURCE_REMOVE;
      }, this);
  timer_ = g_timeout_add (period_ms (config_.recordings_retention_days), run, this);
}

void
RecordingRetention::pass ()
{
  if (pending_ > 0)
    return;                        /* the last pass is still removing */
  gint64 before = g_get_real_time ()
      - (gint64) (config_.recordings_retention_days * 24 * 3600 * G_USEC_PER_SEC);
  std::map<std::string, std::vector<RecordingRecord>> old;
  for (auto & r : store_.recordings_before (before, kBatch))
    old[r.stream_id].push_back (r);
  for (auto & [id, recs] : old) {
    auto s = store_.get (id);
    if (!s)
      continue;
    if (store_.shared () && s->node != config_.node.id)
      continue;                    /* another node's: it prunes them */
    if (s->state == StreamState::live || s->state == StreamState::interrupted
        || recordings_.writing (id))
      continue;
    g_message ("stream %s: %zu recording%s older than %g days: removing", id.c_str (), recs.size (),
        recs.size () == 1 ? "" : "s", config_.recordings_retention_days);
    pending_++;
    std::weak_ptr<bool> alive = alive_;
    recordings_.remove (id, recs, "retention", [this, alive] (RemovalResult) {
          if (alive.lock ())
            pending_--;
        });
  }
}

}  // namespace castline::launcher
