#pragma once
// The completed activities of a Salesforce record, counted for the stale-lead watch
// (`stale: {progress: activities}`, connectors/activity_count.hpp). The pull and the reads by id
// ask for them with parent-to-child relationship subqueries in the record's own SOQL ("Using
// Relationship Queries": for a standard object the relationship is the child's plural name,
// https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_relationships_query_using.htm):
// the Lead's closed Tasks and its Events that have ended.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cosync::connectors {

// The select-list items that stand for kCompletedActivitiesField.
const std::vector<std::string>& completed_activity_subqueries();

// Replaces the subqueries' answers in a record's fields (each {"totalSize": n, "records": [...]},
// or null without a row) by their count under kCompletedActivitiesField. A record read without
// them is left as it is.
void count_completed_activities(nlohmann::json& fields);

}  // namespace cosync::connectors
