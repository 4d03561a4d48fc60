#include "hls/playlistendretry.h"

#include "hls/playlistend.h"

namespace castline::launcher {

namespace {

constexpr const char *kWhy = "its stream failed";

}  // namespace

void
PlaylistEndRetry::end (const std::string & dir)
{
  if (end_local_playlists (dir, kWhy, true))
    return;
  g_warning ("%s: the playlists of the failed stream cannot be ended yet (no room to write "
      "them?); tried again until they can", dir.c_str ());
  dirs_.insert (dir);
  retry_.start ();
}

bool
PlaylistEndRetry::retry ()
{
  for (auto it = dirs_.begin (); it != dirs_.end ();) {
    /* a folder removed meanwhile has nothing left to end */
    bool gone = !g_file_test (it->c_str (), G_FILE_TEST_IS_DIR);
    it = gone || end_local_playlists (*it, kWhy, true) ? dirs_.erase (it) : std::next (it);
  }
  return dirs_.empty ();
}

}  // namespace castline::launcher
