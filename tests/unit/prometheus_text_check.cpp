#include "tests/unit/prometheus_text_check.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace cosync::testing {
namespace {

bool name_char(char c, bool first, bool colon) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (colon && c == ':') ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

// Reads a name at `pos`; empty when there is none.
std::string read_name(const std::string& line, size_t& pos, bool colon) {
  size_t start = pos;
  while (pos < line.size() && name_char(line[pos], pos == start, colon)) ++pos;
  return line.substr(start, pos - start);
}

bool parse_value(const std::string& text, double& value) {
  if (text == "+Inf" || text == "Inf") value = HUGE_VAL;
  else if (text == "-Inf") value = -HUGE_VAL;
  else if (text == "NaN") value = NAN;
  else {
    if (text.empty()) return false;
    char* end = nullptr;
    value = std::strtod(text.c_str(), &end);
    return end == text.c_str() + text.size() && std::isfinite(value);
  }
  return true;
}

// Parses `name{a="b",...} value [timestamp]`; an error message or "".
std::string parse_sample(const std::string& line, PromSample& s) {
  size_t pos = 0;
  s.name = read_name(line, pos, true);
  if (s.name.empty()) return "no metric name";
  if (pos < line.size() && line[pos] == '{') {
    ++pos;
    while (pos < line.size() && line[pos] != '}') {
      std::string label = read_name(line, pos, false);
      if (label.empty() || line.compare(pos, 2, "=\"") != 0) return "bad label name";
      pos += 2;
      std::string value;
      for (; pos < line.size() && line[pos] != '"'; ++pos) {
        if (line[pos] != '\\') {
          value += line[pos];
          continue;
        }
        char e = ++pos < line.size() ? line[pos] : '\0';
        if (e != '\\' && e != '"' && e != 'n') return "bad escape in a label value";
        value += e == 'n' ? '\n' : e;
      }
      if (pos >= line.size()) return "unterminated label value";
      ++pos;
      if (!s.labels.emplace(label, value).second) return "label " + label + " twice";
      if (pos < line.size() && line[pos] == ',') ++pos;
      else if (pos < line.size() && line[pos] != '}') return "expected , or }";
    }
    if (pos >= line.size()) return "unterminated label set";
    ++pos;
  }
  if (pos >= line.size() || line[pos] != ' ') return "expected a space before the value";
  std::istringstream rest(line.substr(pos + 1));
  std::string value, timestamp, extra;
  rest >> value >> timestamp >> extra;
  if (!parse_value(value, s.value)) return "bad value '" + value + "'";
  if (!timestamp.empty() && timestamp.find_first_not_of("-0123456789") != std::string::npos) return "bad timestamp";
  if (!extra.empty()) return "text after the value";
  return "";
}

// The family a sample belongs to, given the declared types.
std::string family_of(const std::string& name, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string s = suffix;
    if (name.size() > s.size() && name.ends_with(s)) {
      auto base = name.substr(0, name.size() - s.size());
      auto it = types.find(base);
      if (it != types.end() && (it->second == "histogram" || it->second == "summary")) return base;
    }
  }
  return name;
}

void check_histograms(const std::vector<PromSample>& samples, const std::map<std::string, std::string>& types,
                      std::vector<std::string>& errors) {
  for (const auto& [family, type] : types) {
    if (type != "histogram") continue;
    std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;  // by series
    std::map<std::map<std::string, std::string>, double> counts;
    for (const auto& s : samples) {
      auto labels = s.labels;
      if (s.name == family + "_bucket") {
        double le = 0;
        if (!labels.contains("le") || !parse_value(labels["le"], le)) {
          errors.push_back(family + "_bucket without a valid le label");
          continue;
        }
        labels.erase("le");
        buckets[labels].emplace_back(le, s.value);
      } else if (s.name == family + "_count") {
        counts[labels] = s.value;
      }
    }
    for (const auto& [labels, list] : buckets) {
      for (size_t i = 1; i < list.size(); ++i)
        if (list[i].first <= list[i - 1].first || list[i].second < list[i - 1].second)
          errors.push_back(family + ": buckets not in increasing le order or not cumulative");
      if (list.empty() || !std::isinf(list.back().first)) errors.push_back(family + ": no +Inf bucket");
      else if (!counts.contains(labels) || counts.at(labels) != list.back().second)
        errors.push_back(family + ": the +Inf bucket differs from _count");
    }
  }
}

}  // namespace

std::vector<std::string> check_prometheus_text(const std::string& text, std::vector<PromSample>* out) {
  std::vector<std::string> errors;
  if (text.empty() || text.back() != '\n') errors.push_back("the text does not end with a newline");
  std::map<std::string, std::string> types;
  std::set<std::string> helps, finished_families, series;
  std::string current;
  std::vector<PromSample> samples;
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    auto fail = [&](const std::string& why) { errors.push_back("line " + std::to_string(n) + ": " + why + ": " + line); };
    if (line.empty()) continue;
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      size_t pos = 7;
      std::string name = read_name(line, pos, true);
      if (name.empty() || pos >= line.size() || line[pos] != ' ') {
        fail("bad metric name");
        continue;
      }
      std::string rest = line.substr(pos + 1);
      if (line[2] == 'H' && !helps.insert(name).second) fail("second HELP");
      if (line[2] == 'T') {
        static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary", "untyped"};
        if (!kTypes.contains(rest)) fail("unknown type");
        if (types.contains(name)) fail("second TYPE");
        if (finished_families.contains(name) || current == name) fail("TYPE after the family's samples");
        types[name] = rest;
      }
      continue;
    }
    if (line[0] == '#') continue;
    PromSample s;
    if (auto why = parse_sample(line, s); !why.empty()) {
      fail(why);
      continue;
    }
    std::string family = family_of(s.name, types);
    if (!types.contains(family)) fail("sample without a # TYPE for " + family);
    if (family != current) {
      if (finished_families.contains(family)) fail("samples of " + family + " are not together");
      if (!current.empty()) finished_families.insert(current);
      current = family;
    }
    std::string key = s.name;
    for (const auto& [k, v] : s.labels) key += "|" + k + "=" + v;
    if (!series.insert(key).second) fail("duplicate series");
    samples.push_back(std::move(s));
  }
  check_histograms(samples, types, errors);
  if (out) *out = std::move(samples);
  return errors;
}

double prom_value(const std::vector<PromSample>& samples, const std::string& name,
                  const std::map<std::string, std::string>& labels) {
  for (const auto& s : samples)
    if (s.name == name && s.labels == labels) return s.value;
  return NAN;
}

}  // namespace cosync::testing
