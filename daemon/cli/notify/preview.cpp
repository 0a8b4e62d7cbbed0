#include "daemon/cli/notify/preview.hpp"

#include "daemon/cli/notify/message.hpp"
#include "daemon/util/remote_json.hpp"

namespace cosync::notify {

bool wants(const NotificationRule& rule, const std::string& event, const nlohmann::json& payload, TimePoint now) {
  if (rule.on != event) return false;
  const auto& crm = remote_json::member(payload, "crm");
  mapping::ConditionInput in{&remote_json::member(payload, "pc"), crm.empty() ? nullptr : &crm, now};
  return rule.when.evaluate(in);
}

std::vector<Preview> preview(const NotificationConfig& config, const nlohmann::json& payload, TimePoint now) {
  std::vector<Preview> out;
  std::string event = remote_json::string_or(payload, "event");
  for (const auto& r : config.rules) {
    if (!wants(r, event, payload, now)) continue;
    auto sink = config.sinks.find(r.sink);
    bool mail = sink != config.sinks.end() && (sink->second.type == SinkType::smtp || sink->second.type == SinkType::graph);
    Delivery d;
    d.rule = r.name;
    d.message_id = "<preview@cosync>";
    d.event.payload = payload;
    auto m = compose(r, d, mail);
    Preview p{r.name, r.sink, {}, {}, render(r.subject, payload), ""};
    if (m) {
      p.to = m->to;
      p.cc = m->cc;
      p.subject = m->subject;
    } else {
      p.problem = m.failure().message;
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace cosync::notify
