#include "daemon/mapping/condition.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <string_view>
#include <vector>

#include "daemon/mapping/mapping.hpp"
#include "daemon/mapping/referral_paths.hpp"
#include "daemon/util/time.hpp"
#include "daemon/util/yaml_reader.hpp"

namespace cosync::mapping {

namespace {

enum class Op { equals, in, less, less_equal, greater, greater_equal, older_than, newer_than, exists };

// A value written in the mapping file, read every way it could be compared: YAML gives text, and
// the same `50000` must match a JSON number while `New` matches a string.
struct Operand {
  std::string text;
  std::optional<double> number;
  std::optional<TimePoint> time;
  std::optional<bool> boolean;
};

// Deeper and/or/not nesting than anyone writes by hand; it also bounds the evaluator's recursion.
constexpr int kMaxNesting = 16;

std::optional<double> number_of(std::string_view text) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// A timestamp, or a date alone ("2026-01-01", a Salesforce date field) read as midnight UTC.
std::optional<TimePoint> time_of(std::string_view text) {
  constexpr std::string_view midnight = "T00:00:00Z";
  if (text.size() == 10) {
    // A fixed buffer: GCC 12 warns falsely (-Warray-bounds) on `std::string(text) + "..."` here.
    std::array<char, 20> full{};
    std::copy(text.begin(), text.end(), full.begin());
    std::copy(midnight.begin(), midnight.end(), full.begin() + 10);
    return parse_iso8601(std::string_view(full.data(), full.size()));
  }
  return parse_iso8601(text);
}

Operand operand_of(const YamlNode& node) {
  Operand o{node.as_string(), {}, {}, {}};
  if (o.text.empty()) node.fail("must not be empty");
  o.number = number_of(o.text);
  o.time = time_of(o.text);
  if (o.text == "true" || o.text == "false") o.boolean = o.text == "true";
  return o;
}

}  // namespace

struct Condition::Node {
  enum class Kind { all, any, negate, leaf };
  Kind kind = Kind::all;
  std::vector<Node> children;  // all, any: the operands; negate: one
  // A leaf: the value at `path` on one side, compared by `op`.
  bool crm = false;
  std::string path;
  Op op = Op::equals;
  std::vector<Operand> operands;      // equals: one; in: several; comparisons: one
  std::chrono::seconds age{0};        // older_than, newer_than
  std::string age_text;
  bool should_exist = true;           // exists
};

namespace {

using Node = Condition::Node;

// No value at all: missing, null, "" (first_value_at reads it as null), [] or {}.
bool has_value(const nlohmann::json& v) {
  return !v.is_null() && !((v.is_array() || v.is_object()) && v.empty());
}

bool equal(const nlohmann::json& v, const Operand& o) {
  if (v.is_string()) return v.get_ref<const std::string&>() == o.text;
  if (v.is_number()) return o.number && v.get<double>() == *o.number;
  if (v.is_boolean()) return o.boolean && v.get<bool>() == *o.boolean;
  return false;
}

// -1, 0, 1 comparing a remote value with the operand, or nullopt when they are not comparable
// (a string where a number is expected, text that is not a date).
std::optional<int> compare(const nlohmann::json& v, const Operand& o) {
  auto order = [](auto a, auto b) { return a < b ? -1 : (b < a ? 1 : 0); };
  if (o.number) {
    if (!v.is_number()) return std::nullopt;
    return order(v.get<double>(), *o.number);
  }
  if (!o.time || !v.is_string()) return std::nullopt;
  auto t = time_of(v.get_ref<const std::string&>());
  if (!t) return std::nullopt;
  return order(*t, *o.time);
}

bool leaf_holds(const Node& n, const ConditionInput& in) {
  const nlohmann::json* record = n.crm ? in.crm : in.pc;
  if (!record) return n.op == Op::exists && !n.should_exist;
  nlohmann::json v = first_value_at(*record, n.path);
  if (n.op == Op::exists) return has_value(v) == n.should_exist;
  if (!has_value(v)) return false;
  switch (n.op) {
    case Op::equals:
    case Op::in:
      for (const auto& o : n.operands)
        if (equal(v, o)) return true;
      return false;
    case Op::older_than:
    case Op::newer_than: {
      auto t = v.is_string() ? time_of(v.get_ref<const std::string&>()) : std::nullopt;
      if (!t) return false;
      // In microseconds: any two time points fit (nanoseconds would overflow over 292 years).
      using std::chrono::microseconds, std::chrono::duration_cast;
      auto age = duration_cast<microseconds>(in.now.time_since_epoch()) - duration_cast<microseconds>(t->time_since_epoch());
      return n.op == Op::older_than ? age >= n.age : age < n.age;  // they flip at the same instant
    }
    default: break;
  }
  auto c = compare(v, n.operands.front());
  if (!c) return false;
  switch (n.op) {
    case Op::less: return *c < 0;
    case Op::less_equal: return *c <= 0;
    case Op::greater: return *c > 0;
    case Op::greater_equal: return *c >= 0;
    default: return false;
  }
}

bool holds(const Node& n, const ConditionInput& in) {
  switch (n.kind) {
    case Node::Kind::all:
      for (const auto& c : n.children)
        if (!holds(c, in)) return false;
      return true;
    case Node::Kind::any:
      for (const auto& c : n.children)
        if (holds(c, in)) return true;
      return false;
    case Node::Kind::negate: return !holds(n.children.front(), in);
    case Node::Kind::leaf: return leaf_holds(n, in);
  }
  return false;
}

// Lowers `next` to the earliest instant after now at which an older_than / newer_than leaf flips.
void collect_time_changes(const Node& n, const ConditionInput& in, std::optional<TimePoint>& next) {
  for (const auto& c : n.children) collect_time_changes(c, in, next);
  if (n.kind != Node::Kind::leaf || (n.op != Op::older_than && n.op != Op::newer_than)) return;
  const nlohmann::json* record = n.crm ? in.crm : in.pc;
  if (!record) return;
  nlohmann::json v = first_value_at(*record, n.path);
  auto t = v.is_string() ? time_of(v.get_ref<const std::string&>()) : std::nullopt;
  if (!t || *t > TimePoint::max() - n.age) return;  // no flip that a TimePoint can hold
  TimePoint flip = *t + n.age;
  if (flip > in.now && (!next || flip < *next)) next = flip;
}

const char* symbol(Op op) {
  switch (op) {
    case Op::equals: return "=";
    case Op::in: return "in";
    case Op::less: return "<";
    case Op::less_equal: return "<=";
    case Op::greater: return ">";
    case Op::greater_equal: return ">=";
    case Op::older_than: return "older than";
    case Op::newer_than: return "newer than";
    case Op::exists: return "exists";
  }
  return "?";
}

std::string describe_leaf(const Node& n) {
  std::string out = (n.crm ? "crm." : "pc.") + n.path;
  switch (n.op) {
    case Op::exists: return out + (n.should_exist ? " exists" : " does not exist");
    case Op::older_than:
    case Op::newer_than: return out + " " + symbol(n.op) + " " + n.age_text;
    case Op::in: {
      std::string list;
      for (const auto& o : n.operands) list += (list.empty() ? "" : ", ") + o.text;
      return out + " in [" + list + "]";
    }
    default: return out + " " + symbol(n.op) + " " + n.operands.front().text;
  }
}

std::string describe_node(const Node& n) {
  if (n.kind == Node::Kind::leaf) return describe_leaf(n);
  if (n.kind == Node::Kind::negate) return "not (" + describe_node(n.children.front()) + ")";
  if (n.children.empty()) return "always";
  std::string out;
  for (const auto& c : n.children) {
    bool grouped = c.kind == Node::Kind::all || c.kind == Node::Kind::any;
    std::string text = grouped && c.children.size() > 1 ? "(" + describe_node(c) + ")" : describe_node(c);
    out += (out.empty() ? "" : (n.kind == Node::Kind::all ? " and " : " or ")) + text;
  }
  return out;
}

}  // namespace

Condition::Condition() : root_(std::make_shared<const Node>()) {}
Condition::Condition(std::shared_ptr<const Node> root) : root_(std::move(root)) {}

bool Condition::evaluate(const ConditionInput& input) const { return holds(*root_, input); }
std::string Condition::describe() const { return describe_node(*root_); }
std::optional<TimePoint> Condition::next_time_change(const ConditionInput& input) const {
  std::optional<TimePoint> next;
  collect_time_changes(*root_, input, next);
  return next;
}
bool Condition::always_true() const { return root_->kind == Node::Kind::all && root_->children.empty(); }

namespace {
void collect_paths(const Condition::Node& node, bool crm, std::vector<std::string>& out) {
  if (node.kind == Condition::Node::Kind::leaf && node.crm == crm) out.push_back(node.path);
  for (const auto& child : node.children) collect_paths(child, crm, out);
}
}  // namespace

std::vector<std::string> Condition::paths(bool crm) const {
  std::vector<std::string> out;
  collect_paths(*root_, crm, out);
  return out;
}

namespace {

// Compiles YAML into nodes, refusing anything it cannot evaluate exactly as written.
class Compiler {
 public:
  explicit Compiler(const ConditionScope& scope) : scope_(scope) {}

  // A map of conditions, all of which must hold.
  Node all_of(const YamlNode& node, int depth) const {
    node.expect_map();
    if (depth > kMaxNesting) node.fail("conditions nested deeper than " + std::to_string(kMaxNesting) + " levels");
    Node n;
    for (const auto& [key, value] : node.entries()) n.children.push_back(entry(key, value, depth));
    return n.children.size() == 1 ? std::move(n.children.front()) : n;
  }

 private:
  Node entry(const std::string& key, const YamlNode& value, int depth) const {
    if (key == "and" || key == "or") {
      Node n;
      n.kind = key == "and" ? Node::Kind::all : Node::Kind::any;
      if (!value.is_sequence()) value.fail("expected a list of conditions");
      for (const auto& item : value.items()) n.children.push_back(all_of(item, depth + 1));
      if (n.children.empty()) value.fail("must list at least one condition");
      return n;
    }
    if (key == "not") {
      Node n;
      n.kind = Node::Kind::negate;
      n.children.push_back(all_of(value, depth + 1));
      return n;
    }
    return leaves(key, value);
  }

  // `path: value`, `path: [values]` or `path: {operator: value, ...}`.
  Node leaves(const std::string& key, const YamlNode& value) const {
    Node leaf;
    leaf.kind = Node::Kind::leaf;
    side_and_path(key, value, leaf);
    if (value.is_scalar()) {
      leaf.operands.push_back(operand_of(value));
      return leaf;
    }
    if (value.is_sequence()) return in_list(leaf, value);
    if (!value.is_map())
      value.fail("expected a value, a list of values or a map of operators such as {\">=\": 1000}");
    Node n;
    for (const auto& [op, operand] : value.entries()) n.children.push_back(with_operator(leaf, op, operand));
    if (n.children.empty()) value.fail("expected at least one operator such as {\">=\": 1000}");
    return n.children.size() == 1 ? std::move(n.children.front()) : n;
  }

  void side_and_path(const std::string& key, const YamlNode& value, Node& leaf) const {
    auto refuse_side = [&](const char* side) {
      value.fail("'" + key + "': " + side + " paths cannot be used here" +
                 (scope_.why_not.empty() ? "" : " (" + scope_.why_not + ")"));
    };
    if (key.starts_with("crm.")) {
      if (!scope_.crm) refuse_side("crm.");
      leaf.crm = true;
      leaf.path = key.substr(4);
      if (!is_crm_identifier(leaf.path))
        value.fail("'" + key + "' is not a CRM field (crm. then letters, digits and _, starting with a letter)");
      return;
    }
    bool prefixed = key.starts_with("pc.");
    if (!prefixed && !scope_.bare_keys_are_pc)
      value.fail("'" + key + "' is neither and, or, not nor a path starting with pc. or crm.");
    if (prefixed && !scope_.pc) refuse_side("pc.");
    leaf.path = prefixed ? key.substr(3) : key;
    if (!is_known_referral_path(leaf.path)) value.fail("'" + key + "' is not a field of a Partner Center referral");
  }

  static Node in_list(Node leaf, const YamlNode& list) {
    leaf.op = Op::in;
    for (const auto& item : list.items()) leaf.operands.push_back(operand_of(item));
    if (leaf.operands.empty()) list.fail("must not be empty");
    return leaf;
  }

  static Node with_operator(Node leaf, const std::string& op, const YamlNode& operand) {
    if (op == "in") {
      if (!operand.is_sequence()) operand.fail("expected a list of values");
      return in_list(std::move(leaf), operand);
    }
    if (op == "exists") {
      leaf.op = Op::exists;
      leaf.should_exist = operand.as_bool();
      return leaf;
    }
    if (op == "older_than" || op == "newer_than") {
      leaf.op = op == "older_than" ? Op::older_than : Op::newer_than;
      leaf.age_text = operand.as_string();
      if (leaf.age_text.empty() || std::isdigit(static_cast<unsigned char>(leaf.age_text.back())))
        operand.fail("expected a duration with its unit such as 30m, 12h or 14d, got '" + leaf.age_text + "'");
      leaf.age = operand.as_seconds(std::chrono::seconds(1), std::chrono::hours(24 * 3650));
      return leaf;
    }
    for (Op o : {Op::less, Op::less_equal, Op::greater, Op::greater_equal}) {
      if (op != symbol(o)) continue;
      leaf.op = o;
      leaf.operands.push_back(operand_of(operand));
      if (!leaf.operands.front().number && !leaf.operands.front().time)
        operand.fail("expected a number or an ISO 8601 date such as 2026-01-01 or 2026-01-01T12:00:00Z, got '" +
                     leaf.operands.front().text + "'");
      return leaf;
    }
    operand.fail("unknown operator '" + op + "' (expected one of: in, >, >=, <, <=, older_than, newer_than, exists)");
  }

  const ConditionScope& scope_;
};

}  // namespace

Condition load_condition(const YamlNode& node, const ConditionScope& scope) {
  return Condition(std::make_shared<const Node>(Compiler(scope).all_of(node, 0)));
}

}  // namespace cosync::mapping
