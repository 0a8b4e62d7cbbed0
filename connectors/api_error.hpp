#pragma once
// Turns an HTTP error response into a Failure: the kind from the status code, the message from
// the API's own error body (Partner Center / Dataverse {"error":{...}}, Salesforce [{...}]).
#include <string>

#include "daemon/http/http_client.hpp"
#include "daemon/util/expected.hpp"

namespace cosync::connectors {

FailureKind classify_status(int status);
// `what` names the call ("PATCH referral 123"); `request_id_header` the API's request id header.
Failure api_failure(const http::Response& response, const std::string& what, const std::string& request_id_header);

}  // namespace cosync::connectors
