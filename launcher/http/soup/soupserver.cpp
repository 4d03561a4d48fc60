#include "http/soup/soupserver.h"

#include "http/fileresponse.h"
#include "http/soup/souplistener.h"

#include <unistd.h>

namespace castline::launcher::http {

namespace {

void
copy_header (const char *name, const char *value, gpointer headers)
{
  static_cast<Headers *> (headers)->append (name, value);
}

bool
is_loopback (SoupServerMessage * msg)
{
  GSocketAddress *addr = soup_server_message_get_remote_address (msg);
  return addr && G_IS_INET_SOCKET_ADDRESS (addr)
      && g_inet_address_get_is_loopback (
          g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (addr)));
}

Request
request_of (SoupServerMessage * msg, const char *path, GHashTable * query)
{
  Request r;
  r.method = soup_server_message_get_method (msg);
  r.path = path;
  if (query) {
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init (&it, query);
    while (g_hash_table_iter_next (&it, &k, &v))
      r.query.emplace (static_cast<const char *> (k), static_cast<const char *> (v));
  }
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  soup_message_headers_foreach (h, copy_header, &r.headers);
  const char *ctype = soup_message_headers_get_content_type (h, nullptr);
  r.content_type = ctype ? ctype : "";
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  if (body && body->length > 0)
    r.body = Bytes (soup_message_body_flatten (body));
  const char *host = soup_server_message_get_remote_host (msg);
  r.remote_host = host ? host : "";
  r.remote_is_loopback = is_loopback (msg);
  return r;
}

/* status and headers; the body too unless the response streams it */
void
send_head (SoupServerMessage * msg, const Response & res)
{
  /* our routes answer ranges themselves: libsoup's HTTP/1 writer would
   * apply a Range to a 200 itself (multipart/byteranges for several) */
  soup_message_headers_remove (soup_server_message_get_request_headers (msg), "Range");
  SoupMessageHeaders *out = soup_server_message_get_response_headers (msg);
  for (auto & [name, value] : res.headers.fields ())
    soup_message_headers_append (out, name.c_str (), value.c_str ());
  soup_server_message_set_status (msg, res.status ? res.status : 500, nullptr);
}

/* a file body's part, read (libsoup 3.2 cannot send a file itself) */
Bytes
read_file_body (const FileBody & file)
{
  lseek (file.fd (), (off_t) file.offset (), SEEK_SET);
  return Bytes (read_up_to (file.fd (), file.length ()));
}

void
send (SoupServerMessage * msg, const Response & res)
{
  send_head (msg, res);
  bool head = g_str_equal (soup_server_message_get_method (msg), "HEAD");
  if (res.file && head) {
    /* libsoup sends no body for HEAD and keeps an explicit Content-Length */
    soup_message_headers_set_content_length (soup_server_message_get_response_headers (msg),
        res.file->length ());
    return;
  }
  Bytes body = res.file ? read_file_body (*res.file) : res.body;
  if (body.size () > 0)            /* libsoup refuses empty GBytes */
    soup_message_body_append_bytes (soup_server_message_get_response_body (msg), body.get ());
}

/* A paused message, answered later. */
class SoupPending : public PendingResponse {
 public:
  explicit SoupPending (SoupServerMessage * msg) : msg_ (SOUP_SERVER_MESSAGE (g_object_ref (msg)))
  {
    soup_server_message_pause (msg_);
  }
  ~SoupPending () override
  {
    if (msg_) {
      Response unanswered;
      finish (std::move (unanswered));
    }
  }

  void
  finish (Response response) override
  {
    if (!msg_)
      return;
    send (msg_, response);
    soup_server_message_unpause (msg_);
    g_clear_object (&msg_);
  }

 private:
  SoupServerMessage *msg_;
};

/* A chunked (HTTP/1.0: until the close) body, written as it comes. What
 * was written is not kept once sent. */
class SoupStream : public ResponseStream, public std::enable_shared_from_this<SoupStream> {
 public:
  explicit SoupStream (SoupServerMessage * msg) : msg_ (SOUP_SERVER_MESSAGE (g_object_ref (msg)))
  {
    SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
    soup_message_headers_set_encoding (h, soup_server_message_get_http_version (msg)
        == SOUP_HTTP_1_0 ? SOUP_ENCODING_EOF : SOUP_ENCODING_CHUNKED);
    soup_message_body_set_accumulate (soup_server_message_get_response_body (msg), FALSE);
    handlers_[0] = g_signal_connect (msg, "wrote-body-data", G_CALLBACK (on_wrote), this);
    handlers_[1] = g_signal_connect (msg, "finished", G_CALLBACK (on_gone), this);
    handlers_[2] = g_signal_connect (msg, "disconnected", G_CALLBACK (on_gone), this);
  }

  ~SoupStream () override
  {
    disconnect ();
    if (!unref_later_) {
      g_object_unref (msg_);
      return;
    }
    /* not in the middle of the message's own signal */
    g_idle_add_full (G_PRIORITY_DEFAULT, [] (gpointer m) -> gboolean {
          g_object_unref (m);
          return G_SOURCE_REMOVE;
        }, msg_, nullptr);
  }

  void
  write (std::string_view text) override
  {
    if (closed_)
      return;
    soup_message_body_append (soup_server_message_get_response_body (msg_), SOUP_MEMORY_COPY,
        text.data (), text.size ());
    unsent_ += text.size ();
    soup_server_message_unpause (msg_);
  }

  size_t unsent () const override { return unsent_; }

  void
  abort () override
  {
    if (closed_)
      return;
    auto keep = shared_from_this ();
    /* shut the socket down: the pending write fails and libsoup finishes
     * the message and closes the connection itself */
    GSocket *socket = soup_server_message_get_socket (msg_);
    if (socket)
      g_socket_shutdown (socket, TRUE, TRUE, nullptr);
    else
      soup_message_body_complete (soup_server_message_get_response_body (msg_));
    soup_server_message_unpause (msg_);
    close ();
  }

  void
  set_closed_handler (std::function<void ()> handler) override
  {
    closed_handler_ = std::move (handler);
  }

 private:
  void
  disconnect ()
  {
    for (gulong &id : handlers_)
      if (id)
        g_signal_handler_disconnect (msg_, std::exchange (id, 0));
  }

  void
  close ()
  {
    closed_ = true;
    disconnect ();
    if (auto handler = std::move (closed_handler_))
      handler ();                  /* may drop the last reference but ours */
  }

  static void
  on_wrote (SoupServerMessage *, guint size, gpointer data)
  {
    auto *self = static_cast<SoupStream *> (data);
    self->unsent_ -= std::min<size_t> (size, self->unsent_);
  }

  static void
  on_gone (SoupServerMessage *, gpointer data)
  {
    auto *self = static_cast<SoupStream *> (data);
    auto keep = self->shared_from_this ();
    self->unref_later_ = true;
    self->close ();
  }

  SoupServerMessage *msg_;
  gulong handlers_[3] = {};
  size_t unsent_ = 0;
  bool closed_ = false;
  bool unref_later_ = false;       /* closed from one of the message's signals */
  std::function<void ()> closed_handler_;
};

class SoupTransport : public Transport {
 public:
  explicit SoupTransport (SoupServerMessage * msg) : msg_ (msg) {}

  std::shared_ptr<PendingResponse> defer () override
  {
    return std::make_shared<SoupPending> (msg_);
  }

  std::shared_ptr<ResponseStream> start_stream (const Response & head) override
  {
    send_head (msg_, head);
    return std::make_shared<SoupStream> (msg_);
  }

 private:
  SoupServerMessage *msg_;
};

void
on_request (SoupServer *, SoupServerMessage * msg, const char *path, GHashTable * query,
    gpointer data)
{
  const Route *route = static_cast<const Router *> (data)->find (path);
  SoupTransport transport (msg);
  Response res (&transport);
  if (route && !route->is_websocket ())
    route->handler (request_of (msg, path, query), res);
  else
    res.status = 404;
  if (!res.taken ())
    send (msg, res);
}

void
on_websocket_check (SoupServer *, SoupServerMessage * msg, const char *path, GHashTable * query,
    gpointer data)
{
  Response res;
  static_cast<const WebSocketRoute *> (data)->check (request_of (msg, path, query), res);
  if (res.status)
    send (msg, res);
}

void
on_websocket_open (SoupServer *, SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * connection, gpointer data)
{
  /* the early handler had the query; the upgrade's callback has not */
  GUri *uri = soup_server_message_get_uri (msg);
  g_autoptr (GHashTable) query = g_uri_get_query (uri) ? soup_form_decode (g_uri_get_query (uri))
      : nullptr;
  static_cast<const WebSocketRoute *> (data)->open (request_of (msg, path, query), connection);
}

}  // namespace

void
attach_router (SoupServer * server, const Router & router)
{
  soup_server_add_handler (server, "/", on_request, const_cast<Router *> (&router), nullptr);
  for (const Route & route : router.routes ()) {
    if (!route.is_websocket ())
      continue;
    auto *r = const_cast<WebSocketRoute *> (&route.websocket);
    soup_server_add_early_handler (server, route.prefix.c_str (), on_websocket_check, r, nullptr);
    soup_server_add_websocket_handler (server, route.prefix.c_str (), nullptr, nullptr,
        on_websocket_open, r, nullptr);
  }
}

SoupHttpServer::SoupHttpServer (const Router & router, guint request_timeout_s)
    : server_ (soup_server_new ("server-header", "castline ", nullptr)),
      listener_ (std::make_unique<SoupListener> (server_, request_timeout_s))
{
  attach_router (server_, router);
}

SoupHttpServer::~SoupHttpServer ()
{
  listener_.reset ();
  soup_server_disconnect (server_);
  g_object_unref (server_);
}

bool
SoupHttpServer::listen (const std::string & host, int port, std::string & error)
{
  return listener_->listen (host, port, error);
}

int
SoupHttpServer::port () const
{
  return listener_->port ();
}

}  // namespace castline::launcher::http
