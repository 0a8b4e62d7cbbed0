#pragma once
// A strict checker of the Prometheus text exposition format 0.0.4, as the metrics tests use it in
// place of `promtool check metrics` (Debian's prometheus package is 96 MB): metric and label
// names, label escapes, values, one # TYPE per family before its samples, families not
// interleaved, no duplicate series, histogram buckets cumulative with +Inf equal to _count.
#include <map>
#include <set>
#include <string>
#include <vector>

namespace cosync::testing {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// The problems found (empty: valid); `samples` gets every sample.
std::vector<std::string> check_prometheus_text(const std::string& text, std::vector<PromSample>* samples = nullptr);

// The value of the sample `name` with exactly `labels`; NaN when there is none.
double prom_value(const std::vector<PromSample>& samples, const std::string& name,
                  const std::map<std::string, std::string>& labels);

}  // namespace cosync::testing
