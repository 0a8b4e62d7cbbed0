#include "daemon/cli/notify/notify_config.hpp"

#include <boost/url/parse.hpp>
#include <filesystem>
#include <set>

#include "daemon/mapping/referral_paths.hpp"
#include "daemon/util/yaml_reader.hpp"

namespace cosync::notify {
namespace {

using std::chrono::seconds;

// An absolute https URL (http:// only to loopback: tests and local receivers), no credentials.
std::string https_url(const YamlNode& node, std::initializer_list<std::string_view> schemes = {"https", "http"}) {
  std::string url = node.as_string();
  auto u = boost::urls::parse_absolute_uri(url);
  if (u && u->has_userinfo()) node.fail("credentials in URLs are not supported (use password_file)");
  if (!u || u->encoded_host().empty()) node.fail("expected an absolute URL with a host, got '" + url + "'");
  std::string scheme(u->scheme());
  if (std::find(schemes.begin(), schemes.end(), scheme) == schemes.end())
    node.fail("unsupported URL scheme '" + scheme + "'");
  std::string host(u->encoded_host());
  bool loopback = host == "127.0.0.1" || host == "localhost" || host == "[::1]";
  if ((scheme == "http") && !loopback) node.fail("plain http:// is allowed only to a loopback host; use https://");
  return url;
}

SmtpOptions read_smtp(const YamlNode& node) {
  node.allow_only({"type", "url", "from", "username", "password", "password_file", "ca_file", "timeout",
                   "insecure_plain_to_loopback"});
  SmtpOptions o;
  o.url = https_url(node.get("url"), {"smtp", "smtps"});
  o.from = node.string("from");
  o.username = node.string_or("username", "");
  if (!o.username.empty()) o.password = *node.secret("password");
  if (auto v = node.find("ca_file")) o.ca_file = v->readable_file(FileAccess::plain);
  if (auto v = node.find("timeout")) o.timeout = v->as_seconds(seconds(1), seconds(300));
  if (auto v = node.find("insecure_plain_to_loopback")) {
    o.plain_to_loopback = v->as_bool();
    auto host = std::string(boost::urls::parse_absolute_uri(o.url)->encoded_host());
    if (o.plain_to_loopback && host != "127.0.0.1" && host != "localhost")
      v->fail("only allowed with an smtp:// URL to 127.0.0.1 or localhost");
  }
  return o;
}

GraphOptions read_graph(const YamlNode& node) {
  node.allow_only({"type", "mailbox", "graph_url", "tenant", "token_url", "client_id", "client_secret",
                   "client_secret_file"});
  GraphOptions o;
  o.mailbox = node.string("mailbox");
  if (auto v = node.find("graph_url")) o.graph_url = https_url(*v);
  while (o.graph_url.ends_with("/")) o.graph_url.pop_back();
  std::string tenant = node.string_or("tenant", "");
  if (tenant.empty() && !node.find("token_url")) node.get("tenant");  // fails: one of the two is needed
  o.auth.token_url = node.find("token_url") ? https_url(node.get("token_url"))
                                            : "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/token";
  o.auth.client_id = node.string("client_id");
  o.auth.client_secret = *node.secret("client_secret");
  o.auth.scope = "https://graph.microsoft.com/.default";
  return o;
}

SinkConfig read_sink(const std::string& name, const YamlNode& node) {
  node.expect_map();
  SinkConfig s;
  s.name = name;
  auto type = node.get("type");
  std::string t = type.as_string();
  if (t == "smtp") {
    s.type = SinkType::smtp;
    s.smtp = read_smtp(node);
  } else if (t == "graph") {
    s.type = SinkType::graph;
    s.graph = read_graph(node);
  } else if (t == "webhook") {
    node.allow_only({"type", "url", "format"});
    s.type = SinkType::webhook;
    s.webhook.url = https_url(node.get("url"));
    if (auto f = node.find("format")) {
      s.webhook.format = f->as_string();
      static const std::set<std::string> formats = {"json", "teams", "teams_adaptive", "slack"};
      if (!formats.contains(s.webhook.format))
        f->fail("expected json, teams, teams_adaptive or slack, got '" + s.webhook.format + "'");
    }
  } else if (t == "command") {
    node.allow_only({"type", "command", "timeout"});
    s.type = SinkType::command;
    for (const auto& item : node.get("command").items()) s.command.argv.push_back(item.as_string());
    if (s.command.argv.empty()) node.get("command").fail("expected the program and its arguments");
    if (!std::filesystem::path(s.command.argv[0]).is_absolute())
      node.get("command").fail("the program must be an absolute path, got '" + s.command.argv[0] + "'");
    if (auto v = node.find("timeout")) s.command.timeout = v->as_seconds(seconds(1), seconds(600));
  } else {
    type.fail("expected smtp, graph, webhook or command, got '" + t + "'");
  }
  return s;
}

std::vector<std::string> addresses(const YamlNode& rule, std::string_view key) {
  std::vector<std::string> out;
  auto node = rule.find(key);
  if (!node) return out;
  auto check = [&](const YamlNode& item) {
    std::string a = item.as_string();
    if (auto problem = template_problem(a); !problem.empty()) item.fail(problem);
    out.push_back(a);
  };
  if (node->is_scalar()) check(*node);
  else for (const auto& item : node->items()) check(item);
  return out;
}

// Checks each line's placeholders, naming the template file and line.
void check_placeholders(const YamlNode& node, const std::string& path, const std::string& t) {
  int line = 1;
  for (std::size_t i = 0; i < t.size(); ++line) {
    auto end = t.find('\n', i);
    auto problem = template_problem(t.substr(i, end == std::string::npos ? std::string::npos : end - i));
    if (!problem.empty()) node.fail(path + ":" + std::to_string(line) + ": " + problem);
    i = end == std::string::npos ? t.size() : end + 1;
  }
}

// A template file's text (at most 256 KiB); `path` is where it was found.
std::string template_file(const YamlNode& node, std::string& path) {
  path = node.readable_file(FileAccess::plain, 256 * 1024);
  auto text = read_bounded_file(path, 256 * 1024);
  if (!text) node.fail(text.failure().message);
  return *text;
}

// "Subject: ..." on the first line, then the body after a blank line.
void read_template(const YamlNode& node, NotificationRule& r) {
  std::string path;
  const std::string t = template_file(node, path);
  auto eol = t.find('\n');
  std::string first = t.substr(0, eol);
  if (!first.starts_with("Subject:")) node.fail(path + ":1: expected the first line to be 'Subject: ...'");
  r.subject = first.substr(8);
  r.subject.erase(0, r.subject.find_first_not_of(' ') == std::string::npos ? r.subject.size()
                                                                            : r.subject.find_first_not_of(' '));
  while (!r.subject.empty() && (r.subject.back() == '\r' || r.subject.back() == ' ')) r.subject.pop_back();
  r.body = eol == std::string::npos ? "" : t.substr(eol + 1);
  if (r.body.starts_with("\r\n")) r.body.erase(0, 2);
  else if (r.body.starts_with("\n")) r.body.erase(0, 1);
  check_placeholders(node, path, t);
}

// The HTML alternative: the whole file is the body (the subject is the text template's).
std::string read_html_template(const YamlNode& node) {
  std::string path;
  std::string text = template_file(node, path);
  check_placeholders(node, path, text);
  return text;
}

NotificationRule read_rule(const YamlNode& node, const NotificationConfig& c) {
  node.expect_map().allow_only({"name", "on", "when", "sink", "to", "cc", "template", "html_template"});
  NotificationRule r;
  r.name = node.string("name");
  r.on = node.string("on");
  r.where = node.file() + ":" + std::to_string(node.line());
  if (auto w = node.find("when")) r.when = mapping::load_condition(*w, mapping::ConditionScope{});
  auto sink = node.get("sink");
  r.sink = sink.as_string();
  auto found = c.sinks.find(r.sink);
  if (found == c.sinks.end()) sink.fail("no sink named '" + r.sink + "' under notifications.sinks");
  r.to = addresses(node, "to");
  r.cc = addresses(node, "cc");
  bool mail = found->second.type == SinkType::smtp || found->second.type == SinkType::graph;
  if (mail && r.to.empty()) node.get("to").fail("a mail needs at least one recipient");
  read_template(node.get("template"), r);
  if (auto html = node.find("html_template")) r.html = read_html_template(*html);
  return r;
}

}  // namespace

const NotificationRule* NotificationConfig::rule(const std::string& name) const {
  for (const auto& r : rules)
    if (r.name == name) return &r;
  return nullptr;
}

std::string template_problem(const std::string& text) {
  static const std::set<std::string> roots = {"event",      "reason",     "at",        "mapping", "referral_id",
                                              "crm_id",     "crm_system", "crm_object", "people",  "pc",
                                              "crm",        "message_id"};
  std::size_t i = 0;
  while ((i = text.find('{', i)) != std::string::npos) {
    auto close = text.find('}', i);
    if (close == std::string::npos) return "unclosed '{' at column " + std::to_string(i + 1);
    std::string path = text.substr(i + 1, close - i - 1);
    if (path.ends_with("|date")) path.resize(path.size() - 5);
    std::string root = path.substr(0, path.find('.'));
    if (!roots.contains(root))
      return "{" + path + "}: expected a path under pc., crm., people., or one of event, reason, at, mapping, "
             "referral_id, crm_id, crm_system, crm_object, message_id";
    if (root == "pc" && path.size() > 3 && !mapping::is_known_referral_path(path.substr(3)))
      return "{" + path + "}: not a path of a Partner Center referral";
    i = close + 1;
  }
  return "";
}

NotificationConfig read_notifications(const YamlNode& node) {
  node.expect_map().allow_only(
      {"sinks", "rules", "max_attempts", "retry", "retry_max", "interval", "keep_sent", "keep_events", "health"});
  NotificationConfig c;
  if (auto v = node.find("max_attempts")) c.max_attempts = static_cast<int>(v->as_int(1, 100));
  if (auto v = node.find("retry")) c.retry = v->as_seconds(seconds(1), seconds(86400));
  if (auto v = node.find("retry_max")) c.retry_max = v->as_seconds(seconds(1), seconds(7 * 86400));
  if (auto v = node.find("interval")) c.interval = v->as_seconds(seconds(1), seconds(3600));
  if (auto v = node.find("keep_sent")) c.keep_sent = v->as_seconds(seconds(3600), seconds(3650LL * 86400));
  if (auto v = node.find("keep_events")) c.keep_events = v->as_seconds(seconds(86400), seconds(3650LL * 86400));
  if (auto h = node.find("health")) {
    h->expect_map().allow_only({"quarantine_above", "quarantine_growing_cycles"});
    if (auto v = h->find("quarantine_above")) c.health.quarantine_above = static_cast<std::size_t>(v->as_int(1, 1000000));
    if (auto v = h->find("quarantine_growing_cycles"))
      c.health.quarantine_growing_cycles = static_cast<int>(v->as_int(1, 1000));
  }
  if (auto sinks = node.find("sinks"))
    for (auto& [name, s] : sinks->entries()) c.sinks.emplace(name, read_sink(name, s));
  if (auto rules = node.find("rules"))
    for (const auto& item : rules->items()) {
      auto r = read_rule(item, c);
      if (c.rule(r.name)) item.get("name").fail("two notification rules are named '" + r.name + "'");
      c.rules.push_back(std::move(r));
    }
  return c;
}

}  // namespace cosync::notify
