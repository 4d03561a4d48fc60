/* castline-launcher: the heap a finished stream leaves, given back. A
 * stream's pipeline allocates from the malloc arenas of its own streaming
 * threads; when it ends, glibc keeps what was freed there for later, and
 * a daemon running streams one after another for days holds ever more of
 * it (bench/launcher_soak.py saw RSS rise about 4 % in half an hour with
 * no allocation left behind). trim_memory_soon () asks glibc to return
 * the free pages of every arena (malloc_trim), once, a moment after the
 * last call: a burst of streams ending trims once. Main context only. */
#pragma once

namespace castline::launcher {

void trim_memory_soon ();

}  // namespace castline::launcher
