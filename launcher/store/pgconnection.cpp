#include "store/pgconnection.h"

#include <glib.h>
#include <poll.h>

#include <cerrno>

namespace castline::launcher {

namespace {

/* a lost connection is made again at most this often */
constexpr int64_t kReconnectSpacingUs = 2 * G_USEC_PER_SEC;

std::string
message_of (PGconn * c)
{
  std::string m = pg_error_line (c ? PQerrorMessage (c) : "no connection");
  return m.empty () ? "the connection failed" : m;
}

}  // namespace

std::string
pg_error_line (const char *message)
{
  std::string line;
  for (const char *p = message; p && *p; p++)
    if (!g_ascii_isspace (*p))
      line += *p;
    else if (!line.empty () && line.back () != ' ')
      line += ' ';
  while (!line.empty () && line.back () == ' ')
    line.pop_back ();
  return line;
}

PgConnection::PgConnection (std::string url, std::string role)
  : url_ (std::move (url)), role_ (std::move (role))
{
}

bool
PgConnection::connect (std::string & error)
{
  last_attempt_us_ = g_get_monotonic_time ();
  std::string app = std::string ("castline-") + g_get_host_name () + "-" + role_;
  /* Bounds for every wait. Given before the URL so that what the URL says
   * wins (libpq keeps a keyword's last value); fallback_application_name
   * gives way to an application_name in the URL anyway. */
  const char *keywords[] = { "connect_timeout", "options", "keepalives", "keepalives_idle",
    "keepalives_interval", "keepalives_count", "tcp_user_timeout", "fallback_application_name",
    "dbname", nullptr };
  const char *values[] = { "3", "-c statement_timeout=5000 -c lock_timeout=3000", "1", "5", "2",
    "2", "5000", app.c_str (), url_.c_str (), nullptr };
  conn_.reset (PQconnectdbParams (keywords, values, 1));
  if (!conn_ || PQstatus (conn_.get ()) != CONNECTION_OK) {
    last_error_ = error = message_of (conn_.get ());
    conn_.reset ();
    return false;
  }
  /* sends never block: finish () polls with a deadline */
  PQsetnonblocking (conn_.get (), 1);
  /* NOTICEs ("relation ... already exists, skipping") are for debugging,
   * not for the daemon's output */
  PQsetNoticeProcessor (conn_.get (), [] (void *, const char *message) {
        g_debug ("PostgreSQL: %s", message);
      }, nullptr);
  last_error_.clear ();
  return true;
}

bool
PgConnection::connected () const
{
  return conn_ && PQstatus (conn_.get ()) == CONNECTION_OK;
}

void
PgConnection::drop ()
{
  conn_.reset ();
}

bool
PgConnection::ensure (std::string & error)
{
  if (connected ())
    return true;
  if (g_get_monotonic_time () - last_attempt_us_ < kReconnectSpacingUs) {
    error = last_error_.empty () ? "not connected to the database" : last_error_;
    return false;
  }
  return connect (error);
}

bool
PgConnection::wait_socket (bool for_write, int64_t deadline_us)
{
  int64_t left = deadline_us - g_get_monotonic_time ();
  if (left <= 0)
    return false;
  struct pollfd p = { PQsocket (conn_.get ()), (short) (for_write ? POLLOUT : POLLIN), 0 };
  int r;
  do
    r = poll (&p, 1, (int) ((left + 999) / 1000));
  while (r < 0 && errno == EINTR);
  return r > 0;
}

PgResult
PgConnection::finish (std::string & error)
{
  PGconn *c = conn_.get ();
  int64_t deadline = g_get_monotonic_time () + answer_wait_us_;
  int flushed;
  while ((flushed = PQflush (c)) == 1)
    if (!wait_socket (true, deadline))
      goto timed_out;
  if (flushed < 0)
    goto failed;

  {
    PgResult last;
    std::string first_error;
    for (;;) {
      while (PQisBusy (c)) {
        if (!wait_socket (false, deadline))
          goto timed_out;
        if (!PQconsumeInput (c))
          goto failed;
      }
      PgResult r (PQgetResult (c));
      if (!r)
        break;
      ExecStatusType st = PQresultStatus (r.get ());
      if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && first_error.empty ())
        first_error = pg_error_line (PQresultErrorMessage (r.get ()));
      last = std::move (r);
    }
    if (!first_error.empty ()) {
      error = first_error;
      return nullptr;
    }
    if (!last)
      goto failed;
    return last;
  }

  /* ERRORS */
timed_out:
  /* the server or the way to it is gone: this connection cannot be
   * trusted with the next statement */
  timed_out_ = true;
  last_error_ = error = "the database did not answer within "
      + std::to_string (answer_wait_us_ / G_USEC_PER_SEC) + " s";
  conn_.reset ();
  return nullptr;
failed:
  last_error_ = error = message_of (c);
  if (PQstatus (c) == CONNECTION_BAD)
    conn_.reset ();
  return nullptr;
}

PgResult
PgConnection::query (const std::string & sql, const std::vector<std::string> & params,
    std::string & error)
{
  std::vector<const char *> values;
  for (const std::string & p : params)
    values.push_back (p.c_str ());
  for (int attempt = 0; attempt < 2; attempt++) {
    bool was_connected = connected ();
    timed_out_ = false;
    if (!ensure (error))
      return nullptr;
    bool idle = PQtransactionStatus (conn_.get ()) == PQTRANS_IDLE;
    if (!PQsendQueryParams (conn_.get (), sql.c_str (), (int) values.size (), nullptr,
            values.data (), nullptr, nullptr, 0)) {
      last_error_ = error = message_of (conn_.get ());
      if (PQstatus (conn_.get ()) == CONNECTION_BAD)
        conn_.reset ();
    } else {
      PgResult r = finish (error);
      if (r)
        return r;
    }
    /* once more only for a connection that was there before and turned
     * out lost at once (a restarted server: not one that stopped
     * answering, which took its time already), and only outside a
     * transaction */
    if (connected () || !was_connected || !idle || timed_out_)
      return nullptr;
    last_attempt_us_ = 0;
  }
  return nullptr;
}

bool
PgConnection::exec (const std::string & sql, std::string & error)
{
  if (!ensure (error))
    return false;
  if (!PQsendQuery (conn_.get (), sql.c_str ())) {
    last_error_ = error = message_of (conn_.get ());
    if (PQstatus (conn_.get ()) == CONNECTION_BAD)
      conn_.reset ();
    return false;
  }
  return finish (error) != nullptr;
}

}  // namespace castline::launcher
