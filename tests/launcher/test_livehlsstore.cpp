/* LiveHlsStore (hls/livehlsstore.h): what an llhlssink hands over, served
 * from memory, with blocking playlist reload (RFC 8216bis 6.2.5) and
 * blocking preload hints. Fed directly here (put_init, put_part, ...),
 * and through follow () by a fake element that declares llhlssink's
 * signals; asked with requests made here, deferred answers caught by
 * routetest's TestTransport. */
#include "hls/livehlsstore.h"
#include "routetest.h"

#include <gst/check/gstcheck.h>

#include <string>

using namespace castline::launcher;
namespace http = castline::http;
using routetest::body_of;
using routetest::header_of;
using routetest::iterate_until;
using routetest::request;
using routetest::TestTransport;

namespace {

const char *const kImmutable = "public, max-age=86400, immutable";

/* a playlist as llhlssink writes one, after part (msn, part), naming
 * segments first..msn, with the next part as its preload hint */
std::string
playlist_after (guint64 first, guint64 msn, guint part, bool ended = false)
{
  std::string p = "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n"
      "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.9,CAN-SKIP-UNTIL=12\n"
      "#EXT-X-PART-INF:PART-TARGET=0.3\n#EXT-X-MEDIA-SEQUENCE:" + std::to_string (first) + "\n"
      "#EXT-X-MAP:URI=\"init.mp4\"\n";
  for (guint64 m = first; m <= msn; m++) {
    guint last = m == msn ? part : 6;
    for (guint k = 0; k <= last; k++)
      p += "#EXT-X-PART:DURATION=0.3,URI=\"seg" + std::to_string (m) + "." + std::to_string (k)
          + ".m4s\"" + (k == 0 ? ",INDEPENDENT=YES" : "") + "\n";
    if (m < msn)
      p += "#EXTINF:2.1,\nseg" + std::to_string (m) + ".m4s\n";
  }
  if (ended)
    p += "#EXT-X-ENDLIST\n";
  else
    p += "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"seg" + std::to_string (msn) + "."
        + std::to_string (part + 1) + ".m4s\"\n";
  return p;
}

std::string
part_name (guint64 msn, guint part)
{
  return "seg" + std::to_string (msn) + "." + std::to_string (part) + ".m4s";
}

/* distinct bytes for each part */
GBytes *
part_bytes (guint64 msn, guint part)
{
  std::string s = "moof+mdat of " + part_name (msn, part) + ";";
  return g_bytes_new (s.data (), s.size ());
}

/* part (msn, part) and the playlist after it, as llhlssink hands them over */
void
feed_part (LiveHlsStore & store, guint64 msn, guint part, guint64 first = 0)
{
  g_autoptr (GBytes) data = part_bytes (msn, part);
  store.put_part (msn, part, "/some/prefix/" + part_name (msn, part), data);
  store.put_playlist (playlist_after (first, msn, part), "", msn, part, false);
}

/* a GET answered through a TestTransport (deferred answers land there) */
struct Call {
  TestTransport transport;
  http::Response res { &transport };
  bool held = false;               /* serve () took it */

  Call (LiveHlsStore & store, const std::string & path, const char *method = "GET",
      std::vector<std::pair<const char *, std::string>> headers = {})
  {
    http::Request req = request (method, path, "", std::move (headers));
    std::string name = req.path.substr (req.path.rfind ('/') + 1);
    held = store.serve (req, res, name, HlsServeOptions ());
  }
  bool parked () const { return res.taken () && !transport.finished; }
  /* the answer, at once or deferred */
  const http::Response & answer () const
  {
    return transport.finished ? *transport.finished : res;
  }
};

}  // namespace

GST_START_TEST (test_parse_blocking_request)
{
  BlockingRequest b;
  std::string error;
  fail_unless (parse_blocking_request (request ("GET", "/index.m3u8"), b, error));
  fail_if (b.msn.has_value () || b.part.has_value () || b.skip);
  fail_unless (parse_blocking_request (
          request ("GET", "/index.m3u8?_HLS_msn=42&_HLS_part=3&_HLS_skip=YES"), b, error));
  fail_unless (b.msn == 42u && b.part == 3u && b.skip);
  fail_unless (parse_blocking_request (request ("GET", "/index.m3u8?_HLS_msn=0&_HLS_skip=v2"),
          b, error));
  fail_unless (b.msn == 0u && !b.part && b.skip);

  const char *const bad[] = {
    "_HLS_msn=", "_HLS_msn=-1", "_HLS_msn=+1", "_HLS_msn=1.5", "_HLS_msn=0x10",
    "_HLS_msn=%201", "_HLS_msn=1%20", "_HLS_msn=abc", "_HLS_msn=99999999999999999999",
    "_HLS_msn=9223372036854775808", "_HLS_part=1", "_HLS_msn=1&_HLS_part=",
    "_HLS_msn=1&_HLS_part=-1", "_HLS_msn=1&_HLS_part=4294967296", "_HLS_msn=1&_HLS_part=x",
    "_HLS_skip=NO", "_HLS_skip=yes", "_HLS_skip=", "_HLS_skip=v3",
  };
  LiveHlsStore store (2.0);
  feed_part (store, 0, 0);
  for (const char *q : bad) {
    error.clear ();
    fail_if (parse_blocking_request (request ("GET", std::string ("/index.m3u8?") + q), b, error),
        "%s was taken", q);
    fail_if (error.empty (), "%s: no reason", q);
    /* and the store answers it 400 at once */
    Call c (store, std::string ("/index.m3u8?") + q);
    fail_unless (c.held);
    fail_unless_equals_int (c.res.status, 400);
  }
  fail_unless_equals_int (store.parked (), 0);
}
GST_END_TEST;

GST_START_TEST (test_blocking_request_is_answered_when_the_part_arrives)
{
  LiveHlsStore store (2.0);
  feed_part (store, 0, 0);
  Call c (store, "/index.m3u8?_HLS_msn=0&_HLS_part=2");
  fail_unless (c.held && c.parked ());
  fail_unless_equals_int (store.parked (), 1);
  /* part 1 is not enough */
  feed_part (store, 0, 1);
  fail_unless (c.parked ());
  feed_part (store, 0, 2);
  fail_if (c.parked ());
  fail_unless_equals_int (c.answer ().status, 200);
  fail_unless (body_of (c.answer ()) == playlist_after (0, 0, 2));
  fail_unless (header_of (c.answer (), "Cache-Control") == "no-cache");
  fail_unless (header_of (c.answer (), "Content-Type") == "application/vnd.apple.mpegurl");
  fail_unless (header_of (c.answer (), "Access-Control-Allow-Origin") == "*");
  fail_unless_equals_int (store.parked (), 0);

  /* _HLS_msn alone waits for the whole segment: a part of the next is
   * not needed, segment_done and the playlist after it are */
  Call whole (store, "/index.m3u8?_HLS_msn=0");
  fail_unless (whole.parked ());
  for (guint k = 3; k <= 6; k++)
    feed_part (store, 0, k);
  fail_unless (whole.parked ());
  store.segment_done (0, "seg0.m4s");
  store.put_playlist (playlist_after (0, 0, 6), "", 0, 6, false);
  fail_if (whole.parked ());
  fail_unless_equals_int (whole.answer ().status, 200);

  /* a part past the segment's last counts as part 0 of the next */
  Call past (store, "/index.m3u8?_HLS_msn=0&_HLS_part=9");
  fail_unless (past.parked ());
  feed_part (store, 1, 0);
  fail_if (past.parked ());
  fail_unless (body_of (past.answer ()) == playlist_after (0, 1, 0));
}
GST_END_TEST;

GST_START_TEST (test_blocking_request_is_answered_at_once_when_the_part_exists)
{
  LiveHlsStore store (2.0);
  feed_part (store, 3, 0);
  feed_part (store, 3, 1);
  for (const char *q : { "_HLS_msn=3&_HLS_part=1", "_HLS_msn=3&_HLS_part=0", "_HLS_msn=2",
           "_HLS_msn=0&_HLS_part=5" }) {
    Call c (store, std::string ("/index.m3u8?") + q);
    fail_unless (c.held);
    fail_if (c.res.taken (), "%s was parked", q);
    fail_unless_equals_int (c.res.status, 200);
    fail_unless (body_of (c.res) == playlist_after (0, 3, 1));
  }
  /* and the plain playlist */
  Call plain (store, "/index.m3u8");
  fail_unless_equals_int (plain.res.status, 200);
}
GST_END_TEST;

GST_START_TEST (test_blocking_request_gets_503_after_three_target_durations)
{
  /* target 0.2 s: parked at most 0.6 s */
  LiveHlsStore store (0.2);
  feed_part (store, 0, 0);
  gint64 start = g_get_monotonic_time ();
  Call c (store, "/index.m3u8?_HLS_msn=0&_HLS_part=1");
  Call hinted (store, "/" + part_name (0, 1));
  fail_unless (c.parked () && hinted.parked ());
  /* not before its time */
  iterate_until ([] { return false; }, 300);
  fail_unless (c.parked () && hinted.parked ());
  fail_unless (iterate_until ([&] { return !c.parked () && !hinted.parked (); }, 10000));
  fail_unless (g_get_monotonic_time () - start >= 600 * 1000);
  fail_unless_equals_int (c.answer ().status, 503);
  fail_unless_equals_int (hinted.answer ().status, 503);
  fail_unless (header_of (c.answer (), "Access-Control-Allow-Origin") == "*");
  fail_unless_equals_int (store.parked (), 0);
}
GST_END_TEST;

GST_START_TEST (test_msn_or_part_too_far_ahead_gets_400)
{
  LiveHlsStore store (2.0);
  feed_part (store, 5, 2);
  /* msn more than two ahead of the playlist's last */
  Call far (store, "/index.m3u8?_HLS_msn=8");
  fail_unless_equals_int (far.res.status, 400);
  Call far_part (store, "/index.m3u8?_HLS_msn=8&_HLS_part=0");
  fail_unless_equals_int (far_part.res.status, 400);
  /* two ahead is waited for */
  Call near (store, "/index.m3u8?_HLS_msn=7");
  fail_unless (near.parked ());
  /* the advance part limit: 3 / PART-TARGET (0.3 s) = 10 parts */
  Call parts (store, "/index.m3u8?_HLS_msn=5&_HLS_part=13");
  fail_unless_equals_int (parts.res.status, 400);
  Call limit (store, "/index.m3u8?_HLS_msn=5&_HLS_part=12");
  fail_unless (limit.parked ());
  Call next (store, "/index.m3u8?_HLS_msn=6&_HLS_part=11");
  fail_unless_equals_int (next.res.status, 400);
  fail_unless_equals_int (store.parked (), 2);
}
GST_END_TEST;

GST_START_TEST (test_skip_gives_the_delta_playlist)
{
  LiveHlsStore store (2.0);
  feed_part (store, 0, 0);
  /* no delta yet: the whole playlist */
  Call full (store, "/index.m3u8?_HLS_skip=YES");
  fail_unless_equals_int (full.res.status, 200);
  fail_unless (body_of (full.res) == playlist_after (0, 0, 0));
  g_autoptr (GBytes) data = part_bytes (9, 0);
  store.put_part (9, 0, part_name (9, 0), data);
  std::string delta = "#EXTM3U\n#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n";
  store.put_playlist (playlist_after (0, 9, 0), delta, 9, 0, false);
  for (const char *q : { "_HLS_skip=YES", "_HLS_skip=v2", "_HLS_msn=9&_HLS_part=0&_HLS_skip=YES" }) {
    Call c (store, std::string ("/index.m3u8?") + q);
    fail_unless_equals_int (c.res.status, 200);
    fail_unless (body_of (c.res) == delta, "%s", q);
  }
  Call plain (store, "/index.m3u8");
  fail_unless (body_of (plain.res) == playlist_after (0, 9, 0));
  /* a parked one gets the delta too */
  Call parked (store, "/index.m3u8?_HLS_msn=9&_HLS_part=1&_HLS_skip=YES");
  fail_unless (parked.parked ());
  g_autoptr (GBytes) next = part_bytes (9, 1);
  store.put_part (9, 1, part_name (9, 1), next);
  store.put_playlist (playlist_after (0, 9, 1), delta + "#1\n", 9, 1, false);
  fail_unless (body_of (parked.answer ()) == delta + "#1\n");
}
GST_END_TEST;

GST_START_TEST (test_preload_hint_part_is_held_then_served)
{
  LiveHlsStore store (2.0);
  feed_part (store, 0, 0);
  Call get (store, "/" + part_name (0, 1));
  Call head (store, "/" + part_name (0, 1), "HEAD");
  fail_unless (get.parked () && head.parked ());
  /* a name no hint announces is not the store's */
  Call other (store, "/" + part_name (0, 2));
  fail_if (other.held);
  g_autoptr (GBytes) data = part_bytes (0, 1);
  store.put_part (0, 1, part_name (0, 1), data);
  fail_if (get.parked () || head.parked ());
  fail_unless_equals_int (get.answer ().status, 200);
  fail_unless (get.answer ().body.size () == g_bytes_get_size (data));
  fail_unless (body_of (get.answer ()) == std::string (static_cast<const char *> (
              g_bytes_get_data (data, nullptr)), g_bytes_get_size (data)));
  fail_unless (header_of (get.answer (), "Cache-Control") == kImmutable);
  fail_unless (header_of (get.answer (), "Content-Type") == "video/iso.segment");
  fail_unless_equals_int (head.answer ().status, 200);

  /* a held hint the next playlist no longer announces: 404 */
  store.put_playlist (playlist_after (0, 0, 1), "", 0, 1, false);
  Call gone (store, "/" + part_name (0, 2));
  fail_unless (gone.parked ());
  store.segment_done (0, "seg0.m4s");
  store.put_playlist ("#EXTM3U\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"seg1.0.m4s\"\n", "", 0, 1,
      false);
  fail_if (gone.parked ());
  fail_unless_equals_int (gone.answer ().status, 404);
}
GST_END_TEST;

GST_START_TEST (test_init_parts_and_segments_are_served_from_memory)
{
  LiveHlsStore store (2.0);
  g_autoptr (GBytes) init = g_bytes_new_static ("ftyp+moov", 9);
  store.put_init ("prefix/init.mp4", init);
  std::string whole;
  for (guint k = 0; k < 3; k++) {
    feed_part (store, 0, k);
    g_autoptr (GBytes) b = part_bytes (0, k);
    whole.append (static_cast<const char *> (g_bytes_get_data (b, nullptr)), g_bytes_get_size (b));
  }
  store.segment_done (0, "seg0.m4s");
  Call i (store, "/init.mp4");
  fail_unless_equals_int (i.res.status, 200);
  fail_unless (body_of (i.res) == "ftyp+moov");
  fail_unless (header_of (i.res, "Content-Type") == "video/mp4");
  fail_unless (header_of (i.res, "Cache-Control") == kImmutable);
  Call seg (store, "/seg0.m4s");
  fail_unless_equals_int (seg.res.status, 200);
  fail_unless (body_of (seg.res) == whole);
  /* the parts, now slices of the segment, are the same bytes */
  Call p1 (store, "/" + part_name (0, 1));
  g_autoptr (GBytes) b1 = part_bytes (0, 1);
  fail_unless (body_of (p1.res) == std::string (static_cast<const char *> (
              g_bytes_get_data (b1, nullptr)), g_bytes_get_size (b1)));
  /* single byte ranges */
  Call range (store, "/seg0.m4s", "GET", { { "Range", "bytes=2-5" } });
  fail_unless_equals_int (range.res.status, 206);
  fail_unless (body_of (range.res) == whole.substr (2, 4));
  fail_unless (header_of (range.res, "Content-Range")
      == "bytes 2-5/" + std::to_string (whole.size ()));
  Call beyond (store, "/" + part_name (0, 1), "GET", { { "Range", "bytes=9999-" } });
  fail_unless_equals_int (beyond.res.status, 416);
  Call options (store, "/seg0.m4s", "OPTIONS");
  fail_unless_equals_int (options.res.status, 204);
  Call post (store, "/seg0.m4s", "POST");
  fail_unless_equals_int (post.res.status, 405);

  /* delete-fragment lets the segment and its parts go */
  store.drop_segment (0);
  Call after (store, "/seg0.m4s");
  fail_if (after.held);
  Call part_after (store, "/" + part_name (0, 1));
  fail_if (part_after.held);
  /* init stays */
  Call i2 (store, "/init.mp4");
  fail_unless (i2.held);
}
GST_END_TEST;

GST_START_TEST (test_segments_older_than_the_playlist_leave)
{
  LiveHlsStore store (2.0);
  for (guint64 m = 0; m < 4; m++) {
    feed_part (store, m, 0);
    store.segment_done (m, "seg" + std::to_string (m) + ".m4s");
  }
  Call kept (store, "/seg1.m4s");
  fail_unless (kept.held);
  /* no delete-fragment came, the playlist now starts at 2 */
  feed_part (store, 4, 0, 2);
  Call dropped (store, "/seg1.m4s");
  fail_if (dropped.held);
  Call dropped_part (store, "/" + part_name (0, 0));
  fail_if (dropped_part.held);
  Call still (store, "/seg2.m4s");
  fail_unless (still.held);
}
GST_END_TEST;

GST_START_TEST (test_close_answers_parked_requests)
{
  LiveHlsStore store (30.0);
  feed_part (store, 0, 0);
  Call waiting (store, "/index.m3u8?_HLS_msn=0&_HLS_part=1");
  Call hinted (store, "/" + part_name (0, 1));
  fail_unless (waiting.parked () && hinted.parked ());
  store.close ();
  fail_if (waiting.parked () || hinted.parked ());
  fail_unless_equals_int (waiting.answer ().status, 200);
  fail_unless (body_of (waiting.answer ()) == playlist_after (0, 0, 0));
  fail_unless_equals_int (hinted.answer ().status, 404);
  fail_unless_equals_int (store.parked (), 0);
  /* the disk has the rest */
  Call after (store, "/index.m3u8");
  fail_if (after.held);
  feed_part (store, 0, 1);
  Call fed (store, "/" + part_name (0, 1));
  fail_if (fed.held);
}
GST_END_TEST;

GST_START_TEST (test_ended_playlist_answers_every_blocking_request)
{
  LiveHlsStore store (30.0);
  feed_part (store, 0, 0);
  Call waiting (store, "/index.m3u8?_HLS_msn=2&_HLS_part=0");
  fail_unless (waiting.parked ());
  store.segment_done (0, "seg0.m4s");
  store.put_playlist (playlist_after (0, 0, 0, true), "", 0, 0, true);
  fail_if (waiting.parked ());
  fail_unless_equals_int (waiting.answer ().status, 200);
  Call later (store, "/index.m3u8?_HLS_msn=2");
  fail_unless_equals_int (later.res.status, 200);
}
GST_END_TEST;

GST_START_TEST (test_registry_finds_and_removes_streams)
{
  LiveHlsRegistry registry;
  auto own = std::make_shared<LiveHlsStore> (2.0);
  auto rung = std::make_shared<LiveHlsStore> (2.0);
  auto other = std::make_shared<LiveHlsStore> (2.0);
  registry.add ("a", "", own);
  registry.add ("a", "720p", rung);
  registry.add ("ab", "", other);
  fail_unless (registry.find ("a", "") == own);
  fail_unless (registry.find ("a", "720p") == rung);
  fail_unless (registry.find ("a", "360p") == nullptr);
  feed_part (*rung, 0, 0);
  Call parked (*rung, "/index.m3u8?_HLS_msn=1");
  fail_unless (parked.parked ());
  registry.remove_stream ("a");
  fail_unless (registry.find ("a", "") == nullptr && registry.find ("a", "720p") == nullptr);
  fail_unless (registry.find ("ab", "") == other);
  /* closed: the parked request has its answer */
  fail_if (parked.parked ());
  Call after (*rung, "/index.m3u8");
  fail_if (after.held);
}
GST_END_TEST;

/* ---- follow (): a fake element with llhlssink's signals ---- */

struct FakeLlHls {
  GstBin parent;
  gchar *playlist_location;
};
struct FakeLlHlsClass {
  GstBinClass parent_class;
};

G_DEFINE_TYPE (FakeLlHls, fake_llhls, GST_TYPE_BIN);

static void
fake_llhls_get_property (GObject * object, guint, GValue * value, GParamSpec *)
{
  g_value_set_string (value, reinterpret_cast<FakeLlHls *> (object)->playlist_location);
}

static void
fake_llhls_set_property (GObject * object, guint, const GValue * value, GParamSpec *)
{
  auto *self = reinterpret_cast<FakeLlHls *> (object);
  g_free (self->playlist_location);
  self->playlist_location = g_value_dup_string (value);
}

static void
fake_llhls_finalize (GObject * object)
{
  g_free (reinterpret_cast<FakeLlHls *> (object)->playlist_location);
  G_OBJECT_CLASS (fake_llhls_parent_class)->finalize (object);
}

static void
fake_llhls_class_init (FakeLlHlsClass * klass)
{
  GObjectClass *o = G_OBJECT_CLASS (klass);
  o->get_property = fake_llhls_get_property;
  o->set_property = fake_llhls_set_property;
  o->finalize = fake_llhls_finalize;
  g_object_class_install_property (o, 1, g_param_spec_string ("playlist-location", "", "",
          nullptr, G_PARAM_READWRITE));
  GType t = G_TYPE_FROM_CLASS (klass);
  /* the signatures gstllhlssink.h gives */
  g_signal_new ("init-ready", t, G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr,
      G_TYPE_NONE, 1, G_TYPE_BYTES);
  g_signal_new ("part-ready", t, G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr,
      G_TYPE_NONE, 6, G_TYPE_UINT64, G_TYPE_UINT, G_TYPE_BYTES, G_TYPE_BOOLEAN, G_TYPE_DOUBLE,
      G_TYPE_STRING);
  g_signal_new ("segment-ready", t, G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr,
      G_TYPE_NONE, 3, G_TYPE_UINT64, G_TYPE_DOUBLE, G_TYPE_STRING);
  g_signal_new ("playlist-ready", t, G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr,
      G_TYPE_NONE, 5, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_UINT64, G_TYPE_UINT, G_TYPE_BOOLEAN);
  g_signal_new ("delete-fragment", t, G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_UINT64);
}

static void
fake_llhls_init (FakeLlHls *)
{
}

GST_START_TEST (test_follow_takes_what_the_signals_carry)
{
  GstElement *sink = GST_ELEMENT (g_object_new (fake_llhls_get_type (),
          "playlist-location", "/tmp/x/live.m3u8", nullptr));
  gst_object_ref_sink (sink);
  auto store = std::make_unique<LiveHlsStore> (30.0);
  store->follow (sink);
  g_autoptr (GBytes) init = g_bytes_new_static ("ftyp+moov", 9);
  g_signal_emit_by_name (sink, "init-ready", init);
  g_autoptr (GBytes) p0 = part_bytes (0, 0);
  g_autoptr (GBytes) p1 = part_bytes (0, 1);
  std::string n0 = part_name (0, 0), n1 = part_name (0, 1);
  g_signal_emit_by_name (sink, "part-ready", (guint64) 0, 0u, p0, TRUE, 0.3, n0.c_str ());
  std::string pl0 = playlist_after (0, 0, 0);
  g_signal_emit_by_name (sink, "playlist-ready", pl0.c_str (), nullptr, (guint64) 0, 0u, FALSE);

  Call list (*store, "/live.m3u8");
  fail_unless_equals_int (list.res.status, 200);
  fail_unless (body_of (list.res) == pl0);
  Call i (*store, "/init.mp4");
  fail_unless (body_of (i.res) == "ftyp+moov");
  Call waiting (*store, "/live.m3u8?_HLS_msn=0&_HLS_part=1");
  fail_unless (waiting.parked ());

  g_signal_emit_by_name (sink, "part-ready", (guint64) 0, 1u, p1, FALSE, 0.3, n1.c_str ());
  g_signal_emit_by_name (sink, "segment-ready", (guint64) 0, 0.6, "seg0.m4s");
  std::string pl1 = playlist_after (0, 0, 1);
  g_signal_emit_by_name (sink, "playlist-ready", pl1.c_str (), "#EXTM3U\n", (guint64) 0, 1u,
      FALSE);
  fail_unless (body_of (waiting.answer ()) == pl1);
  Call seg (*store, "/seg0.m4s");
  fail_unless_equals_int (seg.res.status, 200);
  Call delta (*store, "/live.m3u8?_HLS_skip=YES");
  fail_unless (body_of (delta.res) == "#EXTM3U\n");
  /* a second init after a caps change: init1.mp4 */
  g_autoptr (GBytes) init1 = g_bytes_new_static ("ftyp+moov 2", 11);
  g_signal_emit_by_name (sink, "init-ready", init1);
  Call i1 (*store, "/init1.mp4");
  fail_unless (body_of (i1.res) == "ftyp+moov 2");

  g_signal_emit_by_name (sink, "delete-fragment", "seg0.m4s", (guint64) 0);
  Call gone (*store, "/seg0.m4s");
  fail_if (gone.held);

  /* the store may go before the element: its signals then do nothing */
  store.reset ();
  g_signal_emit_by_name (sink, "part-ready", (guint64) 1, 0u, p0, TRUE, 0.3, "seg1.0.m4s");
  gst_object_unref (sink);
}
GST_END_TEST;

static Suite *
livehlsstore_suite ()
{
  Suite *s = suite_create ("livehlsstore");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_parse_blocking_request);
  tcase_add_test (tc, test_blocking_request_is_answered_when_the_part_arrives);
  tcase_add_test (tc, test_blocking_request_is_answered_at_once_when_the_part_exists);
  tcase_add_test (tc, test_blocking_request_gets_503_after_three_target_durations);
  tcase_add_test (tc, test_msn_or_part_too_far_ahead_gets_400);
  tcase_add_test (tc, test_skip_gives_the_delta_playlist);
  tcase_add_test (tc, test_preload_hint_part_is_held_then_served);
  tcase_add_test (tc, test_init_parts_and_segments_are_served_from_memory);
  tcase_add_test (tc, test_segments_older_than_the_playlist_leave);
  tcase_add_test (tc, test_close_answers_parked_requests);
  tcase_add_test (tc, test_ended_playlist_answers_every_blocking_request);
  tcase_add_test (tc, test_registry_finds_and_removes_streams);
  tcase_add_test (tc, test_follow_takes_what_the_signals_carry);
  return s;
}

GST_CHECK_MAIN (livehlsstore);
