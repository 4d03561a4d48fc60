#include "webmws/wsserver.h"

#include "common/http/replies.h"
#include "common/secrets.h"

#include <cstring>

namespace castline::webmws {

namespace {

/* ?key=... or Authorization: Bearer ... */
std::string
offered_key (const castline::http::Request & req)
{
  if (const char *k = req.param ("key"))
    return k;
  return castline::http::bearer_token (req);
}

/* "address:port" of the client, for the element's reports */
std::string
remote_of (const castline::http::Request & req)
{
  return req.remote_host + ":" + std::to_string (req.remote_port);
}

}  // namespace

WsServer::~WsServer ()
{
  stop (0);
}

bool
WsServer::start (const WsServerConfig & config, WsServerCallbacks callbacks, std::string & error)
{
  config_ = config;
  callbacks_ = std::move (callbacks);
  context_ = g_main_context_new ();
  loop_ = g_main_loop_new (context_, FALSE);
  router_ = castline::http::Router ();
  router_.add_websocket (config_.path.empty () ? "/" : config_.path, {
        [this] (const castline::http::Request & req, castline::http::Response & res) {
          check (req, res);
        },
        [this] (const castline::http::Request & req, castline::http::WebSocket * ws) {
          open (req, ws);
        } });
  server_ = std::make_unique<castline::http::MhdHttpServer> (router_,
      castline::http::ServerLimits (), context_);
  if (!server_->listen (config_.host, config_.port, error)) {
    server_.reset ();
    g_main_loop_unref (loop_);
    g_main_context_unref (context_);
    loop_ = nullptr;
    context_ = nullptr;
    return false;
  }
  {
    std::lock_guard<std::mutex> lk (lock_);
    bound_port_ = server_->port ();
  }
  thread_ = std::thread (&WsServer::run, this);
  return true;
}

int
WsServer::bound_port () const
{
  std::lock_guard<std::mutex> lk (lock_);
  return bound_port_;
}

void
WsServer::check (const castline::http::Request & req, castline::http::Response & res)
{
  if (config_.key.empty () || keys_equal (config_.key, offered_key (req)))
    return;
  res.status = 401;
  res.headers.set ("WWW-Authenticate", "Bearer realm=\"webmwssrc\"");
  res.set_body ("text/plain", "webmwssrc: missing or wrong key\n");
  if (callbacks_.unauthorized)
    callbacks_.unauthorized (remote_of (req), req.path, 401);
}

void
WsServer::open (const castline::http::Request & req, castline::http::WebSocket * ws)
{
  if (callbacks_.connection)
    callbacks_.connection (ws, remote_of (req));
  else
    castline::http::close_websocket (ws, castline::http::kClosePolicyViolation, "not taken");
}

void
WsServer::run ()
{
  g_main_context_push_thread_default (context_);
  g_main_loop_run (loop_);
  /* stopping: nobody will run this context again */
  if (callbacks_.abandon)
    callbacks_.abandon (context_);
  /* let sources finish what the unrefs started (bounded: a source that
   * stays ready must not keep the thread) */
  for (int i = 0; i < 100 && g_main_context_iteration (context_, FALSE); i++) {
  }
  g_main_context_pop_thread_default (context_);
}

void
WsServer::stop (unsigned grace_ms)
{
  if (!thread_.joinable ())
    return;
  {
    std::lock_guard<std::mutex> lk (lock_);
    bound_port_ = 0;
  }
  /* on the server thread: wait for close handshakes, bounded, then quit */
  struct Waiter {
    WsServer *self;
    gint64 deadline;
  };
  auto *w = new Waiter { this, g_get_monotonic_time () + (gint64) grace_ms * 1000 };
  GSource *tick = g_timeout_source_new (10);
  g_source_set_callback (tick, [] (gpointer data) -> gboolean {
    auto *w = static_cast<Waiter *> (data);
    size_t open = w->self->callbacks_.open_connections
        ? w->self->callbacks_.open_connections (w->self->context_) : 0;
    if (open == 0 || g_get_monotonic_time () >= w->deadline) {
      g_main_loop_quit (w->self->loop_);
      return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
  }, w, [] (gpointer data) { delete static_cast<Waiter *> (data); });
  g_source_attach (tick, context_);
  g_source_unref (tick);
  thread_.join ();
  /* the server's threads go last: what still waited for the context is
   * answered 503 */
  server_.reset ();
  g_main_loop_unref (loop_);
  g_main_context_unref (context_);
  loop_ = nullptr;
  context_ = nullptr;
}

}  // namespace castline::webmws
