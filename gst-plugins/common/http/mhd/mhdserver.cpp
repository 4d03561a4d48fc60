#include "common/http/mhd/mhdserver.h"

#include "common/http/replies.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdarg>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace castline::http {

namespace {

/* RFC 6455 4.2.2 */
constexpr char kWebSocketGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/* descriptors kept out of the HTTP server's reach, for the streams */
constexpr unsigned kReservedDescriptors = 256;
/* one chunk of an event stream handed to the server at a time */
constexpr size_t kStreamBlock = 16 * 1024;

class MhdStream;

/* One request on one connection, from its headers to its end. Held by the
 * connection (its request closure) and by whatever answers it later on the
 * main context; `lock` guards the connection's use from other threads,
 * which ends when the request is done. */
struct Exchange : std::enable_shared_from_this<Exchange> {
  std::weak_ptr<MhdHttpServer::State> server;
  MHD_Connection *connection = nullptr;
  const Route *route = nullptr;
  Request request;
  std::string body;
  bool dispatched = false;         /* the route has it */

  std::mutex lock;                 /* below */
  bool done = false;               /* the request ended: connection is gone */
  bool suspended = false;          /* waiting for the main context */
  std::shared_ptr<MhdStream> stream;
};

using ExchangePtr = std::shared_ptr<Exchange>;

}  // namespace

struct MhdHttpServer::State : std::enable_shared_from_this<MhdHttpServer::State> {
  const Router *router = nullptr;
  ServerLimits limits;
  GMainContext *context = nullptr;   /* ref; where the routes run */
  MHD_Daemon *daemon = nullptr;

  std::mutex lock;                 /* below */
  bool stopping = false;           /* answering 503, waiting for the last requests */
  bool stopped = false;            /* the daemon is (being) stopped */
  unsigned closing_slots = 0;      /* release_slot () calls under way */
  std::condition_variable slots_closed;   /* closing_slots went to 0 */
  std::set<Exchange *> waiting;    /* suspended for the main context */
  std::set<Exchange *> streaming;  /* answered with a stream */

  std::mutex counts_lock;          /* below */
  std::map<std::string, guint64> refused;

  std::mutex log_lock;             /* below: the same message once per 10 s */
  std::string last_log;
  gint64 last_log_us = 0;
  unsigned repeated = 0;
};

namespace {

using State = MhdHttpServer::State;

/* Runs job on the server's context, soon (an idle source: never at once,
 * even when called there). Any thread. */
void
run_on (GMainContext * context, std::function<void ()> job)
{
  GSource *idle = g_idle_source_new ();
  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_set_callback (idle, [] (gpointer data) -> gboolean {
        (*static_cast<std::function<void ()> *> (data)) ();
        return G_SOURCE_REMOVE;
      }, new std::function<void ()> (std::move (job)),
      [] (gpointer data) { delete static_cast<std::function<void ()> *> (data); });
  g_source_attach (idle, context);
  g_source_unref (idle);
}

/* the context of the server an exchange is on (nullptr: the default) */
GMainContext *
context_of (const std::weak_ptr<State> & server)
{
  auto s = server.lock ();
  return s ? s->context : nullptr;
}

/* ---- what the server refuses, counted ---- */

void
count_refusal (State * server, const std::string & reason)
{
  std::lock_guard<std::mutex> lk (server->counts_lock);
  server->refused[reason]++;
}

/* a refusal status of ours (or a route's) */
void
count_status (State * server, unsigned status)
{
  switch (status) {
    case 400: case 403: case 408: case 413: case 414: case 421: case 429: case 431: case 503:
      count_refusal (server, std::to_string (status));
      break;
    default:
      break;
  }
}

/* ---- requests ---- */

MHD_Result
add_header (void *cls, MHD_ValueKind, const char *key, const char *value)
{
  static_cast<Headers *> (cls)->append (key, value ? value : "");
  return MHD_YES;
}

MHD_Result
add_argument (void *cls, MHD_ValueKind, const char *key, const char *value)
{
  static_cast<std::map<std::string, std::string> *> (cls)->insert_or_assign (key,
      value ? value : "");
  return MHD_YES;
}

/* the media type of a Content-Type, without parameters, lower case */
std::string
media_type_of (const char *content_type)
{
  if (!content_type)
    return "";
  std::string t (content_type, strcspn (content_type, ";"));
  while (!t.empty () && (t.back () == ' ' || t.back () == '\t'))
    t.pop_back ();
  size_t start = t.find_first_not_of (" \t");
  t = start == std::string::npos ? "" : t.substr (start);
  std::transform (t.begin (), t.end (), t.begin (), [] (unsigned char c) {
        return (char) g_ascii_tolower (c);
      });
  return t;
}

/* no Content-Length, or one value (repeated the same is allowed) */
bool
one_content_length (const Headers & headers)
{
  const std::string *seen = nullptr;
  for (auto & [name, value] : headers.fields ()) {
    if (g_ascii_strcasecmp (name.c_str (), "Content-Length") != 0)
      continue;
    if (seen && *seen != value)
      return false;
    seen = &value;
  }
  return true;
}

void
set_client_address (MHD_Connection * connection, Request & r)
{
  const MHD_ConnectionInfo *info = MHD_get_connection_info (connection,
      MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  const sockaddr *sa = info ? info->client_addr : nullptr;
  char text[INET6_ADDRSTRLEN] = "";
  if (sa && sa->sa_family == AF_INET) {
    auto *in = reinterpret_cast<const sockaddr_in *> (sa);
    inet_ntop (AF_INET, &in->sin_addr, text, sizeof text);
    r.remote_port = ntohs (in->sin_port);
    r.remote_is_loopback = (ntohl (in->sin_addr.s_addr) >> 24) == 127;
  } else if (sa && sa->sa_family == AF_INET6) {
    auto *in6 = reinterpret_cast<const sockaddr_in6 *> (sa);
    inet_ntop (AF_INET6, &in6->sin6_addr, text, sizeof text);
    r.remote_port = ntohs (in6->sin6_port);
    r.remote_is_loopback = IN6_IS_ADDR_LOOPBACK (&in6->sin6_addr)
        || (IN6_IS_ADDR_V4MAPPED (&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127);
  }
  r.remote_host = text;
}

/* ---- responses ---- */

void
free_bytes (void *bytes)
{
  g_bytes_unref (static_cast<GBytes *> (bytes));
}

MHD_Response *
make_response (const Response & res)
{
  MHD_Response *r = nullptr;
  if (res.file) {
    int fd = res.file->release ();
    r = MHD_create_response_from_fd_at_offset64 (res.file->length (), fd,
        (uint64_t) res.file->offset ());
    if (!r)
      close (fd);
  } else if (res.body.size () > 0) {
    GBytes *bytes = g_bytes_ref (res.body.get ());
    gsize n = 0;
    gconstpointer data = g_bytes_get_data (bytes, &n);
    r = MHD_create_response_from_buffer_with_free_callback_cls (n, const_cast<void *> (data),
        free_bytes, bytes);
    if (!r)
      g_bytes_unref (bytes);
  }
  if (!r)
    r = MHD_create_response_from_buffer (0, nullptr, MHD_RESPMEM_PERSISTENT);
  for (auto & [name, value] : res.headers.fields ())
    MHD_add_response_header (r, name.c_str (), value.c_str ());
  return r;
}

/* on a server thread, in the access handler */
MHD_Result
queue (State * server, MHD_Connection * connection, const Response & res)
{
  count_status (server, res.status);
  MHD_Response *r = make_response (res);
  MHD_Result ok = MHD_queue_response (connection, res.status ? res.status : 500, r);
  MHD_destroy_response (r);
  return ok;
}

/* any thread, for a suspended connection: the answer goes out. The
 * response is dropped only after ex->lock is released: once resumed, a
 * server thread may be reading it, holding its mutex, and want ex->lock
 * (MhdStream::read) */
void
queue_and_resume (const ExchangePtr & ex, MHD_Response * r, unsigned status)
{
  auto server = ex->server.lock ();
  if (server)
    count_status (server.get (), status);
  {
    std::lock_guard<std::mutex> lk (ex->lock);
    if (!ex->done && ex->suspended) {
      MHD_queue_response (ex->connection, status ? status : 500, r);
      ex->suspended = false;
      if (server) {
        std::lock_guard<std::mutex> slk (server->lock);
        server->waiting.erase (ex.get ());
      }
      MHD_resume_connection (ex->connection);
    }
  }
  MHD_destroy_response (r);
}

void
answer_later (const ExchangePtr & ex, const Response & res)
{
  queue_and_resume (ex, make_response (res), res.status);
}

/* ---- streamed answers (Server-Sent Events) ---- */

class MhdStream : public ResponseStream {
 public:
  explicit MhdStream (ExchangePtr ex) : ex_ (std::move (ex)) {}

  void
  write (std::string_view text) override
  {
    std::lock_guard<std::mutex> lk (lock_);
    if (aborted_ || gone_)
      return;
    chunks_.emplace_back (text);
    unsent_ += text.size ();
    wake ();
  }

  size_t unsent () const override
  {
    std::lock_guard<std::mutex> lk (lock_);
    return unsent_;
  }

  void
  abort () override
  {
    std::lock_guard<std::mutex> lk (lock_);
    aborted_ = true;
    wake ();
  }

  void
  set_closed_handler (std::function<void ()> handler) override
  {
    closed_ = std::move (handler);
  }

  /* server thread: the next bytes, 0 after suspending when there are
   * none yet, or the end */
  ssize_t
  read (char *buf, size_t max)
  {
    std::lock_guard<std::mutex> lk (lock_);
    if (aborted_)
      return MHD_CONTENT_READER_END_WITH_ERROR;
    if (chunks_.empty ()) {
      std::lock_guard<std::mutex> elk (ex_->lock);
      if (ex_->done)
        return MHD_CONTENT_READER_END_WITH_ERROR;
      waiting_ = true;
      MHD_suspend_connection (ex_->connection);
      return 0;
    }
    size_t n = 0;
    while (n < max && !chunks_.empty ()) {
      std::string & front = chunks_.front ();
      size_t take = std::min (max - n, front.size () - offset_);
      memcpy (buf + n, front.data () + offset_, take);
      n += take;
      offset_ += take;
      if (offset_ == front.size ()) {
        chunks_.pop_front ();
        offset_ = 0;
      }
    }
    unsent_ -= n;
    return (ssize_t) n;
  }

  /* the request ended (the client left, or the stream was cut off): the
   * closed handler runs on the main context */
  void
  ended ()
  {
    {
      std::lock_guard<std::mutex> lk (lock_);
      gone_ = true;
      chunks_.clear ();
      unsent_ = 0;
    }
    std::weak_ptr<MhdStream> weak = self_;
    run_on (context_of (ex_->server), [weak] {
          if (auto self = weak.lock ())
            if (auto closed = std::move (self->closed_))
              closed ();
        });
  }

  std::weak_ptr<MhdStream> self_;

 private:
  /* under lock_ */
  void
  wake ()
  {
    if (!waiting_)
      return;
    std::lock_guard<std::mutex> elk (ex_->lock);
    if (ex_->done)
      return;
    waiting_ = false;
    MHD_resume_connection (ex_->connection);
  }

  ExchangePtr ex_;
  mutable std::mutex lock_;        /* below */
  std::deque<std::string> chunks_;
  size_t offset_ = 0;              /* into chunks_.front () */
  size_t unsent_ = 0;
  bool waiting_ = false;           /* suspended for data */
  bool aborted_ = false;
  bool gone_ = false;
  std::function<void ()> closed_;  /* main context */
};

ssize_t
read_stream (void *cls, uint64_t, char *buf, size_t max)
{
  return (*static_cast<std::shared_ptr<MhdStream> *> (cls))->read (buf, max);
}

void
drop_stream_ref (void *cls)
{
  delete static_cast<std::shared_ptr<MhdStream> *> (cls);
}

/* ---- answers given later ---- */

/* On the connection's server thread, in the access handler: the
 * connection waits (suspended, holding no thread) for an answer that
 * queue_and_resume gives from any thread. false when the server is
 * stopping (nothing suspended: answer 503 at once). */
bool
suspend_for_answer (State * server, const ExchangePtr & ex)
{
  {
    std::lock_guard<std::mutex> slk (server->lock);
    if (server->stopping)
      return false;
    server->waiting.insert (ex.get ());
  }
  std::lock_guard<std::mutex> lk (ex->lock);
  ex->suspended = true;
  MHD_suspend_connection (ex->connection);
  return true;
}

void
reply_stopping (Response & res)
{
  res.headers.set ("Retry-After", "10");
  reply_error (res, 503, "the server is stopping");
}

/* finish () may come from any thread: the connection is suspended until
 * then (a null exchange: nothing to answer) */
class MhdPending : public PendingResponse {
 public:
  explicit MhdPending (ExchangePtr ex) : ex_ (std::move (ex)) {}
  ~MhdPending () override
  {
    if (ex_) {
      Response unanswered;
      finish (std::move (unanswered));
    }
  }
  void
  finish (Response response) override
  {
    if (auto ex = std::exchange (ex_, nullptr))
      answer_later (ex, response);
  }

 private:
  ExchangePtr ex_;
};

/* The transport of a route run on the server's thread (on_server_thread):
 * it may defer (a blocking playlist reload parks its request until the
 * part it asks for exists, and is answered from whatever thread makes
 * it); it does not stream. */
class ServerThreadTransport : public Transport {
 public:
  ServerThreadTransport (State * server, ExchangePtr ex) : server_ (server), ex_ (std::move (ex)) {}

  std::shared_ptr<PendingResponse> defer () override
  {
    if (!suspend_for_answer (server_, ex_)) {
      refused_ = true;
      return std::make_shared<MhdPending> (nullptr);
    }
    return std::make_shared<MhdPending> (ex_);
  }

  std::shared_ptr<ResponseStream> start_stream (const Response &) override
  {
    g_critical ("http: a route on the server's thread cannot stream");
    refused_ = true;
    return nullptr;
  }

  /* defer () found the server stopping: the caller answers 503 */
  bool refused () const { return refused_; }

 private:
  State *server_;
  ExchangePtr ex_;
  bool refused_ = false;
};

class MhdTransport : public Transport {
 public:
  explicit MhdTransport (ExchangePtr ex) : ex_ (std::move (ex)) {}

  std::shared_ptr<PendingResponse> defer () override
  {
    return std::make_shared<MhdPending> (ex_);
  }

  std::shared_ptr<ResponseStream> start_stream (const Response & head) override
  {
    auto stream = std::make_shared<MhdStream> (ex_);
    stream->self_ = stream;
    /* the response holds the stream until the server drops it */
    MHD_Response *r = MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, kStreamBlock,
        read_stream, new std::shared_ptr<MhdStream> (stream), drop_stream_ref);
    for (auto & [name, value] : head.headers.fields ())
      MHD_add_response_header (r, name.c_str (), value.c_str ());
    {
      std::lock_guard<std::mutex> lk (ex_->lock);
      ex_->stream = stream;
    }
    if (auto server = ex_->server.lock ()) {
      std::lock_guard<std::mutex> slk (server->lock);
      server->streaming.insert (ex_.get ());
    }
    queue_and_resume (ex_, r, head.status);
    return stream;
  }

 private:
  ExchangePtr ex_;
};

/* ---- WebSocket upgrades ---- */

std::string
websocket_accept (const std::string & key)
{
  std::string text = key + kWebSocketGuid;
  guint8 digest[20];
  gsize len = sizeof digest;
  g_autoptr (GChecksum) sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  g_checksum_update (sha1, reinterpret_cast<const guchar *> (text.data ()), text.size ());
  g_checksum_get_digest (sha1, digest, &len);
  g_autofree gchar *b64 = g_base64_encode (digest, len);
  return b64;
}

bool
header_has_token (const char *value, const char *token)
{
  if (!value)
    return false;
  g_auto (GStrv) parts = g_strsplit (value, ",", -1);
  for (char **p = parts; *p; p++)
    if (g_ascii_strcasecmp (g_strstrip (*p), token) == 0)
      return true;
  return false;
}

/* gives the upgraded connection's slot back to the server, unless the
 * server is stopped (it closed the slot itself then). Any thread.
 * libmicrohttpd is called with no lock of ours held: closing resumes the
 * connection, which takes its server thread's cleanup mutex, and that
 * thread calls on_completed (which takes s->lock) under the same mutex
 * when it cleans up another upgraded connection. The server waits for the
 * calls under way before it stops (~MhdHttpServer). */
void
release_slot (const std::weak_ptr<State> & server, MHD_UpgradeResponseHandle * urh)
{
  auto s = server.lock ();
  if (!s)
    return;
  {
    std::lock_guard<std::mutex> lk (s->lock);
    if (s->stopped)
      return;
    s->closing_slots++;
  }
  MHD_upgrade_action (urh, MHD_UPGRADE_ACTION_CLOSE);
  std::lock_guard<std::mutex> lk (s->lock);
  if (--s->closing_slots == 0)
    s->slots_closed.notify_all ();
}

/* the server's context: the upgraded socket becomes the route's
 * WebSocket; the server's connection slot goes with it */
void
open_websocket (const ExchangePtr & ex, int fd, MHD_UpgradeResponseHandle * urh)
{
  g_autoptr (GError) err = nullptr;
  g_autoptr (GSocket) socket = g_socket_new_from_fd (fd, &err);
  if (!socket) {
    g_warning ("a WebSocket could not be opened: %s", err->message);
    close (fd);
    release_slot (ex->server, urh);
    return;
  }
  g_autoptr (GSocketConnection) conn = g_socket_connection_factory_create_connection (socket);
  std::string url = "ws://localhost" + ex->request.path;
  g_autoptr (GUri) uri = g_uri_parse (url.c_str (), G_URI_FLAGS_ENCODED, nullptr);
  SoupWebsocketConnection *ws = soup_websocket_connection_new (G_IO_STREAM (conn), uri,
      SOUP_WEBSOCKET_CONNECTION_SERVER, ex->request.header ("Origin"), nullptr, nullptr);
  /* the WebSocket holds the server's slot until it closes; a server
   * stopped meanwhile closed it itself */
  struct Slot {
    std::weak_ptr<State> server;
    MHD_UpgradeResponseHandle *urh;
  };
  g_signal_connect_data (ws, "closed", G_CALLBACK (+[] (SoupWebsocketConnection *, gpointer data) {
        auto *slot = static_cast<Slot *> (data);
        release_slot (slot->server, slot->urh);
      }), new Slot { ex->server, urh },
      [] (gpointer data, GClosure *) { delete static_cast<Slot *> (data); }, G_CONNECT_DEFAULT);
  ex->route->websocket.open (ex->request, ws);
  g_object_unref (ws);
}

/* server thread, once the 101 is out; req_cls is the request's */
void
on_upgraded (void *, MHD_Connection *, void *req_cls, const char *extra_in, size_t extra_in_size,
    MHD_socket sock, MHD_UpgradeResponseHandle * urh)
{
  ExchangePtr ex = *static_cast<ExchangePtr *> (req_cls);
  if (extra_in_size > 0) {
    /* a client that sends frames before it has the 101: not one we know */
    g_warning ("WebSocket client %s sent %zu bytes before the upgrade: closed",
        ex->request.remote_host.c_str (), extra_in_size);
    (void) extra_in;
    MHD_upgrade_action (urh, MHD_UPGRADE_ACTION_CLOSE);
    return;
  }
  int fd = dup (sock);
  if (fd < 0) {
    MHD_upgrade_action (urh, MHD_UPGRADE_ACTION_CLOSE);
    return;
  }
  run_on (context_of (ex->server), [ex, fd, urh] { open_websocket (ex, fd, urh); });
}

/* main context: the route's check, then the upgrade or a refusal */
void
upgrade_websocket (const ExchangePtr & ex)
{
  const Request & req = ex->request;
  Response res;
  ex->route->websocket.check (req, res);
  if (res.status) {
    answer_later (ex, res);
    return;
  }
  const char *key = req.header ("Sec-WebSocket-Key");
  if (!req.is ("GET") || !header_has_token (req.header ("Upgrade"), "websocket")
      || !header_has_token (req.header ("Connection"), "upgrade") || !key
      || g_strcmp0 (req.header ("Sec-WebSocket-Version"), "13") != 0) {
    reply_error (res, 400, "this path takes a WebSocket (version 13)");
    if (!header_has_token (req.header ("Upgrade"), "websocket"))
      res.headers.set ("Upgrade", "websocket");
    answer_later (ex, res);
    return;
  }
  MHD_Response *r = MHD_create_response_for_upgrade (on_upgraded, nullptr);
  MHD_add_response_header (r, "Upgrade", "websocket");
  MHD_add_response_header (r, "Sec-WebSocket-Accept", websocket_accept (key).c_str ());
  queue_and_resume (ex, r, MHD_HTTP_SWITCHING_PROTOCOLS);
}

/* ---- the server's callbacks ---- */

/* main context */
void
run_route (const ExchangePtr & ex)
{
  if (ex->route->is_websocket ()) {
    upgrade_websocket (ex);
    return;
  }
  MhdTransport transport (ex);
  Response res (&transport);
  ex->route->handler (ex->request, res);
  if (!res.taken ())
    answer_later (ex, res);
}

std::string
too_large_reason (size_t max_body)
{
  return "the body is over " + (max_body >= 1024 ? std::to_string (max_body / 1024) + " KiB"
      : std::to_string (max_body) + " bytes");
}

MHD_Result
on_request (void *cls, MHD_Connection * connection, const char *url, const char *method,
    const char *, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
  auto *server = static_cast<State *> (cls);
  auto *holder = static_cast<ExchangePtr *> (*req_cls);
  if (!holder) {
    /* the headers are in */
    auto ex = std::make_shared<Exchange> ();
    ex->server = server->weak_from_this ();
    ex->connection = connection;
    ex->route = server->router->find (url);
    Request & r = ex->request;
    r.method = method;
    r.path = url;
    MHD_get_connection_values (connection, MHD_HEADER_KIND, add_header, &r.headers);
    MHD_get_connection_values (connection, MHD_GET_ARGUMENT_KIND, add_argument, &r.query);
    r.content_type = media_type_of (r.header ("Content-Type"));
    set_client_address (connection, r);
    *req_cls = new ExchangePtr (ex);
    if (!one_content_length (r.headers)) {
      /* RFC 9112 6.3: which one frames the body is unknowable */
      Response res;
      reply_error (res, 400, "two different Content-Length values");
      return queue (server, connection, res);
    }
    size_t max_body = ex->route ? ex->route->options.max_body : 0;
    const char *length = r.header ("Content-Length");
    if (length && g_ascii_strtoull (length, nullptr, 10) > max_body) {
      /* refused before the body is read (no 100 Continue either) */
      Response res;
      reply_error (res, 413, too_large_reason (max_body));
      return queue (server, connection, res);
    }
    return MHD_YES;
  }
  const ExchangePtr & ex = *holder;
  if (*upload_data_size > 0) {
    size_t max_body = ex->route ? ex->route->options.max_body : 0;
    if (ex->body.size () + *upload_data_size > max_body) {
      /* a chunked body over the limit: cut off (libmicrohttpd cannot
       * answer in the middle of a body) */
      count_refusal (server, "413");
      return MHD_NO;
    }
    ex->body.append (upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (ex->dispatched)
    return MHD_YES;                    /* resumed with its answer queued */
  ex->dispatched = true;
  if (!ex->body.empty ())
    ex->request.body = Bytes (g_bytes_new (ex->body.data (), ex->body.size ()));
  ex->body.clear ();
  if (!ex->route) {
    Response res;
    reply_plain_text (res, 404, "not found");
    return queue (server, connection, res);
  }
  if (ex->route->options.on_server_thread && !ex->route->is_websocket ()) {
    ServerThreadTransport transport (server, ex);
    Response res (&transport);
    ex->route->handler (ex->request, res);
    if (!res.taken ())
      return queue (server, connection, res);
    if (transport.refused ()) {
      Response stopping;
      reply_stopping (stopping);
      return queue (server, connection, stopping);
    }
    return MHD_YES;                    /* suspended; its answer comes later */
  }
  if (!suspend_for_answer (server, ex)) {
    Response res;
    reply_stopping (res);
    return queue (server, connection, res);
  }
  ExchangePtr job = ex;
  run_on (server->context, [job] { run_route (job); });
  return MHD_YES;
}

void
on_completed (void *cls, MHD_Connection *, void **req_cls, MHD_RequestTerminationCode code)
{
  if (code == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
    count_refusal (static_cast<State *> (cls), "timeout");
  auto *holder = static_cast<ExchangePtr *> (*req_cls);
  if (!holder)
    return;
  *req_cls = nullptr;
  ExchangePtr ex = std::move (*holder);
  delete holder;
  std::shared_ptr<MhdStream> stream;
  {
    std::lock_guard<std::mutex> lk (ex->lock);
    ex->done = true;
    stream = std::move (ex->stream);
  }
  {
    auto *server = static_cast<State *> (cls);
    std::lock_guard<std::mutex> slk (server->lock);
    server->waiting.erase (ex.get ());
    server->streaming.erase (ex.get ());
  }
  if (stream)
    stream->ended ();
}

/* %HH escapes in paths and query arguments, but a NUL: "%00" stays as it
 * is, so that a name never ends early ("app.css%00.js" is no CSS file) */
size_t
unescape (void *, MHD_Connection *, char *s)
{
  char *out = s;
  for (const char *in = s; *in; in++) {
    if (in[0] == '%' && g_ascii_isxdigit (in[1]) && g_ascii_isxdigit (in[2])) {
      char c = (char) (g_ascii_xdigit_value (in[1]) * 16 + g_ascii_xdigit_value (in[2]));
      if (c != '\0') {
        *out++ = c;
        in += 2;
        continue;
      }
    }
    *out++ = *in;
  }
  *out = '\0';
  return (size_t) (out - s);
}

/* libmicrohttpd's own messages: the same one logged once per 10 s, with
 * how often it came meanwhile (a client that keeps the server at its
 * descriptor limit must not fill the disk) */
void
on_log (void *cls, const char *fmt, va_list ap)
{
  auto *server = static_cast<State *> (cls);
  g_autofree gchar *text = g_strdup_vprintf (fmt, ap);
  g_strchomp (text);
  /* its own refusals: what it answered a malformed or oversized request,
   * and connections past the limit */
  unsigned code = 0;
  if (const char *at = strstr (text, "response code is "); at && sscanf (at + 17, "%u", &code) == 1)
    count_status (server, code);
  else if (strstr (text, "connection limit"))
    count_refusal (server, "connection_limit");
  gint64 now = g_get_monotonic_time ();
  std::lock_guard<std::mutex> lk (server->log_lock);
  if (server->last_log == text && now - server->last_log_us < 10 * G_USEC_PER_SEC) {
    server->repeated++;
    return;
  }
  if (server->repeated)
    g_warning ("http: the last message came %u more times", server->repeated);
  g_warning ("http: %s", text);
  server->last_log = text;
  server->last_log_us = now;
  server->repeated = 0;
}

}  // namespace

MhdHttpServer::MhdHttpServer (const Router & router, ServerLimits limits, GMainContext * context)
    : state_ (std::make_shared<State> ())
{
  state_->router = &router;
  state_->limits = limits;
  state_->context = context ? g_main_context_ref (context) : nullptr;
}

MhdHttpServer::~MhdHttpServer ()
{
  if (!state_->daemon)
    return;
  /* libmicrohttpd must not stop with suspended connections (it aborts):
   * the requests waiting for the main context are answered 503, the
   * streams are cut off, and their ends are waited for (at most 5 s) */
  MHD_socket listener = MHD_quiesce_daemon (state_->daemon);
  std::vector<ExchangePtr> open;
  {
    std::lock_guard<std::mutex> lk (state_->lock);
    state_->stopping = true;
    for (auto *set : { &state_->waiting, &state_->streaming })
      for (Exchange *ex : *set)
        open.push_back (ex->shared_from_this ());
  }
  for (const ExchangePtr & ex : open) {
    std::shared_ptr<MhdStream> stream;
    {
      std::lock_guard<std::mutex> lk (ex->lock);
      stream = ex->stream;
    }
    if (stream) {
      stream->abort ();
      continue;
    }
    Response res;
    reply_stopping (res);
    answer_later (ex, res);
  }
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  auto all_done = [&open] {
    return std::all_of (open.begin (), open.end (), [] (const ExchangePtr & ex) {
          std::lock_guard<std::mutex> lk (ex->lock);
          return ex->done;
        });
  };
  while (!all_done () && g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
  {
    /* no WebSocket closes its server slot any more (open_websocket),
     * and those closing one now are done before the daemon goes */
    std::unique_lock<std::mutex> lk (state_->lock);
    state_->stopped = true;
    state_->slots_closed.wait (lk, [this] { return state_->closing_slots == 0; });
  }
  MHD_stop_daemon (state_->daemon);
  if (listener != MHD_INVALID_SOCKET)
    close (listener);
  if (state_->context)
    g_main_context_unref (state_->context);
  state_->context = nullptr;
}

RefusalCounts
MhdHttpServer::refusals () const
{
  std::lock_guard<std::mutex> lk (state_->counts_lock);
  return RefusalCounts (state_->refused.begin (), state_->refused.end ());
}

unsigned
MhdHttpServer::connections () const
{
  if (!state_->daemon)
    return 0;
  const MHD_DaemonInfo *info = MHD_get_daemon_info (state_->daemon,
      MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
  return info ? info->num_connections : 0;
}

bool
MhdHttpServer::listen (const std::string & host, int port, std::string & error)
{
  std::string ip = host == "localhost" ? "127.0.0.1" : host;
  sockaddr_storage ss = {};
  unsigned family_flag = 0;
  auto *in = reinterpret_cast<sockaddr_in *> (&ss);
  auto *in6 = reinterpret_cast<sockaddr_in6 *> (&ss);
  if (inet_pton (AF_INET, ip.c_str (), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons ((uint16_t) port);
  } else if (inet_pton (AF_INET6, ip.c_str (), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons ((uint16_t) port);
    family_flag = MHD_USE_IPv6;
  } else {
    error = "host '" + host + "' is not an IP address";
    return false;
  }
  const ServerLimits & l = state_->limits;
  unsigned threads = l.threads ? l.threads : std::max (2u, std::thread::hardware_concurrency ());
  /* connections never take the descriptors streams need (pipelines,
   * files, sockets): past the limit, new connections are closed at once,
   * rather than accept() failing for everyone */
  unsigned max_connections = l.max_connections;
  struct rlimit nofile;
  if (getrlimit (RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY) {
    rlim_t room = nofile.rlim_cur > 2 * kReservedDescriptors
        ? nofile.rlim_cur - kReservedDescriptors : nofile.rlim_cur / 2;
    if (max_connections > room) {
      g_message ("http: at most %u connections (%llu descriptors, %u kept for the streams)",
          (unsigned) room, (unsigned long long) nofile.rlim_cur, kReservedDescriptors);
      max_connections = (unsigned) room;
    }
  }
  /* the state outlives the daemon: it is stopped in the destructor */
  State *cls = state_.get ();
  state_->daemon = MHD_start_daemon (MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME
      | MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG | MHD_USE_TURBO | family_flag,
      (uint16_t) port, nullptr, nullptr, on_request, cls,
      MHD_OPTION_EXTERNAL_LOGGER, on_log, cls,
      MHD_OPTION_SOCK_ADDR, &ss,
      MHD_OPTION_THREAD_POOL_SIZE, threads,
      MHD_OPTION_CONNECTION_LIMIT, max_connections,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, l.max_connections_per_address,
      MHD_OPTION_CONNECTION_TIMEOUT, l.timeout_s,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, l.header_bytes,
      MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, cls,
      MHD_OPTION_STRICT_FOR_CLIENT, 1,
      MHD_OPTION_UNESCAPE_CALLBACK, unescape, nullptr,
      MHD_OPTION_END);
  if (!state_->daemon) {
    error = "cannot listen on " + host + ":" + std::to_string (port)
        + ": " + g_strerror (errno);
    return false;
  }
  const MHD_DaemonInfo *info = MHD_get_daemon_info (state_->daemon, MHD_DAEMON_INFO_BIND_PORT);
  port_ = info ? info->port : port;
  return true;
}

}  // namespace castline::http
