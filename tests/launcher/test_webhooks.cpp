/* WebhookSender against real HTTP: a SoupServer on 127.0.0.1 in its own
 * thread records every request and answers as each test scripts it (at
 * once, late, or only when released); a socket that listens and never
 * accepts stands for a receiver that never answers. The sender runs on
 * this thread's default main context, which the tests iterate. Also the
 * webhooks settings of the configuration file. */
#include "config/config.h"
#include "serverthread.h"
#include "notify/webhooks.h"

#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

using namespace castline::launcher;

#ifndef CASTLINE_VERSION
#error "CASTLINE_VERSION must be defined (the User-Agent's version)"
#endif

namespace {

const char kSecret[] = "whsec-test-secret-never-logged";
const char kKeyHash[] = "c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c";

/* castline-domain warnings of the running test (the sender's give-ups and
 * drops), which gst-check would otherwise make fatal */
std::vector<std::string> warnings;

void
on_warning (const gchar *, GLogLevelFlags, const gchar * message, gpointer)
{
  warnings.push_back (message);
  g_printerr ("(expected) warning: %s\n", message);
}

gboolean
fatal_unless_ours (const gchar * domain, GLogLevelFlags level, const gchar *, gpointer)
{
  return !(g_strcmp0 (domain, "castline") == 0 && (level & G_LOG_LEVEL_WARNING));
}

/* iterates the default main context until pred () or timeout_ms */
template <typename Pred>
bool
wait_for (Pred pred, unsigned timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  while (!pred ()) {
    if (g_get_monotonic_time () > end)
      return false;
    if (!g_main_context_iteration (nullptr, FALSE))
      g_usleep (2000);
  }
  return true;
}

void
spin (unsigned ms)
{
  wait_for ([] { return false; }, ms);
}

struct Request {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;   /* names in lower case */
  std::string body;
  gint64 at = 0;                                 /* monotonic µs */
  guint16 client_port = 0;                       /* tells the connection */

  bool has (const std::string & name) const { return headers.count (name) > 0; }
  /* a reference, so .c_str () outlives the statement */
  const std::string & header (const std::string & name) const
  {
    static const std::string none;
    auto it = headers.find (name);
    return it == headers.end () ? none : it->second;
  }
};

struct Reply {
  guint status = 200;
  std::string retry_after;             /* a Retry-After header when set */
  guint delay_ms = 0;                  /* answered this late */
  bool held = false;                   /* answered (200) on release () only */
};

Reply
reply (guint status, const std::string & retry_after = "")
{
  Reply r;
  r.status = status;
  r.retry_after = retry_after;
  return r;
}

Reply
late_reply (guint delay_ms)
{
  Reply r;
  r.delay_ms = delay_ms;
  return r;
}

Reply
held_reply ()
{
  Reply r;
  r.held = true;
  return r;
}

/* A SoupServer on its own thread and GMainContext. */
class Receiver {
 public:
  Receiver ()
      : server_ ("webhook-receiver", [this] (SoupServer * server) {
              soup_server_add_handler (server, nullptr, on_request, this, nullptr);
            })
  {
  }

  /* the held requests are answered before the server thread ends */
  ~Receiver () { release (); }

  Receiver (const Receiver &) = delete;
  Receiver & operator= (const Receiver &) = delete;

  std::string url (const std::string & path) const
  {
    return "http://127.0.0.1:" + std::to_string (server_.port ()) + path;
  }
  guint port () const { return server_.port (); }

  /* the next requests to path get these replies, in order; then 200 */
  void script (const std::string & path, std::vector<Reply> replies)
  {
    std::lock_guard<std::mutex> lock (mutex_);
    scripts_[path] = std::move (replies);
  }

  std::vector<Request> requests (const std::string & path = "") const
  {
    std::lock_guard<std::mutex> lock (mutex_);
    std::vector<Request> out;
    for (auto & r : requests_)
      if (path.empty () || r.path == path)
        out.push_back (r);
    return out;
  }
  size_t count (const std::string & path = "") const { return requests (path).size (); }
  /* how many connections the requests came on */
  size_t connections () const
  {
    std::set<guint16> ports;
    for (auto & r : requests ())
      ports.insert (r.client_port);
    return ports.size ();
  }

  /* the most requests it has had unanswered at once */
  int max_in_flight () const
  {
    std::lock_guard<std::mutex> lock (mutex_);
    return max_in_flight_;
  }

  /* answers the held requests 200 */
  void release ()
  {
    g_main_context_invoke (server_.context (), [] (gpointer data) -> gboolean {
          auto *self = static_cast<Receiver *> (data);
          std::vector<SoupServerMessage *> held;
          {
            std::lock_guard<std::mutex> lock (self->mutex_);
            held.swap (self->held_);
          }
          for (SoupServerMessage *msg : held)
            self->answer (msg, 200, "");
          return G_SOURCE_REMOVE;
        }, this);
  }

 private:
  /* server thread */
  void answer (SoupServerMessage * msg, guint status, const std::string & retry_after)
  {
    soup_server_message_set_status (msg, status, nullptr);
    if (!retry_after.empty ())
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
          "Retry-After", retry_after.c_str ());
    soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "ok", 2);
    soup_server_message_unpause (msg);
    g_object_unref (msg);
    std::lock_guard<std::mutex> lock (mutex_);
    in_flight_--;
  }

  static void on_request (SoupServer *, SoupServerMessage * msg, const char *path, GHashTable *,
      gpointer data)
  {
    auto *self = static_cast<Receiver *> (data);
    Request r;
    r.method = soup_server_message_get_method (msg);
    r.path = path;
    r.at = g_get_monotonic_time ();
    GSocketAddress *remote = soup_server_message_get_remote_address (msg);
    if (remote && G_IS_INET_SOCKET_ADDRESS (remote))
      r.client_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (remote));
    soup_message_headers_foreach (soup_server_message_get_request_headers (msg),
        [] (const char *name, const char *value, gpointer h) {
          g_autofree gchar *lower = g_ascii_strdown (name, -1);
          (*static_cast<std::map<std::string, std::string> *> (h))[lower] = value;
        }, &r.headers);
    SoupMessageBody *body = soup_server_message_get_request_body (msg);
    r.body.assign (body->data ? body->data : "", body->length);

    Reply reply;
    {
      std::lock_guard<std::mutex> lock (self->mutex_);
      self->requests_.push_back (r);
      auto & script = self->scripts_[r.path];
      if (!script.empty ()) {
        reply = script.front ();
        script.erase (script.begin ());
      }
      self->in_flight_++;
      self->max_in_flight_ = std::max (self->max_in_flight_, self->in_flight_);
    }
    /* every answer goes through pause/unpause, the same path for all */
    soup_server_message_pause (msg);
    g_object_ref (msg);
    if (reply.held) {
      std::lock_guard<std::mutex> lock (self->mutex_);
      self->held_.push_back (msg);
    } else if (reply.delay_ms) {
      struct Late {
        Receiver *self;
        SoupServerMessage *msg;
        Reply reply;
      };
      GSource *timer = g_timeout_source_new (reply.delay_ms);
      g_source_set_callback (timer, [] (gpointer d) -> gboolean {
            auto *late = static_cast<Late *> (d);
            late->self->answer (late->msg, late->reply.status, late->reply.retry_after);
            return G_SOURCE_REMOVE;
          }, new Late { self, msg, reply }, [] (gpointer d) { delete static_cast<Late *> (d); });
      g_source_attach (timer, self->server_.context ());
      g_source_unref (timer);
    } else {
      self->answer (msg, reply.status, reply.retry_after);
    }
  }

  mutable std::mutex mutex_;
  std::vector<Request> requests_;
  std::map<std::string, std::vector<Reply>> scripts_;
  std::vector<SoupServerMessage *> held_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  ServerThread server_;            /* last: it stops first */
};

/* A socket that listens and never accepts: the kernel completes the
 * connection, takes the request, and no answer ever comes. */
class Silent {
 public:
  Silent ()
  {
    socket_ = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
        nullptr);
    g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
    fail_unless (g_socket_bind (socket_, any, TRUE, nullptr));
    g_socket_set_listen_backlog (socket_, 16);
    fail_unless (g_socket_listen (socket_, nullptr));
    g_autoptr (GSocketAddress) local = g_socket_get_local_address (socket_, nullptr);
    port_ = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  }
  ~Silent () { g_object_unref (socket_); }
  Silent (const Silent &) = delete;
  Silent & operator= (const Silent &) = delete;

  std::string url () const { return "http://127.0.0.1:" + std::to_string (port_) + "/hook"; }

 private:
  GSocket *socket_ = nullptr;
  guint16 port_ = 0;
};

/* a loopback port nothing listens on: bound, then closed */
guint16
closed_port ()
{
  g_autoptr (GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, nullptr);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  fail_unless (g_socket_bind (s, any, TRUE, nullptr));
  g_autoptr (GSocketAddress) local = g_socket_get_local_address (s, nullptr);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
}

WebhookSettings
settings (std::vector<std::string> urls, const std::string & secret = kSecret,
    unsigned retries = 5, unsigned timeout = 5)
{
  WebhookSettings s;
  s.urls = std::move (urls);
  s.secret = secret;
  s.retries = retries;
  s.timeout = timeout;
  return s;
}

/* A WebhookSender with short backoff. Destroyed, it lets the callbacks of
 * its cancelled attempts run, so nothing is left for valgrind to find. */
struct Sender {
  std::unique_ptr<WebhookSender> w;

  explicit Sender (const WebhookSettings & s, guint base_ms = 50, guint max_ms = 400)
      : w (new WebhookSender (s))
  {
    w->set_backoff (base_ms, max_ms);
    warnings.clear ();
  }
  ~Sender ()
  {
    w.reset ();
    spin (50);
  }
  WebhookSender *operator-> () { return w.get (); }
};

StreamRecord
record (const std::string & title, StreamState state = StreamState::live)
{
  StreamRecord r;
  r.id = "abc123def456";
  r.title = title;
  r.pipeline = "passthrough";
  r.key_hash = kKeyHash;
  r.state = state;
  r.ingest = "websocket";
  r.node = "node-a";
  r.created_at = G_GINT64_CONSTANT (1767261600) * G_USEC_PER_SEC;    /* 2026-01-01T10:00:00Z */
  r.started_at = r.created_at + 60 * G_USEC_PER_SEC;
  if (state == StreamState::ended || state == StreamState::failed)
    r.ended_at = r.started_at + 60 * G_USEC_PER_SEC;
  return r;
}

const char kPlayback[] = "http://127.0.0.1:8080/live/abc123def456/index.m3u8";

void
post (Sender & s, const std::string & type, const StreamRecord & r)
{
  s->post_stream_event (StreamEvent { type, r }, kPlayback);
}

/* the parsed body; fails the test unless it is a JSON object */
struct Body {
  JsonParser *parser = json_parser_new ();
  JsonObject *root = nullptr;

  ~Body () { g_object_unref (parser); }
  Body (const Body &) = delete;
  Body & operator= (const Body &) = delete;
  explicit Body (const std::string & text)
  {
    fail_unless (json_parser_load_from_data (parser, text.data (), (gssize) text.size (), nullptr),
        "not JSON: %s", text.c_str ());
    JsonNode *node = json_parser_get_root (parser);
    fail_unless (node && JSON_NODE_HOLDS_OBJECT (node), "not an object: %s", text.c_str ());
    root = json_node_get_object (node);
  }
  JsonObject *stream () const { return json_object_get_object_member (root, "stream"); }
  std::string title () const { return json_object_get_string_member (stream (), "title"); }
};

std::string
hmac_hex (const std::string & key, const std::string & data)
{
  g_autofree gchar *hex = g_compute_hmac_for_data (G_CHECKSUM_SHA256,
      (const guchar *) key.data (), key.size (), (const guchar *) data.data (), data.size ());
  return hex;
}

/* the signature a receiver computes from what it got */
bool
signature_valid (const Request & r, const std::string & secret)
{
  return r.header ("x-castline-signature")
      == "sha256=" + hmac_hex (secret, r.header ("x-castline-timestamp") + "." + r.body);
}

std::vector<std::string>
titles (const std::vector<Request> & requests)
{
  std::vector<std::string> out;
  for (auto & r : requests)
    out.push_back (Body (r.body).title ());
  return out;
}

bool
any_warning_has (const std::string & text)
{
  return std::any_of (warnings.begin (), warnings.end (),
      [&text] (const std::string & w) { return w.find (text) != std::string::npos; });
}

}  // namespace

GST_START_TEST (test_body_and_headers_are_signed)
{
  Receiver rx;
  Sender s (settings ({ rx.url ("/hook") }));
  StreamRecord r = record ("Sunday service", StreamState::failed);
  r.reason = "pipeline error: no more buffers";
  post (s, "stream.failed", r);
  fail_unless (wait_for ([&] { return s->idle (); }, 5000), "not delivered");
  auto got = rx.requests ();
  fail_unless_equals_int (got.size (), 1);
  const Request & q = got[0];
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  fail_unless_equals_string (q.method.c_str (), "POST");
  fail_unless_equals_string (q.path.c_str (), "/hook");
  fail_unless_equals_string (q.header ("content-type").c_str (), "application/json");
  fail_unless_equals_string (q.header ("user-agent").c_str (), "castline/" CASTLINE_VERSION);
  fail_unless_equals_string (q.header ("x-castline-event").c_str (), "stream.failed");
  std::string ts = q.header ("x-castline-timestamp");
  guint64 t = 0;
  fail_unless (g_ascii_string_to_unsigned (ts.c_str (), 10, 0, G_MAXINT64, &t, nullptr),
      "timestamp '%s'", ts.c_str ());
  fail_unless (ABS ((gint64) t - now) <= 60, "timestamp %s is not now", ts.c_str ());
  std::string sig = q.header ("x-castline-signature");
  fail_unless (g_str_has_prefix (sig.c_str (), "sha256="), "%s", sig.c_str ());
  fail_unless_equals_int (sig.size (), 7 + 64);
  for (char c : sig.substr (7))
    fail_unless (g_ascii_isdigit (c) || (c >= 'a' && c <= 'f'), "not lowercase hex: %s",
        sig.c_str ());
  fail_unless (signature_valid (q, kSecret), "signature %s does not check", sig.c_str ());
  fail_if (signature_valid (q, "another secret"));

  Body b (q.body);
  std::string id = json_object_get_string_member (b.root, "id");
  fail_unless (g_uuid_string_is_valid (id.c_str ()), "id %s", id.c_str ());
  fail_unless_equals_string (q.header ("x-castline-delivery").c_str (), id.c_str ());
  fail_unless_equals_string (json_object_get_string_member (b.root, "type"), "stream.failed");
  const char *created = json_object_get_string_member (b.root, "created_at");
  fail_unless (g_str_has_suffix (created, "Z"), "created_at %s is not UTC", created);
  g_autoptr (GDateTime) when = g_date_time_new_from_iso8601 (created, nullptr);
  fail_unless (when && ABS (g_date_time_to_unix (when) - now) <= 60, "created_at %s", created);
  fail_unless_equals_int (json_object_get_size (b.root), 4);

  JsonObject *st = b.stream ();
  fail_unless (st);
  std::map<std::string, std::string> want = {
    { "id", "abc123def456" }, { "title", "Sunday service" }, { "state", "failed" },
    { "reason", "pipeline error: no more buffers" }, { "pipeline", "passthrough" },
    { "ingest", "websocket" }, { "node", "node-a" }, { "created_at", "2026-01-01T10:00:00Z" },
    { "started_at", "2026-01-01T10:01:00Z" }, { "ended_at", "2026-01-01T10:02:00Z" },
    { "playback_url", kPlayback },
  };
  /* the strings, whether it is recorded, and no scheduled time (null) */
  fail_unless_equals_int (json_object_get_size (st), want.size () + 2);
  fail_unless (json_object_has_member (st, "record"));
  fail_if (json_object_get_boolean_member (st, "record"));
  fail_unless (json_object_has_member (st, "scheduled_at"));
  fail_unless (json_object_get_null_member (st, "scheduled_at"));
  for (auto & [name, value] : want) {
    fail_unless (json_object_has_member (st, name.c_str ()), "no stream.%s", name.c_str ());
    fail_unless_equals_string (json_object_get_string_member (st, name.c_str ()), value.c_str ());
  }
  fail_unless (q.body.find (kKeyHash) == std::string::npos, "the key hash was sent");
  fail_unless (q.body.find (kSecret) == std::string::npos, "the secret was sent");
  fail_unless_equals_int (s->stats ().delivered, 1);
  fail_unless_equals_int (s->stats ().failed, 0);
}
GST_END_TEST;

GST_START_TEST (test_reason_only_when_failed)
{
  Receiver rx;
  Sender s (settings ({ rx.url ("/hook") }));
  StreamRecord r = record ("live one");
  r.reason = "left over";
  post (s, "stream.started", r);
  fail_unless (wait_for ([&] { return s->idle (); }, 5000));
  Body b (rx.requests ().at (0).body);
  fail_if (json_object_has_member (b.stream (), "reason"));
  fail_unless_equals_string (json_object_get_string_member (b.stream (), "state"), "live");
  fail_unless (json_object_get_null_member (b.stream (), "ended_at"), "ended_at is not null");
}
GST_END_TEST;

GST_START_TEST (test_no_signature_without_secret)
{
  Receiver rx;
  Sender s (settings ({ rx.url ("/hook") }, ""));
  post (s, "stream.created", record ("unsigned", StreamState::created));
  fail_unless (wait_for ([&] { return s->idle (); }, 5000));
  auto got = rx.requests ();
  fail_unless_equals_int (got.size (), 1);
  fail_if (got[0].has ("x-castline-signature"), "signed without a secret");
  fail_unless (got[0].has ("x-castline-timestamp"));
  fail_unless_equals_string (got[0].header ("x-castline-event").c_str (), "stream.created");
  fail_unless_equals_int (s->stats ().delivered, 1);
}
GST_END_TEST;

GST_START_TEST (test_order_is_kept_one_in_flight)
{
  Receiver rx;
  /* slow answers: a sender with several requests out would show it */
  rx.script ("/hook", std::vector<Reply> (20, late_reply (30)));
  Sender s (settings ({ rx.url ("/hook") }));
  std::vector<std::string> want;
  for (int i = 0; i < 20; i++) {
    want.push_back (std::to_string (i));
    post (s, "stream.started", record (want.back ()));
  }
  fail_unless (wait_for ([&] { return s->idle (); }, 10000), "not all delivered");
  fail_unless (titles (rx.requests ()) == want, "out of order");
  fail_unless_equals_int (rx.max_in_flight (), 1);
  /* one after the other on one kept-alive connection, not one each */
  fail_unless_equals_int (rx.connections (), 1);
  fail_unless_equals_int (s->stats ().delivered, 20);
}
GST_END_TEST;

GST_START_TEST (test_server_error_is_retried_and_delivered_once)
{
  Receiver rx;
  rx.script ("/hook", { reply (500) });
  Sender s (settings ({ rx.url ("/hook") }, kSecret, 3));
  post (s, "stream.ended", record ("retry me", StreamState::ended));
  fail_unless (wait_for ([&] { return s->idle (); }, 5000), "not delivered");
  spin (500);                          /* a duplicate would come within the backoff */
  auto got = rx.requests ();
  fail_unless_equals_int (got.size (), 2);
  fail_unless_equals_string (got[0].header ("x-castline-delivery").c_str (),
      got[1].header ("x-castline-delivery").c_str ());
  fail_unless (got[0].body == got[1].body, "a retry sent another body");
  fail_unless (signature_valid (got[0], kSecret) && signature_valid (got[1], kSecret));
  WebhookStats st = s->stats ();
  fail_unless_equals_int (st.delivered, 1);
  fail_unless_equals_int (st.retried, 1);
  fail_unless_equals_int (st.failed, 0);
  fail_unless (warnings.empty (), "a warning for a delivered event");
}
GST_END_TEST;

GST_START_TEST (test_too_many_requests_waits_for_retry_after)
{
  Receiver rx;
  rx.script ("/hook", { reply (429, "1") });
  /* backoff alone would retry within 50 ms */
  Sender s (settings ({ rx.url ("/hook") }), 50, 5000);
  post (s, "stream.created", record ("later", StreamState::created));
  fail_unless (wait_for ([&] { return s->idle (); }, 5000), "not delivered");
  auto got = rx.requests ();
  fail_unless_equals_int (got.size (), 2);
  gint64 waited_ms = (got[1].at - got[0].at) / 1000;
  fail_unless (waited_ms >= 950 && waited_ms < 3000, "retried after %" G_GINT64_FORMAT " ms",
      waited_ms);
  fail_unless_equals_int (s->stats ().retried, 1);
  fail_unless_equals_int (s->stats ().delivered, 1);
}
GST_END_TEST;

GST_START_TEST (test_retry_after_is_capped)
{
  Receiver rx;
  rx.script ("/hook", { reply (503, "3600") });
  Sender s (settings ({ rx.url ("/hook") }), 50, 300);
  post (s, "stream.created", record ("capped", StreamState::created));
  fail_unless (wait_for ([&] { return s->idle (); }, 3000), "an hour's Retry-After was obeyed");
  auto got = rx.requests ();
  fail_unless_equals_int (got.size (), 2);
  fail_unless ((got[1].at - got[0].at) / 1000 >= 250, "Retry-After ignored");
}
GST_END_TEST;

GST_START_TEST (test_client_error_gives_up_at_once)
{
  Receiver rx;
  rx.script ("/hook", { reply (400) });
  std::string url = "http://hookuser:hookpass@127.0.0.1:" + std::to_string (rx.port ())
      + "/hook?token=querytoken";
  Sender s (settings ({ url }));
  post (s, "stream.created", record ("refused", StreamState::created));
  post (s, "stream.started", record ("next"));
  fail_unless (wait_for ([&] { return s->idle (); }, 5000));
  spin (300);                          /* a retry would come within 50 ms */
  auto got = rx.requests ();
  fail_unless_equals_int (got.size (), 2);
  fail_unless (titles (got) == std::vector<std::string> ({ "refused", "next" }));
  WebhookStats st = s->stats ();
  fail_unless_equals_int (st.failed, 1);
  fail_unless_equals_int (st.retried, 0);
  fail_unless_equals_int (st.delivered, 1);
  fail_unless_equals_int (warnings.size (), 1);
  const std::string & w = warnings[0];
  fail_unless (w.find ("400") != std::string::npos, "%s", w.c_str ());
  fail_unless (w.find ("http://127.0.0.1:" + std::to_string (rx.port ()) + "/hook")
      != std::string::npos, "%s", w.c_str ());
  for (const char *secret : { "hookuser", "hookpass", "querytoken", kSecret })
    fail_unless (w.find (secret) == std::string::npos, "'%s' logged: %s", secret, w.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_no_answer_times_out_and_is_retried)
{
  Silent silent;
  Sender s (settings ({ silent.url () }, kSecret, 1, 1));
  gint64 t0 = g_get_monotonic_time ();
  post (s, "stream.created", record ("nobody home", StreamState::created));
  fail_unless (wait_for ([&] { return s->stats ().failed == 1; }, 8000), "never gave up");
  gint64 took_ms = (g_get_monotonic_time () - t0) / 1000;
  /* two attempts of a 1 s time-out each */
  fail_unless (took_ms >= 1900, "gave up after %" G_GINT64_FORMAT " ms", took_ms);
  fail_unless_equals_int (s->stats ().retried, 1);
  fail_unless_equals_int (s->stats ().delivered, 0);
  fail_unless (any_warning_has ("gave up after 2 attempts"));
}
GST_END_TEST;

GST_START_TEST (test_unreachable_port_is_retried_then_failed)
{
  std::string url = "http://127.0.0.1:" + std::to_string (closed_port ()) + "/hook";
  Sender s (settings ({ url }, kSecret, 2));
  post (s, "stream.created", record ("refused", StreamState::created));
  fail_unless (wait_for ([&] { return s->idle (); }, 5000), "never gave up");
  WebhookStats st = s->stats ();
  fail_unless_equals_int (st.failed, 1);
  fail_unless_equals_int (st.retried, 2);
  fail_unless_equals_int (st.delivered, 0);
  fail_unless (any_warning_has ("gave up after 3 attempts"));
}
GST_END_TEST;

GST_START_TEST (test_full_queue_drops_the_oldest)
{
  Receiver rx;
  rx.script ("/hook", { held_reply () });
  Sender s (settings ({ rx.url ("/hook") }, kSecret, 5, 30));
  post (s, "stream.created", record ("first", StreamState::created));
  fail_unless (wait_for ([&] { return rx.count () == 1; }, 5000), "the first never came");
  const size_t extra = 5;
  std::vector<std::string> want = { "first" };
  for (size_t i = 0; i < WebhookSender::kMaxQueue + extra; i++) {
    post (s, "stream.started", record (std::to_string (i)));
    if (i >= extra)
      want.push_back (std::to_string (i));
  }
  fail_unless_equals_int (s->stats ().dropped, extra);
  fail_unless_equals_int (warnings.size (), extra);
  rx.release ();
  fail_unless (wait_for ([&] { return s->idle (); }, 40000), "the queue did not drain");
  auto got = titles (rx.requests ());
  fail_unless_equals_int (got.size (), want.size ());
  fail_unless (got == want, "not the oldest dropped, or out of order");
  fail_unless_equals_int (s->stats ().delivered, WebhookSender::kMaxQueue + 1);
}
GST_END_TEST;

GST_START_TEST (test_each_url_has_its_own_queue)
{
  Receiver rx;
  rx.script ("/a", { reply (503) });
  /* /a's retry comes 0.5 to 1 s later; /b must not wait for it */
  Sender s (settings ({ rx.url ("/a"), rx.url ("/b") }), 1000, 1000);
  post (s, "stream.created", record ("one", StreamState::created));
  post (s, "stream.started", record ("two"));
  fail_unless (wait_for ([&] { return rx.count ("/b") == 2; }, 400), "/b waited for /a");
  fail_unless_equals_int (rx.count ("/a"), 1);
  fail_unless (wait_for ([&] { return s->idle (); }, 5000));
  auto a = rx.requests ("/a"), b = rx.requests ("/b");
  fail_unless_equals_int (a.size (), 3);
  fail_unless (titles (b) == std::vector<std::string> ({ "one", "two" }));
  fail_unless (titles ({ a[1], a[2] }) == titles (b));
  /* one event, one id, to every URL */
  fail_unless (a[2].header ("x-castline-delivery") == b[1].header ("x-castline-delivery"));
  fail_unless_equals_int (s->stats ().delivered, 4);
  fail_unless_equals_int (s->stats ().retried, 1);
}
GST_END_TEST;

GST_START_TEST (test_post_returns_at_once)
{
  Silent silent;
  Sender s (settings ({ silent.url () }, kSecret, 5, 5));
  gint64 t0 = g_get_monotonic_time ();
  for (int i = 0; i < 100; i++)
    post (s, "stream.started", record (std::to_string (i)));
  gint64 took_ms = (g_get_monotonic_time () - t0) / 1000;
  /* sending in the call would wait 5 s for the first answer */
  fail_unless (took_ms < 500, "posting took %" G_GINT64_FORMAT " ms", took_ms);
  WebhookStats st = s->stats ();
  fail_unless (st.delivered == 0 && st.failed == 0 && st.retried == 0);
  fail_if (s->idle ());
}
GST_END_TEST;

GST_START_TEST (test_flush_waits_for_deliveries)
{
  Receiver rx;
  rx.script ("/hook", { late_reply (300) });
  Sender s (settings ({ rx.url ("/hook") }));
  bool done = false;
  s->flush (3000, [&done] { done = true; });
  fail_unless (done, "an idle sender did not flush at once");

  done = false;
  post (s, "stream.ended", record ("last", StreamState::ended));
  gint64 t0 = g_get_monotonic_time ();
  s->flush (3000, [&done] { done = true; });
  fail_if (done);
  fail_unless (wait_for ([&] { return done; }, 5000));
  gint64 took_ms = (g_get_monotonic_time () - t0) / 1000;
  fail_unless (took_ms >= 250 && took_ms < 2000, "flushed after %" G_GINT64_FORMAT " ms",
      took_ms);
  fail_unless_equals_int (s->stats ().delivered, 1);
}
GST_END_TEST;

GST_START_TEST (test_flush_gives_up_at_its_timeout)
{
  Silent silent;
  Sender s (settings ({ silent.url () }, kSecret, 5, 30));
  post (s, "stream.ended", record ("never", StreamState::ended));
  bool done = false;
  gint64 t0 = g_get_monotonic_time ();
  s->flush (300, [&done] { done = true; });
  fail_unless (wait_for ([&] { return done; }, 3000), "flush never ended");
  gint64 took_ms = (g_get_monotonic_time () - t0) / 1000;
  fail_unless (took_ms >= 280 && took_ms < 1500, "flushed after %" G_GINT64_FORMAT " ms",
      took_ms);
  fail_unless (any_warning_has ("abandoned"));
}
GST_END_TEST;

GST_START_TEST (test_config_reads_webhooks)
{
  g_autofree gchar *dir = g_dir_make_tmp ("castline-webhooks-XXXXXX", nullptr);
  std::string path = std::string (dir) + "/c.json";
  auto load = [&path] (const std::string & text, Config & c, std::string & error) {
    fail_unless (g_file_set_contents (path.c_str (), text.c_str (), -1, nullptr));
    c = default_config ();
    error.clear ();
    return load_config (path, c, error);
  };
  Config c;
  std::string error;
  fail_unless (load ("{}", c, error), "%s", error.c_str ());
  fail_unless (c.webhooks.urls.empty () && c.webhooks.secret.empty ());
  fail_unless_equals_int (c.webhooks.retries, 5);
  fail_unless_equals_int (c.webhooks.timeout, 5);

  fail_unless (load ("{\"webhooks\": {\"urls\": [\"http://127.0.0.1:9/a\", "
          "\"https://u:p@hooks.example/b?t=1\"], \"secret\": \"s\", \"retries\": 0, "
          "\"timeout\": 60}}", c, error), "%s", error.c_str ());
  fail_unless_equals_int (c.webhooks.urls.size (), 2);
  fail_unless_equals_string (c.webhooks.urls[1].c_str (), "https://u:p@hooks.example/b?t=1");
  fail_unless_equals_string (c.webhooks.secret.c_str (), "s");
  fail_unless_equals_int (c.webhooks.retries, 0);
  fail_unless_equals_int (c.webhooks.timeout, 60);

  const char *bad[] = {
    "{\"webhooks\": {\"urls\": [\"ftp://u:tok3n@x/a\"]}}",
    "{\"webhooks\": {\"urls\": [\"not a url tok3n\"]}}",
    "{\"webhooks\": {\"urls\": [\"http://\"]}}",
    "{\"webhooks\": {\"urls\": [\"/relative/tok3n\"]}}",
    "{\"webhooks\": {\"urls\": [\"http://ok.example/\", \"http://bad host/tok3n\"]}}",
    "{\"webhooks\": {\"urls\": \"http://x/\"}}",
    "{\"webhooks\": {\"urls\": [1]}}",
    "{\"webhooks\": {\"secret\": 5}}",
    "{\"webhooks\": {\"retries\": 21}}",
    "{\"webhooks\": {\"retries\": -1}}",
    "{\"webhooks\": {\"timeout\": 0}}",
    "{\"webhooks\": {\"timeout\": 61}}",
    "{\"webhooks\": {\"url\": []}}",
    "{\"webhooks\": []}",
  };
  for (const char *b : bad) {
    fail_if (load (b, c, error), "accepted %s", b);
    fail_unless (error.find ("webhooks") != std::string::npos, "%s: %s", b, error.c_str ());
    fail_unless (error.find ("tok3n") == std::string::npos, "a URL in the error: %s",
        error.c_str ());
  }
  g_unlink (path.c_str ());
  g_rmdir (dir);
}
GST_END_TEST;

static Suite *
webhooks_suite (void)
{
  Suite *s = suite_create ("webhooks");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_body_and_headers_are_signed);
  tcase_add_test (tc, test_reason_only_when_failed);
  tcase_add_test (tc, test_no_signature_without_secret);
  tcase_add_test (tc, test_order_is_kept_one_in_flight);
  tcase_add_test (tc, test_server_error_is_retried_and_delivered_once);
  tcase_add_test (tc, test_too_many_requests_waits_for_retry_after);
  tcase_add_test (tc, test_retry_after_is_capped);
  tcase_add_test (tc, test_client_error_gives_up_at_once);
  tcase_add_test (tc, test_no_answer_times_out_and_is_retried);
  tcase_add_test (tc, test_unreachable_port_is_retried_then_failed);
  tcase_add_test (tc, test_full_queue_drops_the_oldest);
  tcase_add_test (tc, test_each_url_has_its_own_queue);
  tcase_add_test (tc, test_post_returns_at_once);
  tcase_add_test (tc, test_flush_waits_for_deliveries);
  tcase_add_test (tc, test_flush_gives_up_at_its_timeout);
  tcase_add_test (tc, test_config_reads_webhooks);
  return s;
}

int
main (int argc, char **argv)
{
  gst_check_init (&argc, &argv);
  /* the sender's warnings are part of what is tested, not failures */
  g_log_set_handler ("castline", (GLogLevelFlags) (G_LOG_LEVEL_WARNING | G_LOG_FLAG_FATAL),
      on_warning, nullptr);
  g_test_log_set_fatal_handler (fatal_unless_ours, nullptr);
  return gst_check_run_suite (webhooks_suite (), "webhooks", __FILE__);
}
