/* castline-launcher: StreamManager's settling, at start, of what a
 * daemon that died (kill -9, a crash) left: its live and interrupted
 * streams, their playlists (local or in S3) and their recordings (see
 * StreamManager::settle_unfinished in the header). */
#include "streams/streammanager.h"

#include "config/s3settings.h"
#include "hls/playlistend.h"
#include "recording/segmentjournal.h"
#include "streams/maincontext.h"

#include <algorithm>
#include <set>

namespace castline::launcher {

namespace {

/* settle_s3: attempts, and the wait before the first retry (doubled each
 * time, at most kSettleMaxWaitS): about an hour in all */
constexpr unsigned kSettleRetries = 12;
constexpr unsigned kSettleFirstWaitS = 10;
constexpr unsigned kSettleMaxWaitS = 600;

}  // namespace

void
StreamManager::settle_unfinished ()
{
  /* and the streams whose recording was still being written */
  std::set<std::string> with_journal;
  for (const std::string & id : SegmentJournal::streams (config_.data_dir))
    with_journal.insert (id);
  for (StreamRecord r : store_->list ()) {
    /* in a cluster: this node's streams only; and its interrupted ones
     * stay so, for their publishers to resume on any node (the nodes'
     * ticks end them after their window) */
    if (cluster_ && r.node != config_.node.id)
      continue;
    bool unfinished = r.state == StreamState::live
        || (r.state == StreamState::interrupted && !cluster_);
    if (!unfinished && !with_journal.count (r.id))
      continue;
    if (cluster_ && r.state == StreamState::interrupted && config_.s3.enabled ())
      continue;                        /* its S3 playlists may be a new session's soon */
    if (unfinished) {
      if (!config_.s3.enabled ())
        end_local_playlists (hls_dir (r.id));
      settle_state (r);
    }
    if (config_.s3.enabled ()) {
      settle_s3 (r.id, 0);
      continue;
    }
    for (unsigned session : SegmentJournal::sessions (config_.data_dir, r.id))
      recordings_->settle (r.id, session);
  }
  retention_->start ();
}

void
StreamManager::settle_state (StreamRecord & r)
{
  bool was_live = r.state == StreamState::live;
  std::string reason = std::string ("the daemon stopped unexpectedly while the stream was ")
      + (was_live ? "live" : "interrupted");
  /* in a cluster a node's own live streams end, as before: the others'
   * ticks own the interrupted ones */
  if (cluster_ || config_.reconnect_window == 0) {
    if (set_state (r, StreamState::ended, reason)) {
      g_message ("stream %s ended: %s", r.id.c_str (), reason.c_str ());
      emit ("stream.ended", r);
    }
    return;
  }
  /* its publisher could not come back while the daemon was down: a whole
   * window from now; an interrupted one keeps how it was lost */
  r.resume_until = g_get_real_time () + (int64_t) config_.reconnect_window * G_USEC_PER_SEC;
  if (!set_state (r, StreamState::interrupted, was_live ? reason : r.reason))
    return;
  g_message ("stream %s interrupted: %s; its publisher has %u s to come back", r.id.c_str (),
      reason.c_str (), config_.reconnect_window);
  if (was_live)
    emit ("stream.interrupted", r);
  start_window (r.id);
}

void
StreamManager::settle_s3 (const std::string & id, unsigned attempt)
{
  /* until its playlists in the bucket are ended, a publisher coming back
   * would have them overwritten by its own, then ended */
  settling_.insert (id);
  std::weak_ptr<bool> alive = alive_;
  end_s3_playlists (recording_s3_, output_key_prefix (config_.s3, id, ""),
      [this, alive, id, attempt] (bool ok, std::map<std::string, std::string> last) {
        /* the S3 client's thread */
        run_on_main_context ([this, alive, id, attempt, ok, last] {
              if (alive.expired ())
                return;
              if (ok) {
                settling_.erase (id);
                for (unsigned session : SegmentJournal::sessions (config_.data_dir, id))
                  recordings_->settle (id, session, last);
                return;
              }
              if (attempt + 1 >= kSettleRetries) {
                settling_.erase (id);
                g_warning ("stream %s: S3 could not be reached to end its playlists and write "
                    "its recording; left for the next start", id.c_str ());
                return;
              }
              unsigned wait = std::min (kSettleFirstWaitS << std::min (attempt, 16u),
                  kSettleMaxWaitS);
              g_message ("stream %s: S3 cannot be reached to end its playlists and write its "
                  "recording: trying again in %u s", id.c_str (), wait);
              struct Retry {
                StreamManager *self;
                std::string id;
                unsigned attempt;
                guint timer;
              };
              auto *retry = new Retry { this, id, attempt + 1, 0 };
              retry->timer = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, wait,
                  [] (gpointer data) -> gboolean {
                    auto *r = static_cast<Retry *> (data);
                    auto & timers = r->self->settle_timers_;
                    timers.erase (std::remove (timers.begin (), timers.end (), r->timer),
                        timers.end ());
                    r->self->settle_s3 (r->id, r->attempt);
                    return G_SOURCE_REMOVE;
                  }, retry, [] (gpointer data) { delete static_cast<Retry *> (data); });
              settle_timers_.push_back (retry->timer);
            });
      });
}

}  // namespace castline::launcher
