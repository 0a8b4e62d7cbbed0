#pragma once
// The one output writer of the reports and listings (`cosyncd report`, `notifications list`):
// a table of named columns printed as aligned text, RFC 4180 CSV or a JSON array of objects.
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cosync::app {

enum class ReportFormat { table, csv, json };
// "table", "csv" or "json"; nullopt for anything else.
std::optional<ReportFormat> parse_report_format(const std::string& text);

struct ReportTable {
  std::vector<std::string> columns;             // header names, also the JSON keys
  std::vector<std::vector<nlohmann::json>> rows;  // one value per column (text, number, null)
};

void write_report(std::ostream& out, const ReportTable& table, ReportFormat format);

// A CSV field, quoted when it holds a comma, a quote, CR or LF (RFC 4180 section 2).
std::string csv_field(const std::string& text);

}  // namespace cosync::app
