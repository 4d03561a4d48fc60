#include "notify/eventstream.h"

#include "streams/livestats.h"
#include "streams/streamjson.h"

#include <set>

namespace castline::launcher {

namespace {

std::string
sse (const char *event, const std::string & data)
{
  /* the JSON is one line: json-glib's compact output has no newline */
  return std::string ("event: ") + event + "\ndata: " + data + "\n\n";
}

std::string
viewers_json (const std::string & id, unsigned viewers)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_string (b, "id", id);
  json_builder_set_member_name (b, "viewers");
  json_builder_add_int_value (b, viewers);
  json_builder_end_object (b);
  return to_text (b);
}

std::string
stats_json (const std::string & id, const GstStructure * stats)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_string (b, "id", id);
  json_builder_set_member_name (b, "stats");
  add_structure (b, stats);
  json_builder_end_object (b);
  return to_text (b);
}

}  // namespace

EventStream::EventStream (StreamManager & manager, const ViewerCounter & viewers,
    std::function<std::string (const StreamRecord &)> stream_json)
    : manager_ (manager), viewers_ (viewers), stream_json_ (std::move (stream_json)),
      self_ (std::make_shared<EventStream *> (this))
{
  std::weak_ptr<EventStream *> weak = self_;
  auto listener = [weak] (const StreamEvent & e) {
    if (auto self = weak.lock ())
      (*self)->on_stream_event (e);
  };
  manager_.add_event_listener (listener);
  /* and the other nodes' of a cluster: every node's event streams carry
   * every stream */
  manager_.add_remote_event_listener (listener);
}

EventStream::~EventStream ()
{
  /* before the server goes: its responses end without calling back */
  for (auto & [out, client] : clients_)
    client.out->set_closed_handler (nullptr);
}

size_t
EventStream::count_of (const std::string & stream) const
{
  size_t n = 0;
  for (auto & [out, c] : clients_)
    n += c.stream == stream;
  return n;
}

bool
EventStream::serve (const http::Request & req, http::Response & res, const std::string & id,
    std::string & refusal)
{
  if (clients_.size () >= kMaxClients) {
    refusal = "too many event streams: try again later";
    return false;
  }
  if (count_of (id) >= kMaxPerStream) {
    refusal = "too many event streams of " + (id.empty () ? std::string ("all streams") : id)
        + ": try again later";
    return false;
  }
  res.status = 200;
  res.headers.set ("Content-Type", "text/event-stream");
  res.headers.set ("Cache-Control", "no-store");
  /* nginx and its kind would hold the events back */
  res.headers.set ("X-Accel-Buffering", "no");
  std::shared_ptr<http::ResponseStream> out = res.start_stream ();
  http::ResponseStream *key = out.get ();
  out->set_closed_handler ([this, key] { clients_.erase (key); });
  Client & c = clients_[key];
  c.out = std::move (out);
  c.stream = id;
  c.peer = req.remote_host.empty () ? "?" : req.remote_host;

  gint64 now = g_get_monotonic_time ();
  gint64 wall_ms = g_get_real_time () / 1000;
  if (!id.empty ()) {
    if (auto r = manager_.get (id)) {
      send (c, sse ("state", stream_json_ (*r)), now);
      send (c, sse ("history", history_.json (id, wall_ms)), now);
    }
  } else {
    /* all streams: those whose state can still change */
    for (auto & r : manager_.list ())
      if (r.state != StreamState::ended && r.state != StreamState::failed) {
        send (c, sse ("state", stream_json_ (r)), now);
        if (history_.has (r.id) && c.out->unsent () < kMaxBuffered / 2)
          send (c, sse ("history", history_.json (r.id, wall_ms)), now);
      }
    if (c.out->unsent () == 0)
      send (c, ": connected\n\n", now);
  }
  reap ();
  return true;
}

void
EventStream::send (Client & c, const std::string & text, gint64 now_us)
{
  if (c.too_slow)
    return;
  if (c.out->unsent () + text.size () > kMaxBuffered) {
    c.too_slow = true;
    return;
  }
  c.out->write (text);
  c.last_write_us = now_us;
}

void
EventStream::reap ()
{
  std::vector<std::shared_ptr<http::ResponseStream>> slow;
  for (auto & [out, c] : clients_)
    if (c.too_slow) {
      g_message ("event stream client %s reads too slowly (over %zu bytes unread): disconnected",
          c.peer.c_str (), kMaxBuffered);
      slow.push_back (c.out);
    }
  /* each one's closed handler forgets it */
  for (auto & out : slow)
    out->abort ();
}

void
EventStream::broadcast (const std::string & stream, const char *event, const std::string & data,
    gint64 now_us)
{
  std::string text = sse (event, data);
  for (auto & [out, c] : clients_)
    if (c.stream.empty () || c.stream == stream)
      send (c, text, now_us);
  reap ();
}

void
EventStream::on_stream_event (const StreamEvent & e)
{
  history_.mark (e.stream.id, g_get_real_time () / 1000, e.stream.state, e.stream.reason);
  if (clients_.empty ())
    return;
  broadcast (e.stream.id, "state", stream_json_ (e.stream), g_get_monotonic_time ());
}

unsigned
EventStream::viewers_of (const std::string & id, gint64 now_us) const
{
  return viewers_.count (id, now_us) + manager_.webrtc_viewers (id);
}

void
EventStream::sample (gint64 now_us, gint64 now_ms)
{
  for (auto & id : manager_.live_ids ()) {
    g_autoptr (GstStructure) stats = live_stats (*manager_.live (id));
    history_.add (id, stats_sample (stats, viewers_of (id, now_us), now_ms));
  }
  history_.prune (now_ms);
}

void
EventStream::tick (gint64 now_us)
{
  /* followed without clients too: a page that comes later charts it */
  if (now_us >= next_sample_us_) {
    next_sample_us_ = now_us + StatsHistory::kIntervalMs * 1000;
    sample (now_us, g_get_real_time () / 1000);
  }

  /* viewers: of the streams counted now, and of those told non-zero
   * before; followed without clients too, so that a new client, whose
   * first state holds the count, is told only what changes after */
  std::set<std::string> ids;
  for (auto & id : viewers_.streams ())
    ids.insert (id);
  for (auto & id : manager_.live_ids ())
    ids.insert (id);
  for (auto & [id, n] : last_viewers_)
    ids.insert (id);
  for (auto & id : ids) {
    unsigned n = viewers_of (id, now_us);
    auto it = last_viewers_.find (id);
    if (n == (it == last_viewers_.end () ? 0 : it->second))
      continue;
    if (!clients_.empty ())
      broadcast (id, "viewers", viewers_json (id, n), now_us);
    if (n)
      last_viewers_[id] = n;
    else
      last_viewers_.erase (it);
  }
  if (clients_.empty ()) {
    last_stats_.clear ();
    return;
  }

  /* stats of the live streams someone follows, when they changed */
  bool all = count_of ("") > 0;
  std::map<std::string, std::string> told;
  for (auto & id : manager_.live_ids ()) {
    if (!all && count_of (id) == 0)
      continue;
    g_autoptr (GstStructure) stats = live_stats (*manager_.live (id));
    if (gst_structure_n_fields (stats) > 0) {
      std::string json = stats_json (id, stats);
      auto it = last_stats_.find (id);
      if (it == last_stats_.end () || it->second != json)
        broadcast (id, "stats", json, now_us);
      told[id] = std::move (json);
    }
  }
  last_stats_ = std::move (told);

  for (auto & [out, c] : clients_)
    if (now_us - c.last_write_us >= kKeepAliveUs)
      send (c, ": keep-alive\n\n", now_us);
  reap ();
}

}  // namespace castline::launcher
