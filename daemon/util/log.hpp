#pragma once
// Logging: one spdlog logger is created at start and injected into every component, so tests
// can capture and assert on log lines. Never log a secret.
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

namespace cosync {

using Log = std::shared_ptr<spdlog::logger>;

enum class LogFormat { text, json };

struct LogOptions {
  LogFormat format = LogFormat::text;
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
};

// Logs to stderr. Under systemd (JOURNAL_STREAM set) each line gets a "<N>" priority prefix so
// journald records the right level.
Log make_stderr_logger(const LogOptions& options);
// For tests: a logger that keeps every formatted line in memory.
struct CapturedLog {
  Log log;
  std::shared_ptr<std::string> text;  // all lines so far
};
CapturedLog make_capturing_logger(const std::string& level = "debug");
// The same, formatted as make_stderr_logger formats (`journald`: as if JOURNAL_STREAM were set).
CapturedLog make_capturing_logger(const LogOptions& options, bool journald);
// A logger that discards everything.
Log null_logger();

// `text` with control characters (C0 and DEL) escaped: \n, \r, \t, others as \xNN. The text
// log format applies it to every message, so that no logged value can start a line of its own.
std::string escape_control_characters(std::string_view text);

bool is_valid_log_level(const std::string& level);

}  // namespace cosync
