#include "common/http/websocket.h"

#include <algorithm>

namespace castline::http {

std::string
utf8_prefix (const std::string & s, size_t max_bytes)
{
  const char *end = nullptr;
  size_t valid = g_utf8_validate (s.data (), (gssize) s.size (), &end) ? s.size ()
      : (size_t) (end - s.data ());
  size_t n = std::min (valid, max_bytes);
  /* back off to the start of a character */
  while (n > 0 && n < valid && (((unsigned char) s[n]) & 0xC0) == 0x80)
    n--;
  return s.substr (0, n);
}

void
close_websocket (WebSocket * ws, unsigned short code, const std::string & reason)
{
  std::string cut = utf8_prefix (reason, 123);
  soup_websocket_connection_close (ws, code, cut.c_str ());
}

}  // namespace castline::http
