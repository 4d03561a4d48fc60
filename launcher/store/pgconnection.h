/* castline-launcher: one libpq connection, every wait bounded. The main
 * context makes these calls, so a database that is gone or slow must cost
 * it seconds, not minutes: connecting gives up after connect_timeout (3 s
 * unless the URL says otherwise); a statement after statement_timeout on
 * the server (5 s) and, should the server not answer at all, after a
 * little more on our side, dropping the connection. A lost connection is
 * made again on the next call, at most once every 2 s: between, calls
 * fail at once with the last error. */
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace castline::launcher {

struct PgResultDeleter {
  void operator() (PGresult * r) const { PQclear (r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

struct PgConnDeleter {
  void operator() (PGconn * c) const { PQfinish (c); }
};
using PgConn = std::unique_ptr<PGconn, PgConnDeleter>;

/* libpq's message (which runs over lines) on one line, for logs */
std::string pg_error_line (const char *message);

class PgConnection {
 public:
  /* url: libpq's URI (postgresql://...); role: what this connection is for,
   * shown in pg_stat_activity as castline-<host>-<role> */
  PgConnection (std::string url, std::string role);

  /* Connects now (a first connection, or again), bounded as above. */
  bool connect (std::string & error);
  bool connected () const;

  /* One statement with $1, $2... bound to params (text), its result
   * (rows or none) or nullptr with error. A statement that failed on a
   * connection found lost is run once more on a new connection (outside a
   * transaction only): a server restarted since the last call is not an
   * error to the caller. */
  PgResult query (const std::string & sql, const std::vector<std::string> & params,
      std::string & error);
  /* Statements without parameters, separated by ';' (schema changes, and
   * BEGIN / COMMIT / ROLLBACK), run as one simple query. */
  bool exec (const std::string & sql, std::string & error);

  /* the libpq connection itself, or nullptr (PgBus reads notifications
   * from it) */
  PGconn *get () const { return conn_.get (); }
  /* drops the connection (the next call connects again) */
  void drop ();

  /* How long a call waits for the server's answer before it drops the
   * connection. The server gives up on a statement after statement_timeout
   * (5 s), so past kAnswerWaitUs the server itself is not answering; a
   * statement that sets a longer timeout of its own (the migrations, at
   * start) needs a longer wait here too. */
  static constexpr int64_t kAnswerWaitUs = 6 * 1000000;
  void set_answer_wait (int64_t us) { answer_wait_us_ = us; }

 private:
  /* connected, or connected again if 2 s have passed since the last try */
  bool ensure (std::string & error);
  /* sends what PQsend* queued and waits for the results; the last one */
  PgResult finish (std::string & error);
  bool wait_socket (bool for_write, int64_t deadline_us);

  std::string url_;
  std::string role_;
  PgConn conn_;
  int64_t last_attempt_us_ = 0;    /* monotonic */
  std::string last_error_;
  bool timed_out_ = false;         /* the last statement had no answer in time */
  int64_t answer_wait_us_ = kAnswerWaitUs;
};

}  // namespace castline::launcher
