#include "connectors/api_error.hpp"

#include <nlohmann/json.hpp>

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

std::string error_text(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  std::string code, message;
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {  // {"error":{code,message,target,innerError}}
    const auto& e = j["error"];
    code = e.value("code", "");
    message = e.value("message", "");
    if (e.contains("target") && e["target"].is_string() && !e["target"].get<std::string>().empty())
      message += " (target " + e["target"].get<std::string>() + ")";
    if (e.contains("innerError") && e["innerError"].is_object()) {
      std::string inner = e["innerError"].value("message", "");
      if (!inner.empty() && inner != e.value("message", "")) message += "; " + inner;
    }
  } else if (j.is_array() && !j.empty() && j[0].is_object()) {  // Salesforce [{"errorCode","message"}]
    code = j[0].value("errorCode", "");
    message = j[0].value("message", "");
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
