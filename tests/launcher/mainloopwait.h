/* castline-launcher's unit tests: waiting on the default main context,
 * bounded (the launcher's own timers and deferred work run meanwhile). */
#pragma once

#include <glib.h>

namespace castline::testing {

/* runs the default main context until done () or timeout_ms; done () */
template <typename F>
bool
iterate_until (F done, guint timeout_ms = 10000)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  while (!done () && g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (nullptr, FALSE))
      g_usleep (1000);
  return done ();
}

}  // namespace castline::testing
