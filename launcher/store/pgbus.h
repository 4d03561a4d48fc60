/* castline-launcher: the cluster's bus on PostgreSQL's LISTEN/NOTIFY.
 * One connection listens to castline_events and castline_control, its
 * socket watched on the default main context; another one sends (a send
 * is a short statement, bounded as every PgConnection call). A lost
 * listening connection is made again after 1 s, 2 s, 4 s, then every
 * 5 s, and LISTENs again; what was sent meanwhile is lost (the bus
 * carries news, the store the truth). */
#pragma once

#include "store/pgconnection.h"
#include "store/streamstore.h"

#include <glib.h>

namespace castline::launcher {

class PgBus : public ClusterBus {
 public:
  explicit PgBus (const std::string & url);
  ~PgBus () override;
  PgBus (const PgBus &) = delete;
  PgBus & operator= (const PgBus &) = delete;

  bool start (Listener listener, std::string & error) override;
  bool publish (const std::string & channel, const std::string & json,
      std::string & error) override;
  bool connected () const override;

 private:
  /* connects the listening connection, LISTENs, watches its socket */
  bool listen (std::string & error);
  /* the listening connection is gone: try again later */
  void lost (const std::string & why);
  /* reads what arrived and hands each notification to the listener */
  void read_notifications ();
  void stop_watching ();

  PgConnection in_;
  PgConnection out_;
  std::string described_;
  Listener listener_;
  guint watch_ = 0;
  guint retry_ = 0;
  unsigned retry_s_ = 0;           /* the back-off's last wait */
};

}  // namespace castline::launcher
