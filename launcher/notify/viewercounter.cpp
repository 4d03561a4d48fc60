#include "notify/viewercounter.h"

#include "store/streamstore.h"

#include <algorithm>
#include <cstring>

namespace castline::launcher {

ViewerCounter::Settings
ViewerCounter::settings_for (unsigned hls_target_duration_s)
{
  Settings s;
  s.playlist_window_us = std::max<gint64> (10 * G_USEC_PER_SEC,
      3 * (gint64) hls_target_duration_s * G_USEC_PER_SEC);
  return s;
}

bool
ViewerCounter::valid_viewer_id (const std::string & id)
{
  if (id.empty () || id.size () > 64)
    return false;
  return std::all_of (id.begin (), id.end (), [] (char c) {
        return g_ascii_isalnum (c) || c == '_' || c == '-';
      });
}

ViewerCounter::ViewerCounter (Settings settings)
    : settings_ (settings), hmac_ (nullptr, g_hmac_unref)
{
  /* a key of this run only: the hashes mean nothing outside it */
  std::string key = random_token (32);
  hmac_.reset (g_hmac_new (G_CHECKSUM_SHA256, (const guchar *) key.data (), key.size ()));
}

ViewerCounter::~ViewerCounter () = default;

guint64
ViewerCounter::identity (char kind, const std::string & a, const std::string & b) const
{
  GHmac *h = g_hmac_copy (hmac_.get ());
  /* kind, then a length-prefixed a: "1.2.3.4" + "5x" and "1.2.3.45" + "x"
   * are different viewers */
  guint32 alen = (guint32) a.size ();
  g_hmac_update (h, (const guchar *) &kind, 1);
  g_hmac_update (h, (const guchar *) &alen, sizeof alen);
  g_hmac_update (h, (const guchar *) a.data (), a.size ());
  g_hmac_update (h, (const guchar *) b.data (), b.size ());
  guint8 digest[32];
  gsize len = sizeof digest;
  g_hmac_get_digest (h, digest, &len);
  g_hmac_unref (h);
  guint64 who;
  memcpy (&who, digest, sizeof who);
  return who;
}

void
ViewerCounter::touch (const std::string & stream, Recency Viewers::*kind, guint64 who,
    gint64 now_us)
{
  std::lock_guard<std::mutex> lk (lock_);
  Viewers & v = streams_[stream];
  (v.*kind).touch (who, now_us);
  /* over the bound: the least recently seen of either kind goes */
  while (v.playlist.size () + v.heartbeat.size () > settings_.max_viewers) {
    if (v.heartbeat.empty ()
        || (!v.playlist.empty () && v.playlist.oldest () <= v.heartbeat.oldest ()))
      v.playlist.drop_oldest ();
    else
      v.heartbeat.drop_oldest ();
  }
}

void
ViewerCounter::playlist_request (const std::string & stream, const std::string & address,
    const std::string & user_agent, gint64 now_us)
{
  touch (stream, &Viewers::playlist, identity ('p', address, user_agent), now_us);
}

void
ViewerCounter::heartbeat (const std::string & stream, const std::string & viewer, gint64 now_us)
{
  touch (stream, &Viewers::heartbeat, identity ('h', viewer, ""), now_us);
}

unsigned
ViewerCounter::count (const std::string & stream, gint64 now_us) const
{
  std::lock_guard<std::mutex> lk (lock_);
  auto it = streams_.find (stream);
  if (it == streams_.end ())
    return 0;
  return (unsigned) (it->second.playlist.fresh (now_us - settings_.playlist_window_us)
      + it->second.heartbeat.fresh (now_us - settings_.heartbeat_window_us));
}

void
ViewerCounter::prune (gint64 now_us)
{
  std::lock_guard<std::mutex> lk (lock_);
  for (auto it = streams_.begin (); it != streams_.end ();) {
    it->second.playlist.expire (now_us - settings_.playlist_window_us);
    it->second.heartbeat.expire (now_us - settings_.heartbeat_window_us);
    if (it->second.playlist.empty () && it->second.heartbeat.empty ())
      it = streams_.erase (it);
    else
      ++it;
  }
}

std::vector<std::string>
ViewerCounter::streams () const
{
  std::lock_guard<std::mutex> lk (lock_);
  std::vector<std::string> ids;
  ids.reserve (streams_.size ());
  for (auto & [id, v] : streams_)
    ids.push_back (id);
  return ids;
}

size_t
ViewerCounter::tracked (const std::string & stream) const
{
  std::lock_guard<std::mutex> lk (lock_);
  auto it = streams_.find (stream);
  return it == streams_.end () ? 0 : it->second.playlist.size () + it->second.heartbeat.size ();
}

/* ---- Recency ---- */

void
ViewerCounter::Recency::touch (guint64 who, gint64 now_us)
{
  /* the list stays sorted by time even if a caller's clock steps back */
  if (!order_.empty ())
    now_us = std::max (now_us, order_.back ().last_us);
  auto it = index_.find (who);
  if (it != index_.end ()) {
    it->second->last_us = now_us;
    order_.splice (order_.end (), order_, it->second);
    return;
  }
  order_.push_back ({ who, now_us });
  index_.emplace (who, std::prev (order_.end ()));
}

size_t
ViewerCounter::Recency::fresh (gint64 cutoff_us) const
{
  size_t expired = 0;
  for (auto it = order_.begin (); it != order_.end () && it->last_us <= cutoff_us; ++it)
    expired++;
  return order_.size () - expired;
}

void
ViewerCounter::Recency::expire (gint64 cutoff_us)
{
  while (!order_.empty () && order_.front ().last_us <= cutoff_us)
    drop_oldest ();
}

void
ViewerCounter::Recency::drop_oldest ()
{
  index_.erase (order_.front ().who);
  order_.pop_front ();
}

}  // namespace castline::launcher
