#include "hls/playlistdates.h"

#include "s3/s3outputstream.h"

namespace castline::launcher {

std::shared_ptr<PlaylistDates>
PlaylistDates::attach (GstElement * hlssink2, const std::string & playlist)
{
  auto dates = std::make_shared<PlaylistDates> ();
  dates->path_ = playlist;
  /* RUN_LAST with a first-wins accumulator: this stream, not hlssink2's
   * own file, gets the playlist */
  g_signal_connect_data (hlssink2, "get-playlist-stream",
      G_CALLBACK (+[] (GstElement *, const gchar *, gpointer data) -> GOutputStream * {
        std::shared_ptr<PlaylistDates> d = *static_cast<std::shared_ptr<PlaylistDates> *> (data);
        return castline_s3_output_stream_new ([d] (GBytes * bytes, GError ** error) {
              return d->write (bytes, error);
            });
      }), new std::shared_ptr<PlaylistDates> (dates),
      [] (gpointer data, GClosure *) { delete static_cast<std::shared_ptr<PlaylistDates> *> (data); },
      (GConnectFlags) 0);
  return dates;
}

/* hlssink2's streaming thread: a local file of a few hundred bytes */
bool
PlaylistDates::write (GBytes * playlist, GError ** error)
{
  gsize n = 0;
  const char *data = static_cast<const char *> (g_bytes_get_data (playlist, &n));
  std::string text = dates_.rewrite (std::string (data ? data : "", n));
  /* a temporary file renamed over the old one: never seen half written */
  return g_file_set_contents (path_.c_str (), text.data (), (gssize) text.size (), error);
}

}  // namespace castline::launcher
