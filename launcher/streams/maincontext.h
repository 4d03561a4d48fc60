/* castline-launcher: the daemon's state (streams, routes, the store) lives
 * on the default main context; what happens on a streaming thread or a
 * webrtcbin thread gets there through this. */
#pragma once

#include <glib.h>

#include <functional>

namespace castline::launcher {

/* Runs job on the default main context, soon (never at once, even when
 * called there). Any thread. */
inline void
run_on_main_context (std::function<void ()> job)
{
  auto *call = new std::function<void ()> (std::move (job));
  /* an idle source, not g_main_context_invoke: that one calls at once on
   * the main thread, which could be in the middle of destroying what the
   * job touches */
  g_idle_add_full (G_PRIORITY_DEFAULT, [] (gpointer data) -> gboolean {
        (*static_cast<std::function<void ()> *> (data)) ();
        return G_SOURCE_REMOVE;
      }, call, [] (gpointer data) { delete static_cast<std::function<void ()> *> (data); });
}

}  // namespace castline::launcher
