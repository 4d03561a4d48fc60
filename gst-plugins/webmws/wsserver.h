/* castline: webmwssrc's own WebSocket endpoint, on a thread of its own.
 *
 * castline's HTTP server (common/http/mhd: libmicrohttpd, with the
 * launcher's limits: time-outs in every phase, bounded headers, no request
 * body, connections per address, descriptors given back whatever the
 * client does) listening on host:port, accepting WebSocket upgrades under
 * path. The upgrades and every connection accepted live on one thread's
 * GMainContext, which start() creates and stop() joins. When a key is set,
 * a request must carry it as ?key=... or "Authorization: Bearer ...";
 * otherwise the upgrade is refused with HTTP 401 before any WebSocket
 * exists (the key is compared in constant time and never logged).
 */
#pragma once

#include "common/http/mhd/mhdserver.h"

#include <libsoup/soup.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace castline::webmws {

struct WsServerConfig {
  std::string host = "127.0.0.1";
  int port = 8090;                 /* 0: any free port */
  std::string path = "/";
  std::string key;                 /* empty: no key needed */
};

struct WsServerCallbacks {
  /* on the server thread: a WebSocket was accepted (hand it to the hub) */
  std::function<void (SoupWebsocketConnection *, const std::string & remote)> connection;
  /* on the server thread: an upgrade refused for its key (HTTP status) */
  std::function<void (const std::string & remote, const std::string & path, unsigned status)>
      unauthorized;
  /* on the server thread, at stop: connections still open on the context
   * (stop waits a little for their close handshakes), and the cleanup of
   * those left once the context is no longer run */
  std::function<size_t (GMainContext *)> open_connections;
  std::function<void (GMainContext *)> abandon;
};

class WsServer {
 public:
  WsServer () = default;
  ~WsServer ();
  WsServer (const WsServer &) = delete;
  WsServer & operator= (const WsServer &) = delete;

  /* Starts the thread and waits until the server listens; false, with the
   * reason, when it cannot (address in use, bad host...). */
  bool start (const WsServerConfig & config, WsServerCallbacks callbacks, std::string & error);
  /* The port listened on (useful with port 0), or 0. */
  int bound_port () const;
  /* Closes the listener, gives open connections up to grace_ms to finish
   * their close handshakes, and joins the thread. */
  void stop (unsigned grace_ms = 1000);

 private:
  void run ();
  /* the upgrade's check and its WebSocket, on the server thread */
  void check (const castline::http::Request & req, castline::http::Response & res);
  void open (const castline::http::Request & req, castline::http::WebSocket * ws);

  WsServerConfig config_;
  WsServerCallbacks callbacks_;
  castline::http::Router router_;
  std::unique_ptr<castline::http::MhdHttpServer> server_;
  std::thread thread_;
  GMainContext *context_ = nullptr;
  GMainLoop *loop_ = nullptr;

  mutable std::mutex lock_;
  int bound_port_ = 0;
};

}  // namespace castline::webmws
