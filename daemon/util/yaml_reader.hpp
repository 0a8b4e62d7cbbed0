#pragma once
// Strict reading of YAML configuration: every error names the file, the line and the key
// ("cosync.yaml:12: connections.salesforce.client_id: missing key"), unknown keys are
// rejected, and `${ENV_VAR}` in scalars is expanded.
#include <chrono>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "daemon/util/bounded_file.hpp"

namespace cosync {

// A start-up error in configuration. what() is "file:line: key: message".
class ConfigError : public std::runtime_error {
 public:
  ConfigError(const std::string& file, int line, const std::string& key, const std::string& message);
};

class YamlNode {
 public:
  // Parses a file; a syntax error, an unreadable file (not a regular file, over
  // kMaxYamlFileBytes) or a key given twice in one mapping is a ConfigError.
  static YamlNode load_file(const std::string& path);
  static YamlNode load_string(const std::string& text, const std::string& file_name);

  const std::string& file() const { return *file_; }
  const std::string& key() const { return key_; }  // dotted path from the document root
  int line() const { return node_.Mark().line + 1; }

  bool is_map() const { return node_.IsMap(); }
  bool is_sequence() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }
  bool has(std::string_view key) const;

  YamlNode get(std::string_view key) const;                     // missing key is an error
  std::optional<YamlNode> find(std::string_view key) const;     // nullopt when absent
  std::vector<YamlNode> items() const;                          // a sequence (error otherwise)
  std::vector<std::pair<std::string, YamlNode>> entries() const;  // a map (error otherwise)

  // Scalar conversions; a wrong type is an error naming this node.
  std::string as_string() const;  // ${VAR} expanded; an unset variable is an error
  long long as_int(long long min, long long max) const;
  double as_double() const;
  bool as_bool() const;
  // "90", "90s", "15m", "2h", "1d", within [min, max] (each key has its own sane range, and
  // nothing a config says can overflow what uses it).
  std::chrono::seconds as_seconds(std::chrono::seconds min, std::chrono::seconds max) const;

  std::string string(std::string_view key) const { return get(key).as_string(); }
  std::string string_or(std::string_view key, std::string fallback) const;
  // A secret given as `key: ${ENV}` (never as literal text: secrets are not written inline) or
  // as `key_file: /path` whose content (trailing newline stripped; a relative path is relative
  // to the YAML file) is the secret; the file must be private (see read_bounded_file). Exactly
  // one of the two must be present unless `required` is false.
  std::optional<std::string> secret(std::string_view key, bool required = true) const;

  // Rejects any key of this map that is not listed, naming the first unknown key at its line.
  void allow_only(std::initializer_list<std::string_view> keys) const;
  // Requires the node to be a map (else error).
  const YamlNode& expect_map() const;

  [[noreturn]] void fail(const std::string& message) const;

  // A path given by this node (relative to the YAML file's directory), checked now: a regular,
  // readable file under the cap and, for FileAccess::secret, private. Returns the absolute path.
  std::string readable_file(FileAccess access, std::size_t max_bytes = kMaxSecretFileBytes) const;

 private:
  YamlNode(YAML::Node node, std::shared_ptr<const std::string> file, std::string key);
  std::string child_key(std::string_view key) const;
  std::string resolved_path(const std::string& path) const;

  YAML::Node node_;
  std::shared_ptr<const std::string> file_;
  std::string key_;
};

// Expands ${VAR} references; throws std::invalid_argument naming an unset variable.
std::string expand_env(std::string_view text);

}  // namespace cosync
