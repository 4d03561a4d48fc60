#include "streams/memorytrim.h"

#include <glib.h>
#include <malloc.h>

namespace castline::launcher {

namespace {

/* after the last stream's pipeline is gone, and its threads with it */
constexpr guint kTrimDelayS = 2;

guint trim_source = 0;

}  // namespace

void
trim_memory_soon ()
{
  if (trim_source)
    g_source_remove (trim_source);
  trim_source = g_timeout_add_seconds (kTrimDelayS, [] (gpointer) -> gboolean {
        trim_source = 0;
        malloc_trim (0);
        return G_SOURCE_REMOVE;
      }, nullptr);
}

}  // namespace castline::launcher
