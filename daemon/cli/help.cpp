#include "daemon/cli/help.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace cosync::app {

const std::vector<CommandHelp>& commands() {
  static const std::vector<CommandHelp> all = {
      {"run", "[--config FILE]", "run the daemon: sync every poll interval until SIGTERM/SIGINT",
       "Checks every mapping against its CRM's metadata, opens the state database, then runs a cycle of "
       "every mapping each poll_interval until SIGTERM or SIGINT. A mapping whose check could not run "
       "(network, token) is not synced and checked again next cycle; a mapping that does not fit the CRM "
       "stops the start with exit status 78.\n\n"
       "Under systemd (Type=notify) it reports READY=1 once started, RELOADING=1 and READY=1 around a "
       "reload, STOPPING=1 when it stops, and WATCHDOG=1 every half WatchdogSec.",
       {"--config FILE"}},
      {"once", "[--config FILE]", "run one sync cycle of every mapping, then exit",
       "Does what one cycle of run does, for every mapping, and exits: 0 when everything synced, 1 when "
       "something failed and would be retried, 3 when records were quarantined.",
       {"--config FILE"}},
      {"check", "[--config FILE] [--offline]", "validate the configuration and mappings, then against the CRM",
       "Reads the configuration and every mapping file it names, then checks each mapping against its "
       "CRM's metadata (a token and a describe per mapping): every mapped field must exist and be "
       "writable where the mapping writes it, every picklist value must be active. Writes nothing. "
       "Exit status 78 names each mismatch's file, line and key; 1 when the CRM could not be asked.",
       {"--config FILE", "--offline"}},
      {"plan", "[--config FILE] [--json]", "dry run on live data: what would change and why",
       "Reads both sides exactly as a cycle does and prints, per record and field, what would change, the "
       "old and new value and why. Makes no write call and changes no state.",
       {"--config FILE", "--json"}},
      {"status", "[--config FILE] [--json]", "links, last cycle, cursors and quarantine of every mapping",
       "Reads the state database: per mapping the number of links, the last cycle's time, result and "
       "duration, the cursors, the quarantine size and the orphaned links, plus the pending creates.",
       {"--config FILE", "--json"}},
      {"quarantine", "list | retry ID | retry --all | drop ID [--config FILE] [--json]",
       "list, retry or drop the records an API rejected",
       "list prints every quarantined record with its reason, request id, attempts and next retry. "
       "retry ID (or retry --all) retries it in the next cycle instead of after its backoff. drop ID "
       "forgets the entry: the record syncs again when it changes.",
       {"--config FILE", "--json"}},
      {"notifications", "list | retry ID | drop ID [--config FILE] [--json]",
       "list, resend or drop the notifications of the outbox",
       "list prints every notification (newest first) with its status (pending, sent, failed), rule, event, "
       "referral, attempts, next attempt, last error and Message-ID. retry ID sends a pending or failed one "
       "at the next pass with its attempts reset; drop ID deletes it unsent. See README \"Notifications\".",
       {"--config FILE", "--json"}},
      {"report",
       "pipeline | shared | expiring | stale | deals-to-register | registrations [--format table|csv|json] "
       "[--mapping NAME] [--due-within 7d] [--config FILE]",
       "print a co-sell report",
       "pipeline: co-sell deals by referral status, CRM stage, offering and region with counts and values, "
       "from what the last sync left in the state database. shared: the deals shared with Microsoft, their "
       "deal type, when, and Microsoft's response. deals-to-register: won eligible deals without a "
       "registration, soonest deadline first, with the win date, the deadline and the days left on Partner "
       "Center's clock (--due-within 7d: only those due by then). registrations: every registration with its "
       "review status and dates. --mapping NAME: that mapping's deals only. --format csv is RFC 4180 (CRLF "
       "lines), json an array of objects. See README \"Reports\" and \"Deal registration\".",
       {"--config FILE", "--format table|csv|json", "--mapping NAME", "--due-within DURATION"}},
      {"login", "partner-center [--config FILE]", "sign in to Partner Center (device code)",
       "Runs the OAuth device-code flow against Partner Center's Entra ID tenant: prints a URL and a code "
       "to enter there, waits for the sign-in and stores the refresh token (mode 0600) in the state "
       "directory, where the daemon finds and rotates it.",
       {"--config FILE"}},
      {"backup", "FILE [--config FILE]", "copy the state database to FILE, consistently, while cosyncd runs",
       "Copies the state database with SQLite's online backup API: the copy is one consistent snapshot "
       "even while the daemon is writing. FILE must not exist yet; it is created with mode 0600. To "
       "restore, stop cosyncd and put the copy in place of state.db in the state directory.",
       {"--config FILE"}},
      {"version", "", "print the version", "Prints cosyncd's version.", {}},
      {"help", "[COMMAND | --man]", "print this help, a command's help, or the man page",
       "Without an argument prints every command; with one, that command's help (also: cosyncd COMMAND "
       "--help). --man prints the cosyncd(8) man page in roff.",
       {}},
  };
  return all;
}

const CommandHelp* find_command(std::string_view name) {
  const auto& all = commands();
  auto it = std::find_if(all.begin(), all.end(), [&](const CommandHelp& c) { return c.name == name; });
  return it == all.end() ? nullptr : &*it;
}

const std::vector<HelpEntry>& global_options() {
  static const std::vector<HelpEntry> all = {
      {"--config FILE", "the configuration file (default /etc/cosync/cosync.yaml)"},
      {"--json", "JSON output instead of a table (plan, status, quarantine list)"},
      {"--offline", "check only the files: no token, no network"},
      {"-h, --help", "this help, or the command's"},
  };
  return all;
}

const std::vector<HelpEntry>& exit_statuses() {
  static const std::vector<HelpEntry> all = {
      {"0", "everything synced (run: stopped by SIGTERM or SIGINT)"},
      {"1", "something failed and is retried next cycle: network, 5xx, 429, authentication"},
      {"3", "records were quarantined: an API rejected them (see the log and quarantine list)"},
      {"64", "bad command line"},
      {"78", "configuration error, naming the file, line and key; also a mapping that does not fit its CRM, "
             "or a state database left by a newer cosyncd"},
  };
  return all;
}

const std::vector<HelpEntry>& signals() {
  static const std::vector<HelpEntry> all = {
      {"SIGTERM, SIGINT",
       "no record starts after it; the requests in flight get 2 s to finish and commit, then the rest is "
       "cancelled and cosyncd exits 0"},
      {"SIGHUP",
       "after the current cycle, re-read the configuration and every mapping, validate them as a start "
       "does and swap them in; a new configuration that fails is logged and the running one kept. "
       "state_dir cannot change; log settings take effect at the next restart"},
  };
  return all;
}

const std::vector<HelpEntry>& files() {
  static const std::vector<HelpEntry> all = {
      {"/etc/cosync/cosync.yaml", "the configuration: connections, state directory, mapping files"},
      {"/etc/cosync/mappings/", "mapping files (paths in the configuration are relative to it)"},
      {"/etc/cosync/credentials/", "secrets the unit passes in with LoadCredential="},
      {"/var/lib/cosync/state.db", "the state database (SQLite, WAL): links, cursors, quarantine, audit"},
      {"/usr/share/doc/cosync/examples/", "example configuration and mappings"},
      {"/lib/systemd/system/cosyncd.service", "the systemd unit"},
  };
  return all;
}

const std::vector<HelpEntry>& environment() {
  static const std::vector<HelpEntry> all = {
      {"CREDENTIALS_DIRECTORY", "set by systemd's LoadCredential=; *_file keys may name ${CREDENTIALS_DIRECTORY}/NAME"},
      {"JOURNAL_STREAM", "set by systemd: log lines carry journald priorities (<N>) and no timestamp"},
      {"NOTIFY_SOCKET", "set by systemd (Type=notify): READY=1, RELOADING=1, STOPPING=1 go there"},
      {"WATCHDOG_USEC", "set by systemd's WatchdogSec=: WATCHDOG=1 every half of it"},
      {"${NAME}", "any variable the configuration names in ${NAME} is substituted where it appears"},
  };
  return all;
}

namespace {

void print_entries(std::ostream& out, const std::vector<HelpEntry>& entries) {
  for (const auto& e : entries) {
    std::string term(e.term);
    out << "  " << term << std::string(term.size() < 16 ? 16 - term.size() : 1, ' ') << e.text << "\n";
  }
}

// Wraps a paragraph at 80 columns with an indent.
void print_wrapped(std::ostream& out, std::string_view text, std::string_view indent) {
  size_t column = 0;
  while (!text.empty()) {
    size_t end = text.find(' ');
    std::string_view word = text.substr(0, end);
    if (column > 0 && column + 1 + word.size() > 80) {
      out << "\n";
      column = 0;
    }
    if (column == 0) {
      out << indent;
      column = indent.size();
    } else {
      out << ' ';
      ++column;
    }
    out << word;
    column += word.size();
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
  out << "\n";
}

// The paragraphs of a description (separated by a blank line).
std::vector<std::string_view> paragraphs(std::string_view text) {
  std::vector<std::string_view> out;
  for (size_t at; (at = text.find("\n\n")) != std::string_view::npos; text = text.substr(at + 2))
    out.push_back(text.substr(0, at));
  out.push_back(text);
  return out;
}

// roff text: backslashes and minus signs escaped, and a line never starts with a control
// character.
std::string roff(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

void man_entries(std::ostream& out, std::string_view section, const std::vector<HelpEntry>& entries) {
  out << ".SH " << section << "\n";
  for (const auto& e : entries) out << ".TP\n.B " << roff(e.term) << "\n" << roff(e.text) << "\n";
}

}  // namespace

void print_usage(std::ostream& out) {
  out << "usage: cosyncd COMMAND [options]\n"
         "       cosyncd help COMMAND | cosyncd COMMAND --help\n"
         "commands:\n";
  for (const auto& c : commands()) {
    std::string name(c.name);
    out << "  " << name << std::string(name.size() < 15 ? 15 - name.size() : 1, ' ') << c.summary << "\n";
  }
  out << "options:\n";
  print_entries(out, global_options());
  out << "See cosyncd(8) for exit statuses, signals, files and environment.\n";
}

void print_command_help(std::ostream& out, const CommandHelp& command) {
  out << "usage: cosyncd " << command.name << (command.synopsis.empty() ? "" : " ") << command.synopsis << "\n\n";
  for (auto p : paragraphs(command.description)) {
    print_wrapped(out, p, "");
    out << "\n";
  }
  if (command.options.empty()) return;
  out << "options:\n";
  std::vector<HelpEntry> own;
  for (const auto& o : global_options())
    if (std::find(command.options.begin(), command.options.end(), o.term) != command.options.end()) own.push_back(o);
  print_entries(out, own);
}

void write_man_page(std::ostream& out, std::string_view version) {
  out << ".\\\" Generated by `cosyncd help --man` from daemon/cli/help.cpp: edit that, not this.\n"
      << ".TH COSYNCD 8 \"\" \"cosync " << roff(version) << "\" \"System Administration\"\n"
      << ".SH NAME\ncosyncd \\- keep Microsoft Partner Center referrals and a CRM mirrored both ways\n"
      << ".SH SYNOPSIS\n";
  for (const auto& c : commands()) out << ".B cosyncd " << c.name << "\n" << roff(c.synopsis) << "\n.br\n";
  out << ".SH DESCRIPTION\n"
      << roff("cosyncd syncs Microsoft Partner Center referrals with Salesforce or Dynamics 365 (Dataverse) "
              "both ways: new referrals appear in the CRM within one poll interval, and status changes in "
              "the CRM flow back to Partner Center. Every write is conditional, so nothing is duplicated or "
              "overwritten. The mappings (which referrals, which fields, which values) are YAML files named "
              "by the configuration; see the examples.")
      << "\n.SH COMMANDS\n";
  for (const auto& c : commands()) {
    out << ".TP\n.B " << c.name << "\n";
    bool first = true;
    for (auto p : paragraphs(c.description)) {
      if (!std::exchange(first, false)) out << ".IP\n";
      out << roff(p) << "\n";
    }
  }
  man_entries(out, "OPTIONS", global_options());
  man_entries(out, "EXIT STATUS", exit_statuses());
  man_entries(out, "SIGNALS", signals());
  man_entries(out, "FILES", files());
  man_entries(out, "ENVIRONMENT", environment());
  out << ".SH SEE ALSO\n.BR systemctl (1),\n.BR journalctl (1),\n.BR systemd.exec (5)\n";
}

}  // namespace cosync::app
