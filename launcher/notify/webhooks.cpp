#include "notify/webhooks.h"

#include "streams/streamjson.h"

#include <algorithm>
#include <deque>

#ifndef CASTLINE_VERSION
#define CASTLINE_VERSION "unknown"
#endif

namespace castline::launcher {

/* One event as it goes out: the same body and id to every URL and on
 * every attempt, so a receiver can tell a retry by its id. */
struct WebhookSender::Event {
  std::string id;
  std::string type;
  GBytes *body;

  Event (std::string id_, std::string type_, const std::string & text)
      : id (std::move (id_)), type (std::move (type_)),
        body (g_bytes_new (text.data (), text.size ()))
  {
  }
  ~Event () { g_bytes_unref (body); }
  Event (const Event &) = delete;
  Event & operator= (const Event &) = delete;
};

/* One URL and its queue. The front event is the one being delivered
 * while busy (in flight, or waiting for its retry). */
struct WebhookSender::Target : std::enable_shared_from_this<Target> {
  WebhookSender *sender = nullptr;
  GUri *uri = nullptr;
  std::string shown;                   /* the URL without userinfo and query, for logs */
  std::deque<std::shared_ptr<const Event>> queue;
  bool busy = false;
  unsigned attempts = 0;               /* of the front event */
  GCancellable *cancellable = nullptr; /* of the attempt in flight */
  guint retry_timer = 0;

  Target () = default;
  Target (const Target &) = delete;
  Target & operator= (const Target &) = delete;
  ~Target ()
  {
    if (retry_timer)
      g_source_remove (retry_timer);
    if (cancellable) {
      g_cancellable_cancel (cancellable);
      g_object_unref (cancellable);
    }
    if (uri)
      g_uri_unref (uri);
  }
};

namespace {

/* What an attempt's callback needs; the target may be gone by then (the
 * sender destroyed), hence the weak reference. */
struct Attempt {
  std::weak_ptr<WebhookSender::Target> target;
  SoupMessage *msg;

  Attempt (std::weak_ptr<WebhookSender::Target> t, SoupMessage * m)
      : target (std::move (t)), msg (SOUP_MESSAGE (g_object_ref (m)))
  {
  }
  ~Attempt () { g_object_unref (msg); }
  Attempt (const Attempt &) = delete;
  Attempt & operator= (const Attempt &) = delete;
};

/* scheme://host[:port]/path: a URL's userinfo and query may hold secrets */
std::string
shown_url (GUri * uri)
{
  g_autofree gchar *s = g_uri_join (G_URI_FLAGS_ENCODED_PATH, g_uri_get_scheme (uri), nullptr,
      g_uri_get_host (uri), g_uri_get_port (uri), g_uri_get_path (uri), nullptr, nullptr);
  return s ? s : "?";
}

/* Retry-After in seconds (the HTTP-date form is not honoured); -1: none */
gint64
retry_after_seconds (SoupMessage * msg)
{
  const char *v = soup_message_headers_get_one (soup_message_get_response_headers (msg),
      "Retry-After");
  guint64 s = 0;
  if (!v || !g_ascii_string_to_unsigned (v, 10, 0, G_MAXUINT32, &s, nullptr))
    return -1;
  return (gint64) s;
}

/* lowercase hex HMAC-SHA256 (secret, "<timestamp>.<body>") */
std::string
signature (const std::string & secret, const std::string & timestamp, GBytes * body)
{
  g_autoptr (GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, (const guchar *) secret.data (),
      secret.size ());
  gsize size = 0;
  const guchar *data = (const guchar *) g_bytes_get_data (body, &size);
  g_hmac_update (hmac, (const guchar *) timestamp.data (), (gssize) timestamp.size ());
  g_hmac_update (hmac, (const guchar *) ".", 1);
  g_hmac_update (hmac, data, (gssize) size);
  return g_hmac_get_string (hmac);
}

}  // namespace

JsonObject *
recording_deleted_members (const StreamRecord & r, const std::string & playback_url,
    const RemovalResult & removed, const std::string & reason, const Config & config)
{
  JsonObject *members = json_object_new ();
  json_object_set_member (members, "stream", webhook_stream_json (r, playback_url));
  json_object_set_string_member (members, "reason", reason.c_str ());
  json_object_set_member (members, "recordings", recordings_json (removed.removed, config));
  JsonArray *files = json_array_new ();
  for (auto & f : removed.files)
    json_array_add_string_element (files, f.c_str ());
  json_object_set_array_member (members, "removed", files);
  if (removed.bytes)
    json_object_set_int_member (members, "bytes", (gint64) *removed.bytes);
  else
    json_object_set_null_member (members, "bytes");
  return members;
}

JsonNode *
webhook_stream_json (const StreamRecord & r, const std::string & playback_url)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_stream_record (b, r);
  add_string (b, "playback_url", playback_url);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

WebhookSender::WebhookSender (const WebhookSettings & settings) : settings_ (settings)
{
  session_ = soup_session_new_with_options ("timeout", settings_.timeout,
      "user-agent", "castline/" CASTLINE_VERSION, nullptr);
  for (size_t i = 0; i < settings_.urls.size (); i++) {
    /* load_config has checked them; settings made in code may not be */
    GUri *uri = g_uri_parse (settings_.urls[i].c_str (), (GUriFlags) SOUP_HTTP_URI_FLAGS, nullptr);
    if (!uri) {
      g_warning ("webhooks: URL %zu is not a URL: skipped", i);
      continue;
    }
    auto t = std::make_shared<Target> ();
    t->sender = this;
    t->uri = uri;
    t->shown = shown_url (uri);
    g_message ("webhooks: events go to %s%s", t->shown.c_str (),
        settings_.secret.empty () ? " (unsigned: no secret)" : "");
    targets_.push_back (std::move (t));
  }
}

WebhookSender::~WebhookSender ()
{
  if (flush_timer_)
    g_source_remove (flush_timer_);
  /* cancels what is in flight; the callbacks find their target gone */
  targets_.clear ();
  soup_session_abort (session_);
  g_object_unref (session_);
}

void
WebhookSender::set_backoff (guint base_ms, guint max_ms)
{
  base_delay_ms_ = base_ms;
  max_delay_ms_ = max_ms;
}

bool
WebhookSender::idle () const
{
  return std::all_of (targets_.begin (), targets_.end (),
      [] (const std::shared_ptr<Target> & t) { return t->queue.empty (); });
}

void
WebhookSender::post (const std::string & type, JsonObject * members)
{
  if (targets_.empty ())
    return;
  g_autofree gchar *id = g_uuid_string_random ();
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_string (b, "id", id);
  add_string (b, "type", type);
  add_string (b, "created_at", iso8601 (g_get_real_time ()));
  if (members) {
    JsonObjectIter iter;
    const gchar *name;
    JsonNode *node;
    json_object_iter_init_ordered (&iter, members);
    while (json_object_iter_next_ordered (&iter, &name, &node)) {
      /* the envelope's own members are not the event's to change */
      if (g_str_equal (name, "id") || g_str_equal (name, "type")
          || g_str_equal (name, "created_at"))
        continue;
      json_builder_set_member_name (b, name);
      json_builder_add_value (b, json_node_copy (node));
    }
  }
  json_builder_end_object (b);
  auto event = std::make_shared<const Event> (id, type, to_text (b));

  for (auto & t : targets_) {
    /* the front is being delivered: the oldest waiting one is behind it */
    size_t waiting = t->queue.size () - (t->busy ? 1 : 0);
    if (waiting >= kMaxQueue) {
      auto oldest = t->queue.begin () + (t->busy ? 1 : 0);
      stats_.dropped++;
      g_warning ("webhooks: %zu events wait for %s: dropped the oldest (%s %s)", waiting,
          t->shown.c_str (), (*oldest)->type.c_str (), (*oldest)->id.c_str ());
      t->queue.erase (oldest);
    }
    t->queue.push_back (event);
    start (*t);
  }
}

void
WebhookSender::post_stream_event (const StreamEvent & e, const std::string & playback_url)
{
  g_autoptr (JsonObject) members = json_object_new ();
  json_object_set_member (members, "stream", webhook_stream_json (e.stream, playback_url));
  post (e.type, members);
}

/* Sends the front event unless one is being delivered already. */
void
WebhookSender::start (Target & t)
{
  if (t.busy || t.queue.empty ())
    return;
  t.busy = true;
  t.attempts = 0;
  send (t);
}

void
WebhookSender::send (Target & t)
{
  const Event & e = *t.queue.front ();
  t.attempts++;
  g_autoptr (SoupMessage) msg = soup_message_new_from_uri (SOUP_METHOD_POST, t.uri);
  /* A redirect is an answer that is not 2xx, not a place to POST to.
   * Idempotent: a delivery may arrive twice anyway (its id tells), and
   * without it libsoup opens a new connection for every POST. */
  soup_message_add_flags (msg,
      (SoupMessageFlags) (SOUP_MESSAGE_NO_REDIRECT | SOUP_MESSAGE_IDEMPOTENT));
  soup_message_set_request_body_from_bytes (msg, "application/json", e.body);
  SoupMessageHeaders *h = soup_message_get_request_headers (msg);
  /* fresh on every attempt: a receiver may refuse old timestamps */
  std::string timestamp = std::to_string (g_get_real_time () / G_USEC_PER_SEC);
  soup_message_headers_replace (h, "X-Castline-Event", e.type.c_str ());
  soup_message_headers_replace (h, "X-Castline-Delivery", e.id.c_str ());
  soup_message_headers_replace (h, "X-Castline-Timestamp", timestamp.c_str ());
  if (!settings_.secret.empty ())
    soup_message_headers_replace (h, "X-Castline-Signature",
        ("sha256=" + signature (settings_.secret, timestamp, e.body)).c_str ());

  g_clear_object (&t.cancellable);
  t.cancellable = g_cancellable_new ();
  soup_session_send_and_read_async (session_, msg, G_PRIORITY_DEFAULT, t.cancellable,
      [] (GObject * source, GAsyncResult * res, gpointer data) {
        std::unique_ptr<Attempt> a (static_cast<Attempt *> (data));
        g_autoptr (GError) error = nullptr;
        g_autoptr (GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), res,
            &error);
        /* held while it runs: done () of a flush may destroy the sender */
        std::shared_ptr<Target> target = a->target.lock ();
        if (!target || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
          return;
        target->sender->on_answer (*target, a->msg, error);
      }, new Attempt (t.weak_from_this (), msg));
}

void
WebhookSender::on_answer (Target & t, SoupMessage * msg, GError * error)
{
  g_clear_object (&t.cancellable);
  if (error) {
    retry_or_give_up (t, error->message, -1);
    return;
  }
  guint status = soup_message_get_status (msg);
  if (SOUP_STATUS_IS_SUCCESSFUL (status)) {
    finish (t, true, "");
    return;
  }
  std::string why = "HTTP " + std::to_string (status);
  if (status == 429 || (status >= 500 && status < 600))
    retry_or_give_up (t, why, retry_after_seconds (msg));
  else
    finish (t, false, why);
}

void
WebhookSender::retry_or_give_up (Target & t, const std::string & why, gint64 retry_after_s)
{
  if (t.attempts > settings_.retries) {
    finish (t, false, why);
    return;
  }
  guint64 delay;
  if (retry_after_s >= 0) {
    delay = std::min<guint64> ((guint64) retry_after_s * 1000, max_delay_ms_);
  } else {
    /* doubling, capped, then anywhere in its upper half: receivers that
     * came back are not hit by every sender at the same instant */
    delay = std::min<guint64> ((guint64) base_delay_ms_ << std::min (t.attempts - 1, 30u),
        max_delay_ms_);
    delay = delay / 2 + (guint64) g_random_int_range (0, (gint32) (delay / 2) + 1);
  }
  const Event & e = *t.queue.front ();
  g_message ("webhooks: %s %s to %s: %s; attempt %u in %" G_GUINT64_FORMAT " ms",
      e.type.c_str (), e.id.c_str (), t.shown.c_str (), why.c_str (), t.attempts + 1, delay);
  t.retry_timer = g_timeout_add ((guint) delay, [] (gpointer data) -> gboolean {
        auto *target = static_cast<Target *> (data);
        target->retry_timer = 0;
        target->sender->stats_.retried++;
        target->sender->send (*target);
        return G_SOURCE_REMOVE;
      }, &t);
}

void
WebhookSender::finish (Target & t, bool delivered, const std::string & why)
{
  const Event & e = *t.queue.front ();
  if (delivered) {
    stats_.delivered++;
  } else {
    stats_.failed++;
    g_warning ("webhooks: %s %s to %s: gave up after %u attempt%s: %s", e.type.c_str (),
        e.id.c_str (), t.shown.c_str (), t.attempts, t.attempts == 1 ? "" : "s", why.c_str ());
  }
  t.queue.pop_front ();
  t.busy = false;
  start (t);
  check_flushed ();
}

void
WebhookSender::flush (guint timeout_ms, std::function<void ()> done)
{
  if (idle ()) {
    done ();
    return;
  }
  flush_done_ = std::move (done);
  if (flush_timer_)
    g_source_remove (flush_timer_);
  flush_timer_ = g_timeout_add (timeout_ms, [] (gpointer data) -> gboolean {
        auto *self = static_cast<WebhookSender *> (data);
        self->flush_timer_ = 0;
        size_t left = 0;
        for (auto & t : self->targets_)
          left += t->queue.size ();
        g_warning ("webhooks: %zu event deliver%s abandoned at exit", left,
            left == 1 ? "y" : "ies");
        self->end_flush ();
        return G_SOURCE_REMOVE;
      }, this);
}

void
WebhookSender::check_flushed ()
{
  if (flush_done_ && idle ())
    end_flush ();
}

/* Last: done may destroy this sender. */
void
WebhookSender::end_flush ()
{
  if (flush_timer_) {
    g_source_remove (flush_timer_);
    flush_timer_ = 0;
  }
  auto done = std::move (flush_done_);
  flush_done_ = nullptr;
  if (done)
    done ();
}

}  // namespace castline::launcher
