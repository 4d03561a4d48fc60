#include "common/http/fileresponse.h"

#include <libsoup/soup.h>

#include <cerrno>
#include <unistd.h>

namespace castline::http {

Fd::~Fd ()
{
  if (fd_ >= 0)
    close (fd_);
}

GBytes *
read_up_to (int fd, gsize size)
{
  g_autofree guint8 *data = static_cast<guint8 *> (g_malloc (size ? size : 1));
  gsize got = 0;
  while (got < size) {
    ssize_t n = read (fd, data + got, size - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return nullptr;
    if (n == 0)
      break;
    got += n;
  }
  return g_bytes_new_take (g_steal_pointer (&data), got);
}

std::string
http_date (time_t t)
{
  /* every request for a file asks for its mtime's date: the last one of
   * each server thread is kept */
  thread_local time_t last_t = -1;
  thread_local std::string last;
  if (t == last_t)
    return last;
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (t);
  if (!dt)
    return "";
  g_autofree char *s = soup_date_time_to_string (dt, SOUP_DATE_HTTP);
  last_t = t;
  last = s ? s : "";
  return last;
}

}  // namespace castline::http
