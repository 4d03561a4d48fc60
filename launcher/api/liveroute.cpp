#include "api/liveroute.h"

#include "api/hlsfiles.h"
#include "hls/livehlsstore.h"
#include "common/http/replies.h"

namespace castline::launcher {

bool
LiveRoute::redirect_to_files_node (const http::Request & req, http::Response & res,
    const std::string & id) const
{
  /* with local output a stream's files are on the node that runs it (or
   * ran it): it answers, whichever node the player asked */
  const ClusterNode *cluster = manager_.cluster ();
  std::string node = cluster && !manager_.config ().s3.enabled () ? cluster->files_node_url (id) : "";
  if (node.empty () || manager_.live_hls ().find (id, ""))
    return false;
  std::string url = node + req.path;
  char sep = '?';
  for (const auto & [k, v] : req.query) {
    g_autofree gchar *ek = g_uri_escape_string (k.c_str (), nullptr, FALSE);
    g_autofree gchar *ev = g_uri_escape_string (v.c_str (), nullptr, FALSE);
    url += sep + std::string (ek) + "=" + ev;
    sep = '&';
  }
  res.headers.set ("Location", url);
  res.headers.set ("Cache-Control", "no-store");
  http::reply_error (res, 302, "served by node " + node);
  return true;
}

void
LiveRoute::handle (const http::Request & req, http::Response & res)
{
  std::string id, file;
  if (!http::split_path (req.path, "/live/", id, file) || !valid_stream_id (id)) {
    http::reply_error (res, 400, "not a stream id");
    return;
  }
  if (redirect_to_files_node (req, res, id))
    return;
  HlsServeOptions options;
  options.cors_origin = manager_.config ().cors_origin;
  /* file, or rung/file of an abr stream: from the output's LL-HLS store
   * when it holds the file (it may park a blocking playlist request, and
   * answer it later), from the disk otherwise */
  size_t slash = file.find ('/');
  std::string rung = slash == std::string::npos ? "" : file.substr (0, slash);
  std::string name = slash == std::string::npos ? file : file.substr (slash + 1);
  /* bad _HLS_ directives are 400 whoever answers: the store, or the disk
   * (a stream that just ended, a classic playlist) */
  BlockingRequest directives;
  std::string bad;
  if (g_str_has_suffix (name.c_str (), ".m3u8") && !parse_blocking_request (req, directives, bad)) {
    http::reply_error (res, 400, bad);
    return;
  }
  auto store = manager_.live_hls ().find (id, rung);
  if (!store || !store->serve (req, res, name, options))
    serve_hls_path (req, res, manager_.hls_dir (id), file, options);
  /* a parked playlist request is a viewer polling, whatever it gets */
  bool answered = res.taken () || res.status == 200 || res.status == 206;
  if (!req.is ("GET") || !answered || !g_str_has_suffix (file.c_str (), ".m3u8"))
    return;
  gint64 now = g_get_monotonic_time ();
  const char *viewer = req.param ("viewer");
  if (viewer && ViewerCounter::valid_viewer_id (viewer)) {
    viewers_.heartbeat (id, viewer, now);
    return;
  }
  const char *ua = req.header ("User-Agent");
  viewers_.playlist_request (id, req.remote_host, ua ? ua : "", now);
}

}  // namespace castline::launcher
