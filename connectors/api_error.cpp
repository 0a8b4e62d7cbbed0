#include "connectors/api_error.hpp"

#include "daemon/util/remote_json.hpp"

namespace cosync::connectors {

FailureKind classify_status(int status) {
  if (status == 409 || status == 412) return FailureKind::conflict;
  if (status == 404 || status == 410) return FailureKind::not_found;
  if (status == 401 || status == 403) return FailureKind::auth;
  if (status == 408 || status == 429 || status >= 500) return FailureKind::transient;
  if (status >= 400) return FailureKind::rejected;
  return FailureKind::fatal;
}

namespace {

// The API's own words for the error; every field read as the type it should have (a hostile or
// broken body with numbers, nulls or objects in their place reads as absent, never throws).
std::string error_text(const std::string& body) {
  auto j = remote_json::parse(body);
  std::string code, message;
  if (const auto& e = remote_json::member(j, "error"); e.is_object()) {  // {"error":{code,message,target,innerError}}
    code = remote_json::string_or(e, "code");
    message = remote_json::string_or(e, "message");
    std::string target = remote_json::string_or(e, "target");
    if (!target.empty()) message += " (target " + target + ")";
    std::string inner = remote_json::string_or(remote_json::object_at(e, "innerError"), "message");
    if (!inner.empty() && inner != remote_json::string_or(e, "message")) message += "; " + inner;
  } else if (j.is_array() && !j.empty() && j[0].is_object()) {  // Salesforce [{"errorCode","message"}]
    code = remote_json::string_or(j[0], "errorCode");
    message = remote_json::string_or(j[0], "message");
  } else if (!j.is_discarded()) {
    return "";
  }
  if (code.empty() && message.empty()) return body.substr(0, 200);
  return code.empty() ? message : code + ": " + message;
}

}  // namespace

Failure api_failure(const http::Response& response, const std::string& what, const std::string& request_id_header) {
  Failure f;
  f.kind = classify_status(response.status);
  f.http_status = response.status;
  f.request_id = response.header(request_id_header);
  std::string detail = error_text(response.body);
  f.message = what + " answered " + std::to_string(response.status) + (detail.empty() ? "" : ": " + detail);
  if (response.status == 403)
    f.message += " (check the account's permissions)";
  return f;
}

}  // namespace cosync::connectors
