#include "tests/fakes/fake_registrations.hpp"

#include <algorithm>

#include "daemon/util/time.hpp"
#include "tests/fakes/random_ids.hpp"

namespace cosync::fakes {

using nlohmann::json;

namespace {

bool adds(const std::vector<std::string>& paths) {
  return std::find(paths.begin(), paths.end(), "/registrations/-") != paths.end();
}

bool edits(const std::vector<std::string>& paths) {
  return std::any_of(paths.begin(), paths.end(), [](const std::string& p) { return p.starts_with("/registrations/0/"); });
}

const json& first_registration(const json& referral) {
  static const json none;
  auto it = referral.find("registrations");
  return it != referral.end() && it->is_array() && !it->empty() ? (*it)[0] : none;
}

// The statusHistory stamp of a review status (the contract has no rejectedDateTime: failed).
std::string history_key(const std::string& status) {
  if (status == "Rejected") return "failedDateTime";
  std::string key = status;
  if (!key.empty()) key[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(key[0])));
  return key + "DateTime";
}

}  // namespace

std::string registration_write_error(const json& before, const std::vector<std::string>& paths) {
  const json& existing = first_registration(before);
  // The update paths all address registrations/0: a referral carries one registration.
  if (adds(paths) && !existing.is_null()) return "The referral already has a deal registration";
  if (edits(paths) && existing.is_object()) {
    std::string status = existing.value("status", "");
    if (status != "ReviewPending" && status != "ActionRequired")
      return "The deal registration is " + status + " and can no longer be changed";
  }
  return {};
}

void start_registration_review(json& referral, const std::vector<std::string>& paths, TimePoint now) {
  if (!adds(paths) || !referral["registrations"].is_array() || referral["registrations"].empty()) return;
  json& r = referral["registrations"].back();
  r["id"] = random_hex(8) + "-" + random_hex(4) + "-" + random_hex(4) + "-" + random_hex(4) + "-" + random_hex(12);
  r["registrationDateTime"] = format_iso8601(now);
  move_registration_review(referral, "ReviewPending", "", now);
}

bool move_registration_review(json& referral, const std::string& status, const std::string& reason, TimePoint now) {
  if (first_registration(referral).is_null()) return false;
  json& r = referral["registrations"][0];
  r["status"] = status;
  if (reason.empty()) r.erase("statusReason");
  else r["statusReason"] = reason;
  r["statusHistory"][history_key(status)] = format_iso8601(now);
  referral["registrationStatus"] = status;
  return true;
}

}  // namespace cosync::fakes
