#include "ingest/ingest.h"

#include "streams/streamstore.h"

namespace castline::launcher {

Ingest::Ingest () : session_ (random_token (12))
{
}

Ingest::~Ingest () = default;

}  // namespace castline::launcher
