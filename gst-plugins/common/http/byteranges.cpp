#include "common/http/byteranges.h"

#include <string_view>

namespace castline::http {

namespace {

/* 1*DIGIT; saturates, so a huge position is merely past the end */
bool
parse_position (std::string_view s, guint64 & out)
{
  if (s.empty ())
    return false;
  guint64 v = 0;
  for (char c : s) {
    if (!g_ascii_isdigit (c))
      return false;
    guint d = c - '0';
    v = v > (G_MAXUINT64 - d) / 10 ? G_MAXUINT64 : v * 10 + d;
  }
  out = v;
  return true;
}

std::string_view
trim_ows (std::string_view s)
{
  while (!s.empty () && (s.front () == ' ' || s.front () == '\t'))
    s.remove_prefix (1);
  while (!s.empty () && (s.back () == ' ' || s.back () == '\t'))
    s.remove_suffix (1);
  return s;
}

}  // namespace

/* our own parser: libsoup's soup_message_headers_get_ranges would merge
 * several ranges and turn some malformed ones into 416 instead */
ByteRange
parse_range (const char *header, guint64 size)
{
  ByteRange r;
  if (!header)
    return r;
  std::string_view v = trim_ows (header);
  if (v.size () < 6 || g_ascii_strncasecmp (v.data (), "bytes=", 6) != 0)
    return r;
  v = trim_ows (v.substr (6));
  if (v.find (',') != std::string_view::npos)
    return r;
  size_t dash = v.find ('-');
  if (dash == std::string_view::npos)
    return r;
  std::string_view first = v.substr (0, dash), last = v.substr (dash + 1);

  if (first.empty ()) {
    /* suffix: the last n bytes */
    guint64 n;
    if (!parse_position (last, n))
      return r;
    if (n == 0 || size == 0) {
      r.kind = RangeKind::unsatisfiable;
      return r;
    }
    r.kind = RangeKind::single;
    r.first = n >= size ? 0 : size - n;
    r.last = size - 1;
    return r;
  }

  guint64 a, b = G_MAXUINT64;
  if (!parse_position (first, a) || (!last.empty () && !parse_position (last, b)))
    return r;
  if (b < a)
    return r;                   /* invalid, so ignored */
  if (a >= size) {
    r.kind = RangeKind::unsatisfiable;
    return r;
  }
  r.kind = RangeKind::single;
  r.first = a;
  r.last = MIN (b, size - 1);
  return r;
}

bool
if_range_matches (const char *if_range, const std::string & last_modified, time_t mtime)
{
  if (!if_range)
    return true;
  if (last_modified.empty () || last_modified != if_range)
    return false;
  return mtime < g_get_real_time () / G_USEC_PER_SEC;
}

}  // namespace castline::http
