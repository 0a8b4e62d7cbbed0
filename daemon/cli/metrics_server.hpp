#pragma once
// The HTTP endpoint of `metrics.listen`: GET /metrics (Prometheus text format), /healthz (200
// while the event loop answers) and /readyz (200 when every mapping's last cycle succeeded
// within 3 poll intervals, else 503 with the reason). Served by Boost.Beast on the daemon's own
// io_context, the HTTP stack cosyncd already links: no second library, no second thread, and the
// handlers read the daemon's state without locks.
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "daemon/cli/metrics_config.hpp"
#include "daemon/util/log.hpp"

namespace cosync::app {

struct MetricsEndpoints {
  std::function<std::string()> metrics;          // the exposition text
  std::function<bool(std::string&)> ready;       // false with the reason
};

class MetricsServer {
 public:
  // Listens at once; throws std::system_error when the address cannot be bound.
  MetricsServer(boost::asio::io_context& io, const MetricsOptions& options, MetricsEndpoints endpoints, Log log);
  ~MetricsServer();
  unsigned short port() const;  // the bound port (options.port, or the one chosen for 0)
  void stop();                  // closes the listener and every connection

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace cosync::app
