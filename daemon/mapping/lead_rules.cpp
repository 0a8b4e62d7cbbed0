#include "daemon/mapping/lead_rules.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>

#include "connectors/activity_count.hpp"
#include "connectors/partner_center/referral_contract.hpp"
#include "daemon/mapping/mapping.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/yaml_reader.hpp"

namespace cosync::mapping {
namespace {

// Sent as the referral's statusReason: one short line, like close_reason.
constexpr std::size_t kMaxReason = 250;

bool is_open_incoming_lead(const nlohmann::json& referral) {
  return remote_json::string_or(referral, connectors::kDirectionField) == "incoming" &&
         remote_json::string_or(referral, "status") == "New" && !connectors::is_terminal_referral(referral);
}

std::string reason_text(const YamlNode& node) {
  std::string reason = node.as_string();
  if (reason.empty()) node.fail("must not be empty");
  if (reason.size() > kMaxReason)
    node.fail("must be at most " + std::to_string(kMaxReason) + " bytes, got " + std::to_string(reason.size()));
  for (unsigned char c : reason)
    if (c < 0x20 || c == 0x7f) node.fail("must be one line of text without control characters");
  return reason;
}

Condition when_of(const YamlNode& block) {
  const ConditionScope scope{true, true, false, ""};
  return load_condition(block.get("when"), scope);
}

void read_accept(const YamlNode& node, LeadRules& rules) {
  rules.accept_line = node.line();
  if (node.is_map()) {
    node.allow_only({"when"});
    rules.accept = AcceptMode::when;
    rules.accept_when = when_of(node);
    return;
  }
  std::string mode = node.as_string();
  if (mode == "manual") rules.accept = AcceptMode::manual;
  else if (mode == "auto") rules.accept = AcceptMode::automatic;
  else node.fail("expected manual, auto or {when: ...}, got '" + mode + "'");
}

void read_decline(const YamlNode& node, LeadRules& rules) {
  rules.decline_line = node.line();
  node.expect_map().allow_only({"when", "reason"});
  rules.decline_when = when_of(node);
  rules.decline_reason = reason_text(node.get("reason"));
}

// The policy's outcome reaches the CRM through the mapped status field: a value map without an
// entry for it would leave the CRM record saying New while the referral moved on.
void check_status_carries(const Mapping& m, const YamlNode& node, const nlohmann::json& status) {
  for (const auto& f : m.fields) {
    if (f.pc_paths.empty() || f.pc_paths[0] != "status") continue;
    nlohmann::json canonical = f.pc_paths.size() == 1 ? status[0] : status;
    if (f.flows_to_crm() && m.crm_changes(f, canonical).empty())
      node.fail("the status field '" + f.name + "' has no value-map entry that writes " + canonical.dump() +
                " to the CRM; add one (e.g. { pc: " + canonical.dump() + ", crm: ... })");
  }
}

}  // namespace

std::vector<std::string> LeadRules::crm_fields() const {
  std::vector<std::string> out = accept_when.paths(true);
  if (decline_when)
    for (auto& p : decline_when->paths(true)) out.push_back(std::move(p));
  if (stale && !stale->touch_field.empty()) out.push_back(stale->touch_field);
  // Not a field: the connector counts the activities into it (connectors/activity_count.hpp).
  if (stale && stale->progress == StaleRules::Progress::activities) out.push_back(connectors::kCompletedActivitiesField);
  // A related record's field (Account.Name) is not on the record itself: not pulled.
  std::erase_if(out, [](const std::string& p) { return p.find('.') != std::string::npos; });
  return out;
}

LeadDecision decide_lead(const LeadRules& rules, const nlohmann::json& referral, const nlohmann::json* crm,
                         TimePoint pc_now) {
  if (!rules.decides() || !is_open_incoming_lead(referral)) return {};
  const ConditionInput input{&referral, crm, pc_now};
  if (rules.decline_when && rules.decline_when->evaluate(input))
    return {LeadDecision::Kind::decline, "decline policy (" + rules.decline_when->describe() + "): " + rules.decline_reason,
            {{"status", "Closed"}, {"substatus", "Declined"}, {"statusReason", rules.decline_reason}}};
  bool accept = rules.accept == AcceptMode::automatic ||
                (rules.accept == AcceptMode::when && rules.accept_when.evaluate(input));
  if (!accept) return {};
  std::string why = rules.accept == AcceptMode::automatic ? "accept: auto" : "accept policy (" + rules.accept_when.describe() + ")";
  return {LeadDecision::Kind::accept, why, {{"status", "Active"}, {"substatus", "Accepted"}}};
}

// Partner Center expires an unanswered lead after 14 days: a warning earlier than that is never due.
void read_expiry(const YamlNode& node, LeadRules& rules) {
  node.expect_map().allow_only({"warn_before"});
  for (const auto& item : node.get("warn_before").items())
    rules.expiry_warnings.push_back(item.as_seconds(std::chrono::minutes(1), std::chrono::hours(14 * 24)));
  if (rules.expiry_warnings.empty()) node.get("warn_before").fail("must list at least one lead time (e.g. [7d, 2d, 1d])");
  std::sort(rules.expiry_warnings.rbegin(), rules.expiry_warnings.rend());
  auto twice = std::adjacent_find(rules.expiry_warnings.begin(), rules.expiry_warnings.end());
  if (twice != rules.expiry_warnings.end()) node.get("warn_before").fail("lists the same lead time twice");
}

int touches_of(const StaleRules& stale, const nlohmann::json& crm) {
  if (stale.progress != StaleRules::Progress::field) return 0;
  // A counter the CRM keeps as a number, or (Salesforce formula, text field) as its digits.
  if (auto n = remote_json::opt_number(crm, stale.touch_field)) return *n > 0 ? static_cast<int>(*n) : 0;
  auto text = remote_json::string_or(crm, stale.touch_field);
  int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  return ec == std::errc() && end == text.data() + text.size() && n > 0 ? n : 0;
}

// Partner Center's lead guidance speaks of 6-8 weeks: a day to a year covers every sane choice.
void read_stale(const YamlNode& node, LeadRules& rules) {
  using std::chrono::hours;
  node.expect_map().allow_only({"after", "touches", "reason", "warn_before", "progress"});
  StaleRules s;
  s.line = node.line();
  s.after = node.get("after").as_seconds(hours(24), hours(24 * 366));
  s.warn_before = hours(24 * 7);
  if (auto warn = node.find("warn_before")) s.warn_before = warn->as_seconds(hours(1), hours(24 * 366));
  if (s.warn_before >= s.after) node.get("warn_before").fail("must be shorter than `after`");
  s.reason = reason_text(node.get("reason"));
  std::string progress = "status";
  if (auto p = node.find("progress")) {
    progress = p->as_string();
    s.progress_line = p->line();
  }
  if (progress == "activities") {
    s.progress = StaleRules::Progress::activities;  // counted by a connector that can (cli/config.cpp)
  } else if (progress.starts_with("field:") && progress.size() > 6) {
    s.progress = StaleRules::Progress::field;
    s.touch_field = progress.substr(6);
  } else if (progress != "status") {
    node.get("progress").fail("expected status, activities or field:<the CRM touch counter field>, got '" + progress + "'");
  }
  auto touches = node.find("touches");
  if (touches && s.progress == StaleRules::Progress::status)
    touches->fail("counts touches, which `progress: status` does not: use progress: field:<counter> or activities");
  if (s.progress != StaleRules::Progress::status) s.touches = touches ? static_cast<int>(touches->as_int(1, 1000)) : 3;
  rules.stale = std::move(s);
}

std::optional<std::pair<std::string, std::string>> Assignment::owner_for(const nlohmann::json& referral,
                                                                        TimePoint now) const {
  const ConditionInput input{&referral, nullptr, now};
  for (const auto& r : rules)
    if (!r.when || r.when->evaluate(input))
      return std::make_pair(r.owner, r.when ? "assign (" + r.when->describe() + ")" : std::string("assign (default)"));
  return std::nullopt;
}

// A lead is routed when it is created: its CRM record does not exist yet, so only pc. paths.
void read_assign(const YamlNode& node, LeadRules& rules) {
  node.expect_map().allow_only({"field", "rules"});
  Assignment a;
  a.field = node.get("field").as_string();
  if (a.field.empty()) node.get("field").fail("must name the CRM owner field (OwnerId, ownerid@odata.bind)");
  const ConditionScope scope{true, false, false, "a lead is assigned when its CRM record is created"};
  for (const auto& item : node.get("rules").items()) {
    item.expect_map().allow_only({"when", "owner"});
    AssignRule r;
    r.line = item.line();
    if (item.find("when")) r.when = load_condition(item.get("when"), scope);
    r.owner = item.get("owner").as_string();
    if (r.owner.empty()) item.get("owner").fail("must not be empty");
    a.rules.push_back(std::move(r));
  }
  if (a.rules.empty()) node.get("rules").fail("must list at least one {when: ..., owner: ...}");
  rules.assign = std::move(a);
}

// A Salesforce Campaign id: 15 or 18 letters and digits with the Campaign key prefix 701.
// (Dynamics 365 puts a lead in a campaign with `create: campaignid@odata.bind: /campaigns(<guid>)`.)
std::string read_campaign(const YamlNode& node, const Mapping& m) {
  std::string id = node.as_string();
  const bool alnum = std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c) != 0; });
  if ((id.size() != 15 && id.size() != 18) || !alnum || !id.starts_with("701"))
    node.fail("must be a Salesforce Campaign id (701..., 15 or 18 characters); for Dynamics 365 use "
              "create: campaignid@odata.bind: /campaigns(<guid>)");
  if (m.crm_object != "Lead") node.fail("only a Lead joins a campaign (this mapping creates " + m.crm_object + ")");
  return id;
}

void load_lead_rules(const YamlNode& root, Mapping& m) {
  auto accept = root.find("accept");
  auto decline = root.find("decline");
  auto expiry = root.find("expiry");
  auto stale = root.find("stale");
  auto assign = root.find("assign");
  auto campaign = root.find("campaign");
  if (!accept && !decline && !expiry && !stale && !assign && !campaign) return;
  auto rules = std::make_shared<LeadRules>();
  if (campaign) rules->campaign = read_campaign(*campaign, m);
  if (assign) {
    read_assign(*assign, *rules);
    if (m.create_templates.contains(rules->assign->field))
      assign->get("field").fail("the create template sets " + rules->assign->field + " too: keep one");
  }
  if (expiry) read_expiry(*expiry, *rules);
  if (stale) {
    read_stale(*stale, *rules);
    check_status_carries(m, *stale, {"Closed", "Lost"});
  }
  if (accept) {
    read_accept(*accept, *rules);
    if (rules->accept != AcceptMode::manual) check_status_carries(m, *accept, {"Active", "Accepted"});
  }
  if (decline) {
    read_decline(*decline, *rules);
    check_status_carries(m, *decline, {"Closed", "Declined"});
  }
  m.leads = std::move(rules);
}

}  // namespace cosync::mapping
