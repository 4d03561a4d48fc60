/* castline-launcher: GET /metrics, the Prometheus text of MetricsCollector;
 * admin like /api. */
#pragma once

#include "common/http/message.h"
#include "notify/metrics.h"

namespace castline::launcher {

class MetricsRoute {
 public:
  MetricsRoute (const Config & config, const MetricsCollector & metrics)
      : config_ (config), metrics_ (metrics) {}

  void handle (const http::Request & req, http::Response & res);

 private:
  const Config & config_;
  const MetricsCollector & metrics_;
};

}  // namespace castline::launcher
