/* castline-launcher --check: whether what a configuration names can be
 * reached from here, before a service is started on it. */
#pragma once

#include "config/config.h"

namespace castline::launcher {

/* Opens the store (store.url) and, with S3 output, asks the bucket
 * whether it is there and may be used (HEAD bucket, within about 10 s).
 * Prints one line per check to stdout ("store: ... ok", "s3: ... ok", or
 * what failed); no secret is printed. True when every check passed. */
bool run_checks (const Config & config);

}  // namespace castline::launcher
