#pragma once
// The cosyncd subcommands that read or edit the state database, or print a dry run:
// status, quarantine list|retry|drop, plan. Each returns the process exit status.
#include <ostream>
#include <string>
#include <vector>

#include "daemon/cli/config.hpp"

namespace cosync::app {

enum class OutputFormat { table, json };

int command_status(const Config& config, OutputFormat format, std::ostream& out);
// args: {"list"} | {"retry", ID} | {"retry", "--all"} | {"drop", ID}
int command_quarantine(const Config& config, const std::vector<std::string>& args, OutputFormat format,
                       std::ostream& out, std::ostream& err);
int command_plan(Config config, OutputFormat format, std::ostream& out);

}  // namespace cosync::app
