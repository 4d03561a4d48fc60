#include "store/openstore.h"

#include "store/pgbus.h"
#include "store/pgstore.h"
#include "store/sqlitestore.h"

#include <glib.h>

#include <cerrno>
#include <cstring>

namespace castline::launcher {

namespace {

bool
is_postgresql (const std::string & url)
{
  return g_str_has_prefix (url.c_str (), "postgresql://")
      || g_str_has_prefix (url.c_str (), "postgres://");
}

std::unique_ptr<StreamStore>
open_sqlite (const std::string & path, std::string & error)
{
  g_autofree gchar *dir = g_path_get_dirname (path.c_str ());
  if (g_mkdir_with_parents (dir, 0755) != 0) {
    error = std::string (dir) + ": " + g_strerror (errno);
    return nullptr;
  }
  auto store = std::make_unique<SqliteStore> ();
  if (!store->open (path, error))
    return nullptr;
  return store;
}

}  // namespace

std::unique_ptr<StreamStore>
open_store (const std::string & url, const std::string & data_dir, std::string & error)
{
  if (url.empty ())
    return open_sqlite (data_dir + "/castline.db", error);
  if (g_str_has_prefix (url.c_str (), "sqlite:"))
    return open_sqlite (url.substr (strlen ("sqlite:")), error);
  if (is_postgresql (url)) {
    auto store = std::make_unique<PgStore> (url);
    if (!store->open (error))
      return nullptr;
    return store;
  }
  error = "store.url: \"" + redact_store_url (url) + "\" is neither \"sqlite:PATH\" nor a "
      "postgresql:// URL";
  return nullptr;
}

std::unique_ptr<ClusterBus>
open_bus (const std::string & url, std::string & error)
{
  (void) error;                      /* nothing fails before start () */
  if (!is_postgresql (url))
    return nullptr;
  return std::make_unique<PgBus> (url);
}

std::string
redact_store_url (const std::string & url)
{
  std::string out = url;
  /* scheme://user:PASSWORD@host: the authority ends at the first '/',
   * '?' or '#' after "://"; its last '@' ends the user information */
  size_t scheme = out.find ("://");
  if (scheme != std::string::npos) {
    size_t start = scheme + 3;
    size_t end = out.find_first_of ("/?#", start);
    if (end == std::string::npos)
      end = out.size ();
    size_t at = out.rfind ('@', end);
    if (at != std::string::npos && at >= start) {
      size_t colon = out.find (':', start);
      if (colon != std::string::npos && colon < at)
        out.replace (colon + 1, at - colon - 1, "***");
    }
  }
  /* a password=... parameter, in the query or in a key=value string */
  for (size_t pos = 0; (pos = out.find ("password=", pos)) != std::string::npos;) {
    bool starts = pos == 0 || out[pos - 1] == '?' || out[pos - 1] == '&' || out[pos - 1] == ' ';
    pos += strlen ("password=");
    if (!starts)
      continue;
    size_t end = out.find_first_of ("& #", pos);
    if (end == std::string::npos)
      end = out.size ();
    out.replace (pos, end - pos, "***");
    pos += 3;
  }
  return out;
}

}  // namespace castline::launcher
