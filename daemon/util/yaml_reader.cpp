#include "daemon/util/yaml_reader.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>

namespace cosync {

ConfigError::ConfigError(const std::string& file, int line, const std::string& key, const std::string& message)
    : std::runtime_error(file + ":" + std::to_string(line) + ": " + (key.empty() ? "" : key + ": ") + message) {}

std::string expand_env(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      size_t end = text.find('}', i + 2);
      if (end == std::string_view::npos) throw std::invalid_argument("unterminated ${ in value");
      std::string name(text.substr(i + 2, end - i - 2));
      const char* value = std::getenv(name.c_str());
      if (!value) throw std::invalid_argument("environment variable " + name + " is not set");
      out += value;
      i = end + 1;
    } else {
      out += text[i++];
    }
  }
  return out;
}

YamlNode::YamlNode(YAML::Node node, std::shared_ptr<const std::string> file, std::string key)
    : node_(std::move(node)), file_(std::move(file)), key_(std::move(key)) {}

namespace {

// yaml-cpp keeps both entries of a key given twice in one mapping and lookups see only the
// first: a second `timeout:` further down would be silently ignored. Walked without recursion.
void refuse_duplicate_keys(const YAML::Node& root, const std::string& file_name) {
  std::vector<std::pair<YAML::Node, std::string>> pending{{root, ""}};  // node, its dotted key
  while (!pending.empty()) {
    auto [node, key] = pending.back();
    pending.pop_back();
    if (node.IsSequence()) {
      std::size_t i = 0;
      for (const auto& item : node) pending.emplace_back(item, key + "[" + std::to_string(i++) + "]");
    } else if (node.IsMap()) {
      std::set<std::string> seen;
      for (const auto& kv : node) {
        std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "?";
        std::string child = key.empty() ? name : key + "." + name;
        if (kv.first.IsScalar() && !seen.insert(name).second)
          throw ConfigError(file_name, kv.first.Mark().line + 1, child, "key given twice in the same mapping");
        pending.emplace_back(kv.second, child);
      }
    }
  }
}

}  // namespace

YamlNode YamlNode::load_string(const std::string& text, const std::string& file_name) {
  auto file = std::make_shared<const std::string>(file_name);
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsDefined() || root.IsNull()) throw ConfigError(file_name, 1, "", "the file is empty");
    refuse_duplicate_keys(root, file_name);
    return YamlNode(root, file, "");
  } catch (const YAML::ParserException& e) {
    throw ConfigError(file_name, e.mark.line + 1, "", "YAML syntax error: " + e.msg);
  }
}

YamlNode YamlNode::load_file(const std::string& path) {
  auto text = read_bounded_file(path, kMaxYamlFileBytes);
  if (!text) throw ConfigError(path, 0, "", text.failure().message);
  return load_string(*text, path);
}

std::string YamlNode::child_key(std::string_view key) const {
  return key_.empty() ? std::string(key) : key_ + "." + std::string(key);
}

void YamlNode::fail(const std::string& message) const { throw ConfigError(*file_, line(), key_, message); }

const YamlNode& YamlNode::expect_map() const {
  if (!node_.IsMap()) fail("expected a mapping of keys to values");
  return *this;
}

bool YamlNode::has(std::string_view key) const { return node_.IsMap() && node_[std::string(key)].IsDefined(); }

std::optional<YamlNode> YamlNode::find(std::string_view key) const {
  expect_map();
  for (const auto& kv : node_) {
    if (kv.first.Scalar() == key) {
      if (kv.second.IsNull()) return std::nullopt;
      return YamlNode(kv.second, file_, child_key(key));
    }
  }
  return std::nullopt;
}

YamlNode YamlNode::get(std::string_view key) const {
  auto child = find(key);
  if (!child) throw ConfigError(*file_, line(), child_key(key), "missing key");
  return *child;
}

std::vector<YamlNode> YamlNode::items() const {
  if (!node_.IsSequence()) fail("expected a list");
  std::vector<YamlNode> out;
  size_t i = 0;
  for (const auto& item : node_) out.push_back(YamlNode(item, file_, key_ + "[" + std::to_string(i++) + "]"));
  return out;
}

std::vector<std::pair<std::string, YamlNode>> YamlNode::entries() const {
  expect_map();
  std::vector<std::pair<std::string, YamlNode>> out;
  for (const auto& kv : node_) {
    std::string k = kv.first.Scalar();
    out.emplace_back(k, YamlNode(kv.second, file_, child_key(k)));
  }
  return out;
}

void YamlNode::allow_only(std::initializer_list<std::string_view> keys) const {
  expect_map();
  for (const auto& kv : node_) {
    const std::string& k = kv.first.Scalar();
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) {
      std::string known;
      for (auto allowed : keys) known += (known.empty() ? "" : ", ") + std::string(allowed);
      throw ConfigError(*file_, kv.first.Mark().line + 1, child_key(k), "unknown key (expected one of: " + known + ")");
    }
  }
}

std::string YamlNode::as_string() const {
  if (!node_.IsScalar()) fail("expected a single value");
  try {
    return expand_env(node_.Scalar());
  } catch (const std::invalid_argument& e) {
    fail(e.what());
  }
}

std::string YamlNode::string_or(std::string_view key, std::string fallback) const {
  auto child = find(key);
  return child ? child->as_string() : std::move(fallback);
}

long long YamlNode::as_int(long long min, long long max) const {
  std::string text = as_string();
  try {
    size_t used = 0;
    long long v = std::stoll(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    if (v < min || v > max)
      fail("must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + text);
    return v;
  } catch (const std::logic_error&) {
    fail("expected a whole number, got '" + text + "'");
  }
}

double YamlNode::as_double() const {
  std::string text = as_string();
  try {
    size_t used = 0;
    double v = std::stod(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    return v;
  } catch (const std::logic_error&) {
    fail("expected a number, got '" + text + "'");
  }
}

bool YamlNode::as_bool() const {
  std::string text = as_string();
  if (text == "true" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "no" || text == "off") return false;
  fail("expected true or false, got '" + text + "'");
}

std::chrono::seconds YamlNode::as_seconds(std::chrono::seconds min, std::chrono::seconds max) const {
  std::string text = as_string();
  long long factor = 1;
  std::string digits = text;
  if (!text.empty()) {
    switch (text.back()) {
      case 's': factor = 1; digits.pop_back(); break;
      case 'm': factor = 60; digits.pop_back(); break;
      case 'h': factor = 3600; digits.pop_back(); break;
      case 'd': factor = 86400; digits.pop_back(); break;
      case 'w': factor = 7 * 86400; digits.pop_back(); break;  // weeks: the lead guide's "6-8 weeks"
      default: break;
    }
  }
  long long v = 0;
  try {
    size_t used = 0;
    if (digits.empty() || digits[0] == '-' || digits[0] == '+' || digits[0] == ' ') throw std::invalid_argument(text);
    v = std::stoll(digits, &used);
    if (used != digits.size()) throw std::invalid_argument(text);
  } catch (const std::logic_error&) {
    fail("expected a duration such as 30s, 15m, 2h or 1d, got '" + text + "'");
  }
  // Compared before multiplying: 146000d must be refused, not wrapped around.
  auto describe = [](std::chrono::seconds s) {
    auto n = s.count();
    if (n != 0 && n % 86400 == 0) return std::to_string(n / 86400) + "d";
    if (n != 0 && n % 3600 == 0) return std::to_string(n / 3600) + "h";
    if (n != 0 && n % 60 == 0) return std::to_string(n / 60) + "m";
    return std::to_string(n) + "s";
  };
  if (v > max.count() / factor || v * factor > max.count() || v * factor < min.count())
    fail("must be between " + describe(min) + " and " + describe(max) + ", got '" + text + "'");
  return std::chrono::seconds(v * factor);
}

std::string YamlNode::resolved_path(const std::string& path) const {
  // Relative to the YAML file, like every other path in it.
  std::filesystem::path p = path;
  if (p.is_relative()) p = std::filesystem::absolute(std::filesystem::path(*file_).parent_path() / p);
  return p.lexically_normal().string();
}

std::string YamlNode::readable_file(FileAccess access, std::size_t max_bytes) const {
  std::string path = resolved_path(as_string());
  if (auto content = read_bounded_file(path, max_bytes, access); !content) fail(content.failure().message);
  return path;
}

std::optional<std::string> YamlNode::secret(std::string_view key, bool required) const {
  std::string file_key = std::string(key) + "_file";
  auto inline_value = find(key);
  auto file_value = find(file_key);
  if (inline_value && file_value) file_value->fail("give either " + std::string(key) + " or " + file_key + ", not both");
  if (inline_value) {
    // Only a whole ${VAR}: a literal secret would sit in a file that is not protected as one.
    const std::string& raw = inline_value->node_.IsScalar() ? inline_value->node_.Scalar() : std::string();
    if (!(raw.starts_with("${") && raw.ends_with("}") && raw.find('}') == raw.size() - 1))
      inline_value->fail("secrets are never written inline: use " + std::string(key) + ": ${ENV_VAR} or " + file_key +
                         ": /path/to/file");
    return inline_value->as_string();
  }
  if (file_value) {
    std::string path = file_value->resolved_path(file_value->as_string());
    auto content = read_bounded_file(path, kMaxSecretFileBytes, FileAccess::secret);
    if (!content) file_value->fail("cannot use the secret file: " + content.failure().message);
    std::string value = std::move(*content);
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    if (value.empty()) file_value->fail("the secret file " + path + " is empty");
    return value;
  }
  if (required) throw ConfigError(*file_, line(), child_key(key), "missing key (or " + file_key + ")");
  return std::nullopt;
}

}  // namespace cosync
