#include "daemon/util/log.hpp"

#include "daemon/util/time.hpp"

#include <algorithm>
#include <cstdlib>
#include <string_view>
#include <mutex>

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace cosync {
namespace {

// syslog priorities for journald's "<N>" line prefix.
int journald_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return 7;
    case spdlog::level::info: return 6;
    case spdlog::level::warn: return 4;
    case spdlog::level::err: return 3;
    case spdlog::level::critical: return 2;
    default: return 6;
  }
}

// The message's `key=value` words (mapping=pc-sf-leads referral=0fdd...), as the log lines
// write them, each as a field of its own so that a log query can select on it.
void add_message_fields(std::string_view text, nlohmann::json& line) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(pos, end - pos);
    pos = end + 1;
    if (!word.empty() && word.front() == '(') word.remove_prefix(1);
    size_t eq = word.find('=');
    if (eq == 0 || eq == std::string_view::npos) continue;
    std::string_view key = word.substr(0, eq), value = word.substr(eq + 1);
    if (!std::all_of(key.begin(), key.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; })) continue;
    while (!value.empty() && std::string_view(",;:)").find(value.back()) != std::string_view::npos) value.remove_suffix(1);
    std::string name(key);
    if (value.empty() || line.contains(name)) continue;  // never over ts, level, msg or an earlier one
    line[name] = std::string(value);
  }
}

// One JSON object per line: {"ts":..,"level":..,"msg":..} and the message's key=value fields.
// The message is escaped properly, which a pattern string cannot do.
class JsonFormatter final : public spdlog::formatter {
 public:
  explicit JsonFormatter(bool journald) : journald_(journald) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::json line;
    line["ts"] = format_iso8601(msg.time);
    line["level"] = std::string(spdlog::level::to_string_view(msg.level).data(),
                                spdlog::level::to_string_view(msg.level).size());
    line["msg"] = std::string(msg.payload.data(), msg.payload.size());
    add_message_fields(std::string_view(msg.payload.data(), msg.payload.size()), line);
    std::string text = (journald_ ? "<" + std::to_string(journald_priority(msg.level)) + ">" : "") +
                       line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(journald_); }

 private:
  bool journald_;
};

// The text format: the pattern formatter, with control characters in the message escaped first.
// A remote string ("Acme\n<2>fake critical") must never start a line of its own: it would forge
// a log line, and under journald its "<N>" prefix would set that line's priority.
class EscapingFormatter final : public spdlog::formatter {
 public:
  explicit EscapingFormatter(std::unique_ptr<spdlog::formatter> inner) : inner_(std::move(inner)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string_view payload(msg.payload.data(), msg.payload.size());
    if (std::none_of(payload.begin(), payload.end(), is_control)) return inner_->format(msg, dest);
    std::string escaped = escape_control_characters(payload);
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t(escaped.data(), escaped.size());
    inner_->format(copy, dest);
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<EscapingFormatter>(inner_->clone());
  }

 private:
  static bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }
  std::unique_ptr<spdlog::formatter> inner_;
};

class JournaldPriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string p = "<" + std::to_string(journald_priority(msg.level)) + ">";
    dest.append(p.data(), p.data() + p.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JournaldPriorityFlag>(); }
};

class StringSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit StringSink(std::shared_ptr<std::string> text) : text_(std::move(text)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    text_->append(formatted.data(), formatted.size());
  }
  void flush_() override {}

 private:
  std::shared_ptr<std::string> text_;
};

std::unique_ptr<spdlog::formatter> text_formatter(const std::string& pattern) {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<JournaldPriorityFlag>('*');
  f->set_pattern(pattern);
  return std::make_unique<EscapingFormatter>(std::move(f));
}

}  // namespace

std::string escape_control_characters(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (u < 0x20 || u == 0x7f) out += {'\\', 'x', kHex[u >> 4], kHex[u & 0xf]};
    else out += c;
  }
  return out;
}

bool is_valid_log_level(const std::string& level) {
  return spdlog::level::from_str(level) != spdlog::level::off || level == "off";
}

namespace {

// The daemon's line format on `sink`: JSON or text, with journald priorities under systemd.
Log formatted_logger(const std::string& name, std::shared_ptr<spdlog::sinks::sink> sink, const LogOptions& options,
                     bool journald) {
  if (options.format == LogFormat::json) {
    sink->set_formatter(std::make_unique<JsonFormatter>(journald));
  } else {
    // Under journald the timestamp is the journal's own; elsewhere print it.
    sink->set_formatter(text_formatter(journald ? "%*%l %v" : "%Y-%m-%dT%H:%M:%S.%e %l %v"));
  }
  auto log = std::make_shared<spdlog::logger>(name, std::move(sink));
  log->set_level(spdlog::level::from_str(options.level));
  log->flush_on(spdlog::level::trace);
  return log;
}

}  // namespace

Log make_stderr_logger(const LogOptions& options) {
  return formatted_logger("cosync", std::make_shared<spdlog::sinks::stderr_sink_mt>(), options,
                          std::getenv("JOURNAL_STREAM") != nullptr);
}

CapturedLog make_capturing_logger(const LogOptions& options, bool journald) {
  auto text = std::make_shared<std::string>();
  return {formatted_logger("test", std::make_shared<StringSink>(text), options, journald), text};
}

CapturedLog make_capturing_logger(const std::string& level) {
  auto text = std::make_shared<std::string>();
  auto sink = std::make_shared<StringSink>(text);
  sink->set_formatter(text_formatter("%l %v"));
  auto log = std::make_shared<spdlog::logger>("test", sink);
  log->set_level(spdlog::level::from_str(level));
  return {log, text};
}

Log null_logger() {
  return std::make_shared<spdlog::logger>("null", std::make_shared<spdlog::sinks::null_sink_mt>());
}

}  // namespace cosync
