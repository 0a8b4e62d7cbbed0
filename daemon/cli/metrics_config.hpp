#pragma once
// `metrics.listen: 127.0.0.1:9464` in the daemon config: where cosyncd serves /metrics (the
// Prometheus text format), /healthz and /readyz. Off when absent.
#include <string>

#include "daemon/util/yaml_reader.hpp"

namespace cosync::app {

struct MetricsOptions {
  bool enabled = false;
  std::string address;      // an IP literal: 127.0.0.1, ::1, 0.0.0.0
  unsigned short port = 0;  // 0: any free port (the log names it)
};

// The `metrics:` block; fails naming the line on an address that is not IP:PORT.
MetricsOptions read_metrics(const YamlNode& node);

}  // namespace cosync::app
