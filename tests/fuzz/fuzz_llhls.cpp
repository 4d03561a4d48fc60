/* libFuzzer target: the query of an LL-HLS playlist request
 * (parse_blocking_request) and what LiveHlsStore::serve does with it.
 *
 * Input: a query string ("_HLS_msn=3&_HLS_part=1&_HLS_skip=YES"), split
 * and %-decoded as the server does, asked of a store that holds a
 * playlist after part 2 of segment 5 (PART-TARGET 0.3 s).
 *
 * Findings: crashes, sanitizer reports and leaks, and broken promises:
 *  - a refusal without a reason, or a parse that takes a value that is not
 *    a plain decimal number (or a skip other than YES/v2);
 *  - serve () answering a query parse_blocking_request refuses with
 *    anything but 400, or one it takes with anything but 200, 400 or a
 *    parked request (503 only when too many are parked). */
#include "hls/livehlsstore.h"

#include <glib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace castline::launcher;
namespace http = castline::http;

static void
broken (const char *what)
{
  fprintf (stderr, "broken promise: %s\n", what);
  abort ();
}

namespace {

/* a deferred answer: parked requests are answered by the store's close */
struct Transport : http::Transport {
  struct Pending : http::PendingResponse {
    void finish (http::Response) override {}
  };
  std::shared_ptr<http::PendingResponse> defer () override { return std::make_shared<Pending> (); }
  std::shared_ptr<http::ResponseStream> start_stream (const http::Response &) override
  {
    return nullptr;
  }
};

bool
plain_decimal (const std::string & v)
{
  if (v.empty ())
    return false;
  for (char c : v)
    if (!g_ascii_isdigit (c))
      return false;
  return true;
}

}  // namespace

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  std::string query (reinterpret_cast<const char *> (data), size);
  if (query.find ('\0') != std::string::npos)
    return 0;
  http::Request req;
  req.method = "GET";
  req.path = "/live/x/index.m3u8";
  g_autoptr (GHashTable) params = g_uri_parse_params (query.c_str (), -1, "&",
      G_URI_PARAMS_NONE, nullptr);
  if (!params)
    return 0;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, params);
  while (g_hash_table_iter_next (&it, &k, &v))
    req.query.emplace (static_cast<const char *> (k), static_cast<const char *> (v));

  BlockingRequest b;
  std::string error;
  bool ok = parse_blocking_request (req, b, error);
  if (!ok && error.empty ())
    broken ("a refusal without a reason");
  if (ok) {
    const char *msn = req.param ("_HLS_msn"), *part = req.param ("_HLS_part");
    const char *skip = req.param ("_HLS_skip");
    if ((msn && !plain_decimal (msn)) || (part && !plain_decimal (part)) || (part && !msn))
      broken ("a value taken that is not a plain decimal number");
    if (skip && strcmp (skip, "YES") != 0 && strcmp (skip, "v2") != 0)
      broken ("a skip other than YES or v2 taken");
  }

  LiveHlsStore store (2.0);
  g_autoptr (GBytes) bytes = g_bytes_new_static ("part", 4);
  store.put_part (5, 2, "seg5.2.m4s", bytes);
  store.put_playlist ("#EXTM3U\n#EXT-X-PART-INF:PART-TARGET=0.3\n#EXT-X-MEDIA-SEQUENCE:0\n"
      "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"seg5.3.m4s\"\n", "", 5, 2, false);
  Transport transport;
  http::Response res (&transport);
  if (!store.serve (req, res, "index.m3u8", HlsServeOptions ()))
    broken ("the store did not take its playlist");
  if (!ok && res.status != 400)
    broken ("a refused query not answered 400");
  if (ok && !res.taken () && res.status != 200 && res.status != 400 && res.status != 503)
    broken ("a query answered neither 200, 400 nor parked");
  store.close ();
  return 0;
}
