#pragma once
// `cosyncd notifications list | retry ID | drop ID`: the deliveries of the notification outbox.
#include <ostream>
#include <string>
#include <vector>

#include "daemon/cli/config.hpp"
#include "daemon/cli/report_writer.hpp"

namespace cosync::app {

int command_notifications(const Config& config, const std::vector<std::string>& args, ReportFormat format,
                          std::ostream& out, std::ostream& err);

}  // namespace cosync::app
