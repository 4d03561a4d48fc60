#include "store/pgbus.h"

#include "store/openstore.h"

#include <glib-unix.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

namespace castline::launcher {

namespace {

const char *const kPrefix = "castline_";
/* PostgreSQL refuses payloads from 8000 bytes; what we send is less, and
 * says so before the server would */
constexpr size_t kMaxPayload = 7000;
constexpr unsigned kMaxRetryS = 5;

}  // namespace

PgBus::PgBus (const std::string & url)
  : in_ (url, "bus-listen"), out_ (url, "bus-send"), described_ (redact_store_url (url))
{
}

PgBus::~PgBus ()
{
  stop_watching ();
  if (retry_)
    g_source_remove (retry_);
}

bool
PgBus::start (Listener listener, std::string & error)
{
  listener_ = std::move (listener);
  std::string why;
  if (!listen (why) || !out_.connect (why)) {
    error = described_ + ": " + why;
    return false;
  }
  return true;
}

bool
PgBus::listen (std::string & error)
{
  if (!in_.connect (error)
      || !in_.exec (std::string ("LISTEN ") + kPrefix + "events; LISTEN " + kPrefix + "control",
          error)) {
    in_.drop ();
    return false;
  }
  watch_ = g_unix_fd_add (PQsocket (in_.get ()),
      (GIOCondition) (G_IO_IN | G_IO_HUP | G_IO_ERR),
      [] (gint, GIOCondition, gpointer data) -> gboolean {
        static_cast<PgBus *> (data)->read_notifications ();
        return G_SOURCE_CONTINUE;
      }, this);
  retry_s_ = 0;
  /* what arrived with the LISTEN's answer */
  read_notifications ();
  return true;
}

void
PgBus::stop_watching ()
{
  if (watch_)
    g_source_remove (watch_);
  watch_ = 0;
}

void
PgBus::read_notifications ()
{
  PGconn *c = in_.get ();
  if (!c)
    return;
  if (!PQconsumeInput (c) || PQstatus (c) != CONNECTION_OK) {
    lost (pg_error_line (PQerrorMessage (c)));
    return;
  }
  std::vector<std::pair<std::string, std::string>> heard;
  while (PGnotify *n = PQnotifies (c)) {
    std::string channel = n->relname;
    if (g_str_has_prefix (channel.c_str (), kPrefix))
      heard.emplace_back (channel.substr (strlen (kPrefix)), n->extra);
    PQfreemem (n);
  }
  /* handed over after reading, so a listener may publish */
  for (auto & [channel, json] : heard)
    if (listener_)
      listener_ (channel, json);
}

void
PgBus::lost (const std::string & why)
{
  stop_watching ();
  in_.drop ();
  if (retry_)
    return;
  retry_s_ = retry_s_ == 0 ? 1 : std::min (retry_s_ * 2, kMaxRetryS);
  g_message ("cluster bus: the connection to %s was lost (%s); again in %u s",
      described_.c_str (), why.c_str (), retry_s_);
  retry_ = g_timeout_add (retry_s_ * 1000, [] (gpointer data) -> gboolean {
        auto *self = static_cast<PgBus *> (data);
        self->retry_ = 0;
        std::string error;
        if (self->listen (error))
          g_message ("cluster bus: listening again on %s", self->described_.c_str ());
        else
          self->lost (error);
        return G_SOURCE_REMOVE;
      }, this);
}

bool
PgBus::publish (const std::string & channel, const std::string & json, std::string & error)
{
  if (json.size () > kMaxPayload) {
    error = "a cluster message of " + std::to_string (json.size ()) + " bytes (at most "
        + std::to_string (kMaxPayload) + ")";
    return false;
  }
  return out_.query ("SELECT pg_notify ($1, $2)", { kPrefix + channel, json }, error) != nullptr;
}

bool
PgBus::connected () const
{
  return watch_ != 0 && in_.connected ();
}

}  // namespace castline::launcher
