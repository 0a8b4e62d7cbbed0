#pragma once
// The subset of SOQL the fake Salesforce understands:
//   SELECT f1, f2, (SELECT f FROM Children [WHERE cond]) FROM Obj [WHERE cond] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]
// where cond combines `Field op literal` (op: = != < <= > >=), `Field LIKE 'pattern'` (% and _,
// case-insensitive) and `Field [NOT] IN (literals)` with
// AND, OR, NOT and parentheses. Literals: 'strings' (backslash escapes), null, true/false, numbers,
// dates (2024-05-01), TODAY and unquoted datetimes (2024-05-01T10:20:30.000Z, ...+00:00), compared as times.
// Keywords are case-insensitive; field names are kept as written (the caller resolves them).
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/util/clock.hpp"

namespace cosync::fakes {

struct SoqlLiteral {
  // today: the date literal TODAY, a datetime once soql_resolve_today gives it the fake's clock.
  enum class Kind { string, number, boolean, null, date, datetime, today };
  Kind kind = Kind::null;
  nlohmann::json value;          // the literal as JSON (datetimes and dates as their text)
  std::optional<TimePoint> time;  // datetimes only
};

struct SoqlExpr {
  enum class Kind { compare, in, not_in, all_of, any_of, negate };
  Kind kind = Kind::compare;
  std::string field;                  // compare, in, not_in
  std::string op;                     // compare: = != < <= > >= LIKE
  std::vector<SoqlLiteral> values;    // compare: one; in/not_in: the list
  std::vector<SoqlExpr> children;     // all_of, any_of, negate
};

struct SoqlOrder {
  std::string field;
  bool descending = false;
  std::optional<bool> nulls_first;  // default: first when ascending, last when descending
};

// A parent-to-child relationship subquery of the select list: (SELECT Id FROM Tasks WHERE ...).
struct SoqlChildQuery {
  std::string relationship;
  std::vector<std::string> fields;
  std::optional<SoqlExpr> where;
};

struct SoqlQuery {
  std::vector<std::string> fields;
  std::vector<SoqlChildQuery> children;
  std::string object;
  std::optional<SoqlExpr> where;
  std::vector<SoqlOrder> order_by;
  std::optional<long> limit;
  std::optional<long> offset;

  // Every field name the query mentions, for the caller to check or rewrite in place.
  std::vector<std::string*> field_refs();
};

// The parsed query, or an error message for a MALFORMED_QUERY reply.
std::variant<SoqlQuery, std::string> parse_soql(std::string_view text);

// Gives each TODAY of the condition the time `midnight` (the start of the fake's UTC day).
void soql_resolve_today(SoqlExpr& expr, TimePoint midnight);
// Whether `record` (field -> JSON value) satisfies the condition.
bool soql_matches(const SoqlExpr& expr, const nlohmann::json& record);
// Orders two records by the ORDER BY list: true when `a` comes before `b`.
bool soql_before(const std::vector<SoqlOrder>& order, const nlohmann::json& a, const nlohmann::json& b);

}  // namespace cosync::fakes
