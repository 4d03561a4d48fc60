#include "rtmp/listenerthread.h"

namespace castline::rtmp {

ListenerThread::ListenerThread ()
    : context_ (g_main_context_new ()), loop_ (g_main_loop_new (context_, FALSE))
{
}

bool
ListenerThread::start (ListenerSettings settings, RtmpListener::DecideFunc decide,
    RtmpListener::ReadyFunc ready, std::string & error)
{
  listener_ = std::make_unique<RtmpListener> (context_, std::move (settings), std::move (decide),
      std::move (ready));
  /* nobody runs the context yet: it is this thread's for the start */
  g_main_context_push_thread_default (context_);
  bool ok = listener_->start (error);
  g_main_context_pop_thread_default (context_);
  if (!ok)
    return false;
  thread_ = std::thread ([this] {
    g_main_context_push_thread_default (context_);
    g_main_loop_run (loop_);
    g_main_context_pop_thread_default (context_);
  });
  return true;
}

int
ListenerThread::port () const
{
  return listener_ ? listener_->port () : 0;
}

void
ListenerThread::invoke (std::function<void ()> func)
{
  g_main_context_invoke_full (context_, G_PRIORITY_DEFAULT, [] (gpointer data) {
    (*static_cast<std::function<void ()> *> (data)) ();
    return G_SOURCE_REMOVE;
  }, new std::function<void ()> (std::move (func)), [] (gpointer data) {
    delete static_cast<std::function<void ()> *> (data);
  });
}

ListenerThread::~ListenerThread ()
{
  if (thread_.joinable ()) {
    /* a source, not g_main_loop_quit (): the loop may not run yet */
    GSource *source = g_idle_source_new ();
    g_source_set_callback (source, [] (gpointer loop) {
      g_main_loop_quit (static_cast<GMainLoop *> (loop));
      return G_SOURCE_REMOVE;
    }, loop_, nullptr);
    g_source_attach (source, context_);
    g_source_unref (source);
    thread_.join ();
  }
  g_main_context_push_thread_default (context_);
  listener_.reset ();
  /* the cancelled accept's completion, and connections being closed */
  for (int i = 0; i < 100 && g_main_context_pending (context_); i++)
    g_main_context_iteration (context_, FALSE);
  g_main_context_pop_thread_default (context_);
  g_main_loop_unref (loop_);
  /* the sources left (goodbyes in progress) close their sockets with it */
  g_main_context_unref (context_);
}

}  // namespace castline::rtmp
