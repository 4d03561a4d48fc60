/* Tests: a real SoupServer on 127.0.0.1 (a free port), running its own
 * GMainContext on its own thread, so that the code under test can run on
 * the default context and talk to it over the network. */
#pragma once

#include <gst/check/gstcheck.h>
#include <libsoup/soup.h>

#include <condition_variable>
#include <functional>
#include <mutex>

class ServerThread {
 public:
  /* setup runs on the server's thread, before it listens: add handlers */
  explicit ServerThread (const char *name, std::function<void (SoupServer *)> setup)
      : setup_ (std::move (setup))
  {
    thread_ = g_thread_new (name, run, this);
    std::unique_lock<std::mutex> lock (mutex_);
    ready_.wait (lock, [this] { return port_ != 0; });
  }

  ~ServerThread ()
  {
    g_main_context_invoke (context_, [] (gpointer loop) -> gboolean {
          g_main_loop_quit (static_cast<GMainLoop *> (loop));
          return G_SOURCE_REMOVE;
        }, loop_);
    g_thread_join (thread_);
    g_main_loop_unref (loop_);
    g_main_context_unref (context_);
  }

  ServerThread (const ServerThread &) = delete;
  ServerThread & operator= (const ServerThread &) = delete;

  guint port () const { return port_; }
  /* the server thread's context, for sources that must run there */
  GMainContext *context () const { return context_; }

 private:
  static gpointer
  run (gpointer data)
  {
    auto *self = static_cast<ServerThread *> (data);
    GMainContext *context = g_main_context_new ();
    GMainLoop *loop = g_main_loop_new (context, FALSE);
    g_main_context_push_thread_default (context);

    SoupServer *server = soup_server_new (nullptr, nullptr);
    self->setup_ (server);
    g_autoptr (GError) error = nullptr;
    gboolean ok = soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
    fail_if (error, "%s", error ? error->message : "");
    fail_unless (ok);
    GSList *uris = soup_server_get_uris (server);
    fail_unless (uris != nullptr);
    guint port = g_uri_get_port (static_cast<GUri *> (uris->data));
    g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
    {
      std::lock_guard<std::mutex> lock (self->mutex_);
      self->context_ = context;
      self->loop_ = loop;
      self->port_ = port;
    }
    self->ready_.notify_one ();

    g_main_loop_run (loop);

    soup_server_disconnect (server);
    g_object_unref (server);
    /* let the closed connections finish on this context */
    while (g_main_context_iteration (context, FALSE)) {
    }
    g_main_context_pop_thread_default (context);
    return nullptr;
  }

  std::function<void (SoupServer *)> setup_;
  GThread *thread_ = nullptr;
  GMainContext *context_ = nullptr;
  GMainLoop *loop_ = nullptr;
  std::mutex mutex_;
  std::condition_variable ready_;
  guint port_ = 0;
};
