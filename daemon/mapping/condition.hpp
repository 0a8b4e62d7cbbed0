#pragma once
// The condition language of mapping files (`select:` today, every rule's `when:` later): a YAML
// map compiled once, at load, into a tree that is evaluated against a referral, its CRM record
// and the time.
//
//   pc.status: [New, Active]                  in a list        pc.type: Shared            equal
//   pc.details.dealValue: {">=": 50000}       number / date    crm.CloseDate: {"<": 2026-01-01}
//   pc.createdDateTime: {older_than: 14d}     age against now  crm.Probability: {exists: true}
//   and: [...], or: [...], not: {...}         a map of several keys means "and"
//
// Reading a path: the first non-empty value at it, looking into arrays on the way (as
// first_value_at). A side that is absent (no CRM record yet) reads as every path missing: a leaf
// on it is false, except `exists: false`, which is true (so `not: {crm.X: ...}` is true too).
// Remote values are never trusted: a value of the wrong type simply does not match.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/util/clock.hpp"

namespace cosync {
class YamlNode;  // daemon/util/yaml_reader.hpp
}

namespace cosync::mapping {

// What a condition is evaluated against. A null side is absent.
struct ConditionInput {
  const nlohmann::json* pc = nullptr;   // the referral
  const nlohmann::json* crm = nullptr;  // its CRM record
  TimePoint now{};                      // for older_than / newer_than
};

// Where a condition is written decides what it may read.
struct ConditionScope {
  bool pc = true;   // pc. paths allowed
  bool crm = true;  // crm. paths allowed
  // Legacy `select:` syntax: a key without a prefix ("status", "_kind") is a pc. path.
  bool bare_keys_are_pc = false;
  // Why a refused side cannot be read, for the error ("a referral is selected before ...").
  std::string why_not = "";
};

class Condition {
 public:
  struct Node;
  Condition();  // always true (nothing to check)
  explicit Condition(std::shared_ptr<const Node> root);

  // Never throws on any JSON.
  bool evaluate(const ConditionInput& input) const;
  // The first instant after input.now at which an older_than / newer_than leaf changes for these
  // same records, so a rule can be held until then; nullopt when none will. Until that instant the
  // condition keeps its value unless a record changes.
  std::optional<TimePoint> next_time_change(const ConditionInput& input) const;
  // One line for people: "pc.status in [New, Active] and pc.details.dealValue >= 50000".
  std::string describe() const;
  bool always_true() const;
  // The paths its leaves read on one side (crm. paths without the prefix), e.g. to pull them.
  std::vector<std::string> paths(bool crm) const;

 private:
  std::shared_ptr<const Node> root_;
};

// Compiles a condition map; errors name file, line and key (unknown operator, a value of the
// wrong type, a bad duration or date, an unknown path, a side the scope does not allow).
Condition load_condition(const YamlNode& node, const ConditionScope& scope);

}  // namespace cosync::mapping
