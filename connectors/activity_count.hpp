#pragma once
// A CRM record read with its completed activities counted (the stale-lead watch's touches,
// `stale: {progress: activities}`): the connector adds the count under this name to the record's
// fields. Salesforce counts closed Tasks and past Events through relationship subqueries;
// Dataverse the completed activities regarding the record.
namespace cosync::connectors {

constexpr const char* kCompletedActivitiesField = "__completed_activities";

}  // namespace cosync::connectors
