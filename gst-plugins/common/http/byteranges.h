/* castline: single byte ranges (RFC 9110 14), for the files the
 * launcher serves. */
#pragma once

#include <glib.h>

#include <ctime>
#include <string>

namespace castline::http {

enum class RangeKind { none, single, unsatisfiable };

struct ByteRange {
  RangeKind kind = RangeKind::none;
  guint64 first = 0;
  guint64 last = 0;
};

/* RFC 9110 14.1.2, one range only: anything else (several ranges, another
 * unit, bad syntax) is none, and the whole file is served, which 14.2
 * allows. header may be nullptr. */
ByteRange parse_range (const char *header, guint64 size);

/* RFC 9110 13.1.5: whether a Range may be honoured under If-Range. A date
 * validator counts only when it is exactly our Last-Modified and that is
 * at least a second old (a file rewritten within the same second would
 * otherwise match); we send no ETags, so an entity tag never matches.
 * if_range nullptr: no If-Range, true. */
bool if_range_matches (const char *if_range, const std::string & last_modified, time_t mtime);

}  // namespace castline::http
