#pragma once
// The one source of cosyncd's documentation: every subcommand, option, exit status, signal, file
// and environment variable is described here once. `cosyncd --help`, `cosyncd help SUB`,
// `cosyncd SUB --help` and the cosyncd(8) man page (`cosyncd help --man`, generated at build time)
// are all printed from these tables, so they cannot drift apart; main.cpp refuses any command
// that is not in commands().
#include <ostream>
#include <string_view>
#include <vector>

namespace cosync::app {

struct HelpEntry {
  std::string_view term;  // "--config FILE", "78", "SIGHUP", "/etc/cosync/cosync.yaml"
  std::string_view text;
};

struct CommandHelp {
  std::string_view name;         // "quarantine"
  std::string_view synopsis;     // its arguments after the name
  std::string_view summary;      // one line, for the command list
  std::string_view description;  // paragraphs separated by a blank line
  std::vector<std::string_view> options;  // terms of global_options() this command takes
};

const std::vector<CommandHelp>& commands();
const CommandHelp* find_command(std::string_view name);

const std::vector<HelpEntry>& global_options();
const std::vector<HelpEntry>& exit_statuses();
const std::vector<HelpEntry>& signals();
const std::vector<HelpEntry>& files();
const std::vector<HelpEntry>& environment();

// `cosyncd --help`: every command with its summary, and the options.
void print_usage(std::ostream& out);
// `cosyncd help SUB` / `cosyncd SUB --help`.
void print_command_help(std::ostream& out, const CommandHelp& command);
// cosyncd(8) in roff (man(7) macros).
void write_man_page(std::ostream& out, std::string_view version);

}  // namespace cosync::app
