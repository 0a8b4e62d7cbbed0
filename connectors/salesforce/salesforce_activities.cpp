#include "connectors/salesforce/salesforce_activities.hpp"

#include "connectors/activity_count.hpp"
#include "daemon/util/remote_json.hpp"

namespace cosync::connectors {
namespace {

// A subquery answers each relationship under its name: Tasks, Events.
constexpr const char* kRelationships[] = {"Tasks", "Events"};

}  // namespace

const std::vector<std::string>& completed_activity_subqueries() {
  // A Task is done once closed (IsClosed); an Event once it has ended. Only the ids are read:
  // totalSize counts them, also past the first page of a subquery's records. The pull runs
  // queryAll, which also returns deleted rows: a deleted Task is no touch (IsDeleted = false).
  static const std::vector<std::string> subqueries = {
      "(SELECT Id FROM Tasks WHERE IsClosed = true AND IsDeleted = false)",
      "(SELECT Id FROM Events WHERE EndDateTime < TODAY AND IsDeleted = false)"};
  return subqueries;
}

void count_completed_activities(nlohmann::json& fields) {
  if (!fields.is_object()) return;
  bool counted = false;
  std::int64_t total = 0;
  for (const char* relationship : kRelationships) {
    if (!fields.contains(relationship)) continue;
    counted = true;
    auto n = remote_json::opt_int(fields[relationship], "totalSize").value_or(0);  // null: no row
    if (n > 0) total += n;
    fields.erase(relationship);
  }
  if (counted) fields[kCompletedActivitiesField] = total;
}

}  // namespace cosync::connectors
