#include "notify/eventstream.h"

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
  manager_.add_event_listener ([weak] (const StreamEvent & e) {
        if (auto self = weak.lock ())
          (*self)->on_stream_event (e);
      });
}

EventStream::~EventStream ()
{
  /* before the server goes: its disconnect then closes the connections
   * without calling back into us */
  while (!clients_.empty ())
    forget (clients_.begin ()->first, false);
}

size_t
EventStream::count_of (const std::string & stream) const
{
  size_t n = 0;
  for (auto & [msg, c] : clients_)
    n += c.stream == stream;
  return n;
}

bool
EventStream::serve (SoupServerMessage * msg, const std::string & id, std::string & refusal)
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
  soup_server_message_set_status (msg, 200, nullptr);
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  soup_message_headers_set_content_type (h, "text/event-stream", nullptr);
  soup_message_headers_replace (h, "Cache-Control", "no-store");
  /* nginx and its kind would hold the events back */
  soup_message_headers_replace (h, "X-Accel-Buffering", "no");
  /* an HTTP/1.0 client knows no chunks: the stream ends with the connection */
  soup_message_headers_set_encoding (h, soup_server_message_get_http_version (msg) == SOUP_HTTP_1_0
      ? SOUP_ENCODING_EOF : SOUP_ENCODING_CHUNKED);
  /* what was written is dropped, not kept for the whole connection */
  soup_message_body_set_accumulate (soup_server_message_get_response_body (msg), FALSE);

  Client & c = clients_[msg];
  c.msg = SOUP_SERVER_MESSAGE (g_object_ref (msg));
  c.stream = id;
  c.handlers[0] = g_signal_connect (msg, "wrote-body-data", G_CALLBACK (on_wrote), this);
  c.handlers[1] = g_signal_connect (msg, "finished", G_CALLBACK (on_gone), this);
  c.handlers[2] = g_signal_connect (msg, "disconnected", G_CALLBACK (on_gone), this);

  gint64 now = g_get_monotonic_time ();
  if (!id.empty ()) {
    if (auto r = manager_.get (id))
      send (c, sse ("state", stream_json_ (*r)), now);
  } else {
    /* all streams: those whose state can still change */
    for (auto & r : manager_.list ())
      if (r.state != StreamState::ended && r.state != StreamState::failed)
        send (c, sse ("state", stream_json_ (r)), now);
    if (c.buffered == 0)
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
  if (c.buffered + text.size () > kMaxBuffered) {
    c.too_slow = true;
    return;
  }
  soup_message_body_append (soup_server_message_get_response_body (c.msg), SOUP_MEMORY_COPY,
      text.data (), text.size ());
  c.buffered += text.size ();
  c.last_write_us = now_us;
  soup_server_message_unpause (c.msg);
}

void
EventStream::reap ()
{
  std::vector<SoupServerMessage *> slow;
  for (auto & [msg, c] : clients_)
    if (c.too_slow)
      slow.push_back (msg);
  for (SoupServerMessage *msg : slow) {
    g_message ("event stream client %s reads too slowly (over %zu bytes unread): disconnected",
        soup_server_message_get_remote_host (msg) ? soup_server_message_get_remote_host (msg) : "?",
        kMaxBuffered);
    /* shut the socket down: the pending write fails and libsoup finishes
     * the message and closes the connection itself */
    GSocket *socket = soup_server_message_get_socket (msg);
    if (socket)
      g_socket_shutdown (socket, TRUE, TRUE, nullptr);
    else
      soup_message_body_complete (soup_server_message_get_response_body (msg));
    soup_server_message_unpause (msg);
    forget (msg, false);
  }
}

void
EventStream::forget (SoupServerMessage * msg, bool in_signal)
{
  auto it = clients_.find (msg);
  if (it == clients_.end ())
    return;
  for (gulong id : it->second.handlers)
    g_signal_handler_disconnect (msg, id);
  clients_.erase (it);
  if (!in_signal) {
    g_object_unref (msg);
    return;
  }
  /* not in the middle of the message's own signal */
  g_idle_add_full (G_PRIORITY_DEFAULT, [] (gpointer m) -> gboolean {
        g_object_unref (m);
        return G_SOURCE_REMOVE;
      }, msg, nullptr);
}

void
EventStream::on_wrote (SoupServerMessage * msg, guint size, gpointer data)
{
  auto *self = static_cast<EventStream *> (data);
  auto it = self->clients_.find (msg);
  if (it != self->clients_.end ())
    it->second.buffered -= std::min<size_t> (size, it->second.buffered);
}

void
EventStream::on_gone (SoupServerMessage * msg, gpointer data)
{
  static_cast<EventStream *> (data)->forget (msg, true);
}

void
EventStream::broadcast (const std::string & stream, const char *event, const std::string & data,
    gint64 now_us)
{
  std::string text = sse (event, data);
  for (auto & [msg, c] : clients_)
    if (c.stream.empty () || c.stream == stream)
      send (c, text, now_us);
  reap ();
}

void
EventStream::on_stream_event (const StreamEvent & e)
{
  if (clients_.empty ())
    return;
  broadcast (e.stream.id, "state", stream_json_ (e.stream), g_get_monotonic_time ());
}

void
EventStream::tick (gint64 now_us)
{
  /* viewers: of the streams counted now, and of those told non-zero
   * before; followed without clients too, so that a new client, whose
   * first state holds the count, is told only what changes after */
  std::set<std::string> ids;
  for (auto & id : viewers_.streams ())
    ids.insert (id);
  for (auto & [id, n] : last_viewers_)
    ids.insert (id);
  for (auto & id : ids) {
    unsigned n = viewers_.count (id, now_us);
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
    g_autoptr (GstStructure) stats = manager_.live (id)->pipeline->stats ();
    if (gst_structure_n_fields (stats) > 0) {
      std::string json = stats_json (id, stats);
      auto it = last_stats_.find (id);
      if (it == last_stats_.end () || it->second != json)
        broadcast (id, "stats", json, now_us);
      told[id] = std::move (json);
    }
  }
  last_stats_ = std::move (told);

  for (auto & [msg, c] : clients_)
    if (now_us - c.last_write_us >= kKeepAliveUs)
      send (c, ": keep-alive\n\n", now_us);
  reap ();
}

}  // namespace castline::launcher
