#include "hls/playlistendretry.h"

#include "hls/playlistend.h"

#include <algorithm>

namespace castline::launcher {

namespace {

constexpr const char *kWhy = "its stream failed";

}  // namespace

PlaylistEndRetry::~PlaylistEndRetry ()
{
  if (timer_)
    g_source_remove (timer_);
}

void
PlaylistEndRetry::end (const std::string & dir)
{
  if (end_local_playlists (dir, kWhy, true))
    return;
  g_warning ("%s: the playlists of the failed stream cannot be ended yet (no room to write "
      "them?); tried again until they can", dir.c_str ());
  dirs_.insert (dir);
  if (!timer_) {
    wait_s_ = kFirstWaitS;
    arm ();
  }
}

void
PlaylistEndRetry::retry ()
{
  for (auto it = dirs_.begin (); it != dirs_.end ();) {
    /* a folder removed meanwhile has nothing left to end */
    bool gone = !g_file_test (it->c_str (), G_FILE_TEST_IS_DIR);
    it = gone || end_local_playlists (*it, kWhy, true) ? dirs_.erase (it) : std::next (it);
  }
  if (dirs_.empty ())
    return;
  wait_s_ = std::min (wait_s_ * 2, kMaxWaitS);
  arm ();
}

void
PlaylistEndRetry::arm ()
{
  timer_ = g_timeout_add_seconds (wait_s_, [] (gpointer data) -> gboolean {
        auto *self = static_cast<PlaylistEndRetry *> (data);
        self->timer_ = 0;              /* this source is over */
        self->retry ();
        return G_SOURCE_REMOVE;
      }, this);
}

}  // namespace castline::launcher
