#include "hls/livehlsstore.h"

#include "common/http/replies.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <ctime>
#include <deque>
#include <list>
#include <utility>
#include <vector>

GST_DEBUG_CATEGORY_STATIC (castline_livehls_debug);
#define GST_CAT_DEFAULT castline_livehls_debug

namespace castline::launcher {

namespace {

/* safety nets for a feed that never says what left its playlist: */
constexpr size_t kMaxSegments = 64;     /* segments held */
constexpr guint kMaxParts = 1024;       /* parts of one segment */
constexpr size_t kMaxInits = 4;         /* init segments (one per caps change) */
/* requests parked at once, over every stream; past it a blocking request
 * gets 503 at once (the server's connection limit comes first by default) */
constexpr size_t kMaxParked = 20000;

void
init_debug ()
{
  static gsize done = 0;
  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (castline_livehls_debug, "castline-livehls", 0,
        "castline's in-memory LL-HLS store");
    g_once_init_leave (&done, 1);
  }
}

std::atomic<size_t> parked_everywhere { 0 };

/* the name a URI of the playlist is requested by: what follows its last
 * '/' (a playlist-uri-prefix is the client's business) */
std::string
name_of (const std::string & uri)
{
  size_t slash = uri.rfind ('/');
  return slash == std::string::npos ? uri : uri.substr (slash + 1);
}

/* a plain decimal number (RFC 8216bis 4.2: decimal-integer, 0 to
 * 2^64-1), at most max */
bool
parse_decimal (const char *text, guint64 max, guint64 & out)
{
  if (!text || !*text || strlen (text) > 20)
    return false;
  guint64 v = 0;
  for (const char *p = text; *p; p++) {
    if (!g_ascii_isdigit (*p))
      return false;
    guint d = *p - '0';
    if (v > (max - d) / 10)
      return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

/* the value of `attribute=` in the line of playlist that starts with tag
 * (the last such line), without quotes; "" when there is none */
std::string
tag_attribute (std::string_view playlist, std::string_view tag, std::string_view attribute)
{
  size_t at = playlist.rfind (tag);
  while (at != std::string_view::npos && at > 0 && playlist[at - 1] != '\n')
    at = at > 0 ? playlist.rfind (tag, at - 1) : std::string_view::npos;
  if (at == std::string_view::npos)
    return "";
  size_t end = playlist.find ('\n', at);
  std::string_view line = playlist.substr (at + tag.size (),
      end == std::string_view::npos ? std::string_view::npos : end - at - tag.size ());
  /* attributes follow "TAG:"; attribute names are matched whole */
  for (size_t pos = 0; pos < line.size ();) {
    size_t eq = line.find ('=', pos);
    if (eq == std::string_view::npos)
      break;
    std::string_view key = line.substr (pos, eq - pos);
    while (!key.empty () && (key.front () == ':' || key.front () == ',' || key.front () == ' '))
      key.remove_prefix (1);
    size_t vstart = eq + 1, vend;
    if (vstart < line.size () && line[vstart] == '"') {
      vstart++;
      vend = line.find ('"', vstart);
      if (vend == std::string_view::npos)
        vend = line.size ();
      pos = vend + 1;
    } else {
      vend = line.find (',', vstart);
      if (vend == std::string_view::npos)
        vend = line.size ();
      pos = vend;
    }
    if (key == attribute)
      return std::string (line.substr (vstart, vend - vstart));
  }
  return "";
}

/* the number after tag at a line start ("#EXT-X-MEDIA-SEQUENCE:"), if any */
std::optional<guint64>
tag_number (std::string_view playlist, std::string_view tag)
{
  size_t at = 0;
  while ((at = playlist.find (tag, at)) != std::string_view::npos) {
    if (at == 0 || playlist[at - 1] == '\n') {
      size_t end = playlist.find_first_of ("\r\n", at);
      std::string digits (playlist.substr (at + tag.size (),
          end == std::string_view::npos ? std::string_view::npos : end - at - tag.size ()));
      guint64 v;
      if (parse_decimal (digits.c_str (), G_MAXUINT64, v))
        return v;
      return std::nullopt;
    }
    at += tag.size ();
  }
  return std::nullopt;
}

struct Part {
  std::string name;
  http::Bytes data;
};

struct Segment {
  std::string name;                /* "" until complete */
  std::vector<Part> parts;         /* by part index; a complete segment's are slices of whole */
  http::Bytes whole;               /* the parts concatenated, once complete */
  time_t mtime = 0;
};

struct Init {
  http::Bytes data;
  time_t mtime = 0;
};

/* a request waiting: a blocking playlist reload, or a part its preload
 * hint announced */
struct Parked {
  http::Request req;
  HlsServeOptions options;
  std::shared_ptr<http::PendingResponse> pending;
  gint64 deadline = 0;             /* monotonic, us */
  bool playlist = false;
  BlockingRequest want;            /* for a playlist */
  std::string name;                /* for a part */
};

/* an answer given once the store's lock is released */
struct Answer {
  std::shared_ptr<http::PendingResponse> pending;
  http::Response res;
};

void
send (std::vector<Answer> & answers)
{
  for (Answer & a : answers)
    a.pending->finish (std::move (a.res));
  answers.clear ();
}

void
reply_unavailable (const HlsServeOptions & options, http::Response & res, const char *why)
{
  add_hls_cors (res.headers, options);
  res.headers.set ("Cache-Control", "no-cache");
  http::reply_plain_text (res, 503, why);
}

}  // namespace

bool
parse_blocking_request (const http::Request & req, BlockingRequest & out, std::string & error)
{
  out = BlockingRequest ();
  const char *msn = req.param ("_HLS_msn");
  const char *part = req.param ("_HLS_part");
  const char *skip = req.param ("_HLS_skip");
  guint64 v = 0;
  if (msn) {
    if (!parse_decimal (msn, G_MAXINT64, v)) {
      error = "_HLS_msn is not a decimal number";
      return false;
    }
    out.msn = v;
  }
  if (part) {
    /* RFC 8216bis 6.2.5.2: "It is an error for the client to include an
     * _HLS_part directive without an _HLS_msn directive." */
    if (!msn) {
      error = "_HLS_part needs _HLS_msn";
      return false;
    }
    if (!parse_decimal (part, G_MAXUINT, v)) {
      error = "_HLS_part is not a decimal number";
      return false;
    }
    out.part = (guint) v;
  }
  if (skip) {
    /* 6.2.5.1: "YES" skips segments, "v2" date ranges too (we write
     * none, so both get the same delta) */
    if (strcmp (skip, "YES") != 0 && strcmp (skip, "v2") != 0) {
      error = "_HLS_skip is neither YES nor v2";
      return false;
    }
    out.skip = true;
  }
  return true;
}

struct LiveHlsStore::State {
  explicit State (double target) : target_duration (target > 0 ? target : 2.0) {}

  const double target_duration;
  GSource *timer = nullptr;        /* expires parked requests; on the creating thread's context */

  mutable std::mutex lock;         /* below */
  bool closed = false;
  std::string playlist_name = "index.m3u8";
  std::string init_stem = "init";  /* follow (): init-location's name without .mp4 */
  unsigned inits_seen = 0;
  std::map<std::string, Init> inits;
  std::deque<std::string> init_order;
  std::map<guint64, Segment> segments;
  /* every held name: (msn, part index), part -1 for the whole segment */
  std::map<std::string, std::pair<guint64, gint>> names;
  std::optional<guint64> last_complete;  /* the last segment_done */

  /* the playlist as last handed over */
  bool have_playlist = false;
  http::Bytes playlist, delta;
  time_t playlist_mtime = 0;
  guint64 last_msn = 0;            /* the part it announced last */
  guint last_part = 0;
  bool ended = false;
  std::optional<guint64> complete_msn;   /* the last segment it names whole */
  double part_target = 0;          /* its EXT-X-PART-INF */
  std::string hint;                /* its preload hint's part, by name */

  std::list<Parked> parked;
  gint64 timer_at = -1;            /* the timer's ready time, -1: off */

  /* feeding (LiveHlsStore's, and follow ()'s handlers) */
  void put_init (const std::string & name, GBytes * init);
  void put_part (guint64 msn, guint part, const std::string & uri, GBytes * data);
  void segment_done (guint64 msn, const std::string & uri);
  void put_playlist (const std::string & text, const std::string & delta_text, guint64 msn,
      guint part, bool is_ended);
  void drop_segment (guint64 msn);

  /* ---- under lock ---- */

  void
  forget_segment (std::map<guint64, Segment>::iterator it)
  {
    for (const Part & p : it->second.parts)
      names.erase (p.name);
    if (!it->second.name.empty ())
      names.erase (it->second.name);
    segments.erase (it);
  }

  /* RFC 8216bis 6.2.5.2: "the server MUST hold the request until the
   * Playlist contains a Media Segment with Media Sequence Number of M or
   * later or a Partial Segment with a Part Index of P or later of Media
   * Segment M" (with _HLS_part); and "If the _HLS_part is greater than the
   * Part Index of the last Partial Segment of the Parent Segment, the
   * Server MUST treat the request as one for Part Index 0 of the following
   * Parent Segment": a later segment having begun satisfies any part of M. */
  bool
  satisfies (const BlockingRequest & want) const
  {
    if (!want.msn || ended)
      return true;
    guint64 m = *want.msn;
    if (last_msn > m)
      return true;
    if (!want.part)
      return complete_msn && *complete_msn >= m;
    return last_msn == m && last_part >= *want.part;
  }

  /* 6.2.5.2: "If the _HLS_msn is greater than the Media Sequence Number
   * of the last Media Segment in the current Playlist plus two, or if the
   * _HLS_part exceeds the last Partial Segment in the current Playlist by
   * the Advance Part Limit, then the server SHOULD immediately return Bad
   * Request, such as HTTP 400. The Advance Part Limit is three divided by
   * the Part Target Duration if the Part Target Duration is less than one
   * second, or three otherwise." The last segment is the one whose parts
   * the playlist names last; parts are counted within it, and from the
   * start of a later segment (the parts per segment vary). */
  bool
  too_far_ahead (const BlockingRequest & want) const
  {
    if (!want.msn || ended)
      return false;
    guint64 m = *want.msn;
    if (m > last_msn && m - last_msn > 2)
      return true;
    if (!want.part || m < last_msn)
      return false;
    guint limit = part_target > 0 && part_target < 1 ? (guint) std::ceil (3 / part_target - 1e-9) : 3;
    guint64 from = m == last_msn ? last_part : 0;
    return *want.part > from + limit;
  }

  /* the playlist, or its delta for _HLS_skip (the whole one while there
   * is none: 6.2.5.1 lets the server answer a full playlist) */
  void
  answer_playlist (const http::Request & req, const HlsServeOptions & options, bool skip,
      http::Response & res) const
  {
    const http::Bytes & body = skip && delta.get () ? delta : playlist;
    serve_hls_bytes (req, res, playlist_name, body, playlist_mtime, options);
  }

  /* the timer is due at the earliest deadline */
  void
  arm_timer ()
  {
    gint64 next = -1;
    for (const Parked & p : parked)
      if (next < 0 || p.deadline < next)
        next = p.deadline;
    if (next != timer_at && timer) {
      timer_at = next;
      g_source_set_ready_time (timer, next);
    }
  }

  void
  take (std::list<Parked>::iterator it, http::Response res, std::vector<Answer> & out)
  {
    out.push_back ({ std::move (it->pending), std::move (res) });
    parked.erase (it);
    parked_everywhere--;
  }

  /* parked playlist requests the playlist now satisfies, and parked parts
   * the preload hint no longer announces (404) */
  void
  settle (std::vector<Answer> & out)
  {
    for (auto it = parked.begin (); it != parked.end ();) {
      auto next = std::next (it);
      http::Response res;
      if (it->playlist) {
        if (satisfies (it->want)) {
          answer_playlist (it->req, it->options, it->want.skip, res);
          take (it, std::move (res), out);
        }
      } else if (it->name != hint && !names.count (it->name)) {
        add_hls_cors (res.headers, it->options);
        http::reply_plain_text (res, 404, "no such part: the playlist announces another");
        take (it, std::move (res), out);
      }
      it = next;
    }
  }

  /* parked requests past their deadline: 503 */
  void
  expire (gint64 now, std::vector<Answer> & out)
  {
    for (auto it = parked.begin (); it != parked.end ();) {
      auto next = std::next (it);
      if (it->deadline <= now) {
        http::Response res;
        res.headers.set ("Retry-After", "1");
        reply_unavailable (it->options, res, it->playlist
            ? "the part asked for did not come within three target durations"
            : "the hinted part did not come within three target durations");
        take (it, std::move (res), out);
      }
      it = next;
    }
    timer_at = -1;
    arm_timer ();
  }

  /* parks req (under lock): false when too many are */
  bool
  park (const http::Request & req, http::Response & res, const HlsServeOptions & options,
      bool is_playlist, const BlockingRequest & want, const std::string & name)
  {
    if (parked_everywhere.load () >= kMaxParked)
      return false;
    Parked p;
    p.req = req;
    p.options = options;
    p.deadline = g_get_monotonic_time () + (gint64) (3 * target_duration * G_USEC_PER_SEC);
    p.playlist = is_playlist;
    p.want = want;
    p.name = name;
    p.pending = res.defer ();
    if (!p.pending)
      return false;
    parked.push_back (std::move (p));
    parked_everywhere++;
    if (timer_at < 0 || parked.back ().deadline < timer_at) {
      timer_at = parked.back ().deadline;
      if (timer)
        g_source_set_ready_time (timer, timer_at);
    }
    return true;
  }
};

namespace {

/* the store's timer: a GSource whose ready time is the earliest deadline
 * of its parked requests (one per store, however many are parked) */
struct TimerSource {
  GSource source;
  std::weak_ptr<LiveHlsStore::State> *state;
};

gboolean
timer_dispatch (GSource * source, GSourceFunc, gpointer)
{
  auto *t = reinterpret_cast<TimerSource *> (source);
  if (auto state = t->state->lock ()) {
    std::vector<Answer> answers;
    {
      std::lock_guard<std::mutex> lk (state->lock);
      state->expire (g_get_monotonic_time (), answers);
    }
    send (answers);
  } else {
    g_source_set_ready_time (source, -1);
  }
  return G_SOURCE_CONTINUE;
}

void
timer_finalize (GSource * source)
{
  delete reinterpret_cast<TimerSource *> (source)->state;
}

GSourceFuncs timer_funcs = { nullptr, nullptr, timer_dispatch, timer_finalize, nullptr, nullptr };

/* ---- llhlssink's signals (gstllhlssink.h) ---- */

using WeakState = std::weak_ptr<LiveHlsStore::State>;

void
drop_weak_state (gpointer data, GClosure *)
{
  delete static_cast<WeakState *> (data);
}

}  // namespace

LiveHlsStore::LiveHlsStore (double target_duration)
    : state_ (std::make_shared<State> (target_duration))
{
  init_debug ();
  GSource *source = g_source_new (&timer_funcs, sizeof (TimerSource));
  reinterpret_cast<TimerSource *> (source)->state = new std::weak_ptr<State> (state_);
  g_source_set_name (source, "castline-livehls-timer");
  g_source_set_ready_time (source, -1);
  GMainContext *context = g_main_context_ref_thread_default ();
  g_source_attach (source, context);
  g_main_context_unref (context);
  state_->timer = source;
}

LiveHlsStore::~LiveHlsStore ()
{
  close ();
  g_source_destroy (state_->timer);
  g_source_unref (state_->timer);
}

void
LiveHlsStore::follow (GstElement * sink)
{
  auto connect = [&] (const char *signal, GCallback callback) {
    g_signal_connect_data (sink, signal, callback, new WeakState (state_), drop_weak_state,
        GConnectFlags (0));
  };
  /* the names of what the sink writes: its playlist's and init's */
  auto file_name = [sink] (const char *property) -> std::string {
    if (!g_object_class_find_property (G_OBJECT_GET_CLASS (sink), property))
      return "";
    g_autofree gchar *location = nullptr;
    g_object_get (sink, property, &location, nullptr);
    return location && *location ? name_of (location) : "";
  };
  {
    std::string playlist = file_name ("playlist-location");
    std::string init = file_name ("init-location");
    std::lock_guard<std::mutex> lk (state_->lock);
    if (!playlist.empty ())
      state_->playlist_name = playlist;
    if (!init.empty ())
      state_->init_stem = g_str_has_suffix (init.c_str (), ".mp4")
          ? init.substr (0, init.size () - 4) : init;
  }
  /* each handler: a weak reference to the store, which may go first */
  connect ("init-ready", G_CALLBACK (+[] (GstElement *, GBytes * init, gpointer data) {
        auto state = static_cast<WeakState *> (data)->lock ();
        if (!state || !init)
          return;
        std::string name;
        {
          /* "init.mp4" (init-location's name), then init<N>.mp4 for N >= 1 */
          std::lock_guard<std::mutex> lk (state->lock);
          unsigned n = state->inits_seen++;
          name = state->init_stem + (n ? std::to_string (n) : "") + ".mp4";
        }
        state->put_init (name, init);
      }));
  connect ("part-ready", G_CALLBACK (+[] (GstElement *, guint64 msn, guint part, GBytes * data,
          gboolean, gdouble, const gchar * uri, gpointer user) {
        if (auto state = static_cast<WeakState *> (user)->lock (); state && data && uri)
          state->put_part (msn, part, uri, data);
      }));
  connect ("segment-ready", G_CALLBACK (+[] (GstElement *, guint64 msn, gdouble,
          const gchar * uri, gpointer user) {
        if (auto state = static_cast<WeakState *> (user)->lock (); state && uri)
          state->segment_done (msn, uri);
      }));
  connect ("playlist-ready", G_CALLBACK (+[] (GstElement *, const gchar * playlist,
          const gchar * delta, guint64 msn, guint part, gboolean ended, gpointer user) {
        if (auto state = static_cast<WeakState *> (user)->lock (); state && playlist)
          state->put_playlist (playlist, delta ? delta : "", msn, part, ended);
      }));
  connect ("delete-fragment", G_CALLBACK (+[] (GstElement *, const gchar *, guint64 msn,
          gpointer user) {
        if (auto state = static_cast<WeakState *> (user)->lock ())
          state->drop_segment (msn);
      }));
}

void
LiveHlsStore::put_init (const std::string & uri, GBytes * init)
{
  state_->put_init (name_of (uri), init);
}

void
LiveHlsStore::State::put_init (const std::string & name,
    GBytes * init)
{
  std::lock_guard<std::mutex> lk (lock);
  if (closed)
    return;
  if (!inits.count (name))
    init_order.push_back (name);
  inits[name] = { http::Bytes (g_bytes_ref (init)), time (nullptr) };
  while (init_order.size () > kMaxInits) {
    inits.erase (init_order.front ());
    init_order.pop_front ();
  }
  GST_DEBUG ("init %s: %" G_GSIZE_FORMAT " bytes", name.c_str (), g_bytes_get_size (init));
}

void
LiveHlsStore::put_part (guint64 msn, guint part, const std::string & uri, GBytes * data)
{
  state_->put_part (msn, part, uri, data);
}

void
LiveHlsStore::State::put_part (guint64 msn, guint part,
    const std::string & uri, GBytes * data)
{
  std::vector<Answer> answers;
  {
    std::lock_guard<std::mutex> lk (lock);
    if (closed)
      return;
    if (part >= kMaxParts) {
      GST_WARNING ("segment %" G_GUINT64_FORMAT ": part %u not kept (over %u)", msn, part,
          kMaxParts);
      return;
    }
    Segment & seg = segments[msn];
    if (seg.parts.size () <= part)
      seg.parts.resize (part + 1);
    std::string name = name_of (uri);
    if (!seg.parts[part].name.empty ())
      names.erase (seg.parts[part].name);
    seg.parts[part] = { name, http::Bytes (g_bytes_ref (data)) };
    seg.mtime = time (nullptr);
    names[name] = { msn, (gint) part };
    while (segments.size () > kMaxSegments)
      forget_segment (segments.begin ());
    /* requests parked on this part's preload hint */
    time_t mtime = seg.mtime;
    http::Bytes bytes = seg.parts[part].data;
    for (auto it = parked.begin (); it != parked.end ();) {
      auto next = std::next (it);
      if (!it->playlist && it->name == name) {
        http::Response res;
        serve_hls_bytes (it->req, res, name, bytes, mtime, it->options);
        take (it, std::move (res), answers);
      }
      it = next;
    }
  }
  send (answers);
}

void
LiveHlsStore::segment_done (guint64 msn, const std::string & uri)
{
  state_->segment_done (msn, uri);
}

void
LiveHlsStore::State::segment_done (guint64 msn,
    const std::string & uri)
{
  std::lock_guard<std::mutex> lk (lock);
  if (closed)
    return;
  auto it = segments.find (msn);
  if (it == segments.end ())
    return;
  Segment & seg = it->second;
  /* the segment is its parts concatenated: kept once, the parts become
   * slices of it */
  gsize size = 0;
  for (const Part & p : seg.parts)
    size += p.data.size ();
  GByteArray *all = g_byte_array_sized_new (size);
  for (const Part & p : seg.parts) {
    std::string_view v = p.data.view ();
    g_byte_array_append (all, reinterpret_cast<const guint8 *> (v.data ()), v.size ());
  }
  seg.whole = http::Bytes (g_byte_array_free_to_bytes (all));
  gsize offset = 0;
  for (Part & p : seg.parts) {
    gsize n = p.data.size ();
    p.data = http::Bytes (g_bytes_new_from_bytes (seg.whole.get (), offset, n));
    offset += n;
  }
  if (!seg.name.empty ())
    names.erase (seg.name);
  seg.name = name_of (uri);
  names[seg.name] = { msn, -1 };
  if (!last_complete || *last_complete < msn)
    last_complete = msn;
}

void
LiveHlsStore::put_playlist (const std::string & playlist, const std::string & delta, guint64 msn,
    guint part, bool ended)
{
  state_->put_playlist (playlist, delta, msn, part, ended);
}

void
LiveHlsStore::State::put_playlist (const std::string & text,
    const std::string & delta_text, guint64 msn, guint part, bool is_ended)
{
  std::vector<Answer> answers;
  {
    std::lock_guard<std::mutex> lk (lock);
    if (closed)
      return;
    have_playlist = true;
    playlist = http::Bytes (std::string_view (text));
    delta = delta_text.empty () ? http::Bytes () : http::Bytes (std::string_view (delta_text));
    playlist_mtime = time (nullptr);
    last_msn = msn;
    last_part = part;
    ended = is_ended;
    complete_msn = last_complete;
    std::string target = tag_attribute (text, "#EXT-X-PART-INF:", "PART-TARGET");
    if (!target.empty ())
      part_target = g_ascii_strtod (target.c_str (), nullptr);
    hint = ended ? "" : name_of (tag_attribute (text, "#EXT-X-PRELOAD-HINT:", "URI"));
    /* the safety net: what is older than the playlist's first segment
     * leaves, whether or not delete-fragment said so */
    if (auto first = tag_number (text, "#EXT-X-MEDIA-SEQUENCE:"))
      while (!segments.empty () && segments.begin ()->first < *first)
        forget_segment (segments.begin ());
    settle (answers);
    arm_timer ();
  }
  send (answers);
}

void
LiveHlsStore::drop_segment (guint64 msn)
{
  state_->drop_segment (msn);
}

void
LiveHlsStore::State::drop_segment (guint64 msn)
{
  std::lock_guard<std::mutex> lk (lock);
  auto it = segments.find (msn);
  if (it != segments.end ())
    forget_segment (it);
}

void
LiveHlsStore::close ()
{
  std::vector<Answer> answers;
  {
    std::lock_guard<std::mutex> lk (state_->lock);
    if (state_->closed)
      return;
    state_->closed = true;
    while (!state_->parked.empty ()) {
      auto it = state_->parked.begin ();
      http::Response res;
      if (it->playlist) {
        state_->answer_playlist (it->req, it->options, it->want.skip, res);
      } else {
        add_hls_cors (res.headers, it->options);
        http::reply_plain_text (res, 404, "no such part: the stream ended");
      }
      state_->take (it, std::move (res), answers);
    }
    state_->segments.clear ();
    state_->names.clear ();
    state_->inits.clear ();
    state_->init_order.clear ();
    state_->arm_timer ();
  }
  send (answers);
}

bool
LiveHlsStore::serve (const http::Request & req, http::Response & res, const std::string & name,
    const HlsServeOptions & options)
{
  State & s = *state_;
  std::unique_lock<std::mutex> lk (s.lock);
  if (s.closed)
    return false;
  if (s.have_playlist && name == s.playlist_name) {
    if (answer_hls_method (req, res, options))
      return true;
    BlockingRequest want;
    std::string error;
    if (!parse_blocking_request (req, want, error)) {
      http::reply_plain_text (res, 400, error.c_str ());
      return true;
    }
    if (s.too_far_ahead (want)) {
      http::reply_plain_text (res, 400, "_HLS_msn/_HLS_part is too far ahead of the playlist");
      return true;
    }
    if (s.satisfies (want)) {
      s.answer_playlist (req, options, want.skip, res);
      return true;
    }
    /* 6.2.5.2 bounds the wait: "If the Playlist does not contain the
     * requested segment or part within three times the Target Duration,
     * the server SHOULD return 503" (the timer) */
    if (!s.park (req, res, options, true, want, ""))
      reply_unavailable (options, res, "too many requests are waiting");
    return true;
  }
  if (auto it = s.inits.find (name); it != s.inits.end ()) {
    serve_hls_bytes (req, res, name, it->second.data, it->second.mtime, options);
    return true;
  }
  if (auto it = s.names.find (name); it != s.names.end ()) {
    const Segment & seg = s.segments.at (it->second.first);
    const http::Bytes & data = it->second.second < 0 ? seg.whole
        : seg.parts[it->second.second].data;
    serve_hls_bytes (req, res, name, data, seg.mtime, options);
    return true;
  }
  if (!s.hint.empty () && name == s.hint) {
    /* RFC 8216bis 6.2.6: a request for a resource a Preload Hint names
     * "SHOULD be held" until it is available (a blocking preload hint),
     * bounded as a blocking playlist request is */
    if (answer_hls_method (req, res, options))
      return true;
    if (!s.park (req, res, options, false, {}, name))
      reply_unavailable (options, res, "too many requests are waiting");
    return true;
  }
  return false;
}

size_t
LiveHlsStore::parked () const
{
  std::lock_guard<std::mutex> lk (state_->lock);
  return state_->parked.size ();
}

void
LiveHlsRegistry::add (const std::string & stream_id, const std::string & rung,
    std::shared_ptr<LiveHlsStore> store)
{
  std::shared_ptr<LiveHlsStore> old;
  {
    std::lock_guard<std::mutex> lk (lock_);
    auto & slot = stores_[{ stream_id, rung }];
    old = std::exchange (slot, std::move (store));
  }
  if (old)
    old->close ();
}

void
LiveHlsRegistry::remove_stream (const std::string & stream_id)
{
  std::vector<std::shared_ptr<LiveHlsStore>> gone;
  {
    std::lock_guard<std::mutex> lk (lock_);
    auto it = stores_.lower_bound ({ stream_id, "" });
    while (it != stores_.end () && it->first.first == stream_id) {
      gone.push_back (std::move (it->second));
      it = stores_.erase (it);
    }
  }
  for (auto & store : gone)
    store->close ();
}

std::shared_ptr<LiveHlsStore>
LiveHlsRegistry::find (const std::string & stream_id, const std::string & rung) const
{
  std::lock_guard<std::mutex> lk (lock_);
  auto it = stores_.find ({ stream_id, rung });
  return it == stores_.end () ? nullptr : it->second;
}

}  // namespace castline::launcher
