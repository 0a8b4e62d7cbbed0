// Field transforms (date, number, truncate), text cut to the CRM field's length and one-way
// value-map entries (issue 11, part 4): what each side reads and what is written to it.
#include <catch2/catch.hpp>

#include "daemon/mapping/field_transform.hpp"
#include "daemon/mapping/mapping.hpp"
#include "tests/unit/mapping_file.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

// The shared Lead mapping head (lines 1-5), `fields:` on line 6, then the fields under test.
struct MappingFile : testing::MappingFile {
  static std::string with_head(const std::string& fields) { return testing::kHead + "fields:\n" + fields; }
  mapping::Mapping load(const std::string& fields) { return testing::MappingFile::load(with_head(fields)); }
  std::string error_of(const std::string& fields) { return testing::MappingFile::error_of(with_head(fields)); }
};

}  // namespace

TEST_CASE("field transforms: dates, numbers and text in their canonical form") {
  CHECK(mapping::date_of("2026-12-31") == "2026-12-31");
  CHECK(mapping::date_of("2026-12-31T00:00:00Z") == "2026-12-31");
  CHECK(mapping::date_of("2026-12-31T23:59:59.9999999-08:00") == "2026-12-31");
  CHECK(mapping::date_of("2024-02-29") == "2024-02-29");
  for (json bad : {json("2025-02-29"), json("2026-13-01"), json("31/12/2026"), json("2026-12-31 00:00"),
                   json("2026-12-31T"), json(""), json(20261231), json(true), json::object()})
    CHECK(mapping::date_of(bad) == json(nullptr));

  CHECK(mapping::number_of(120000) == 120000);
  CHECK(mapping::number_of(120000.0).is_number_integer());
  CHECK(mapping::number_of("120000") == 120000);
  CHECK(mapping::number_of("-1.5e3") == -1500);
  CHECK(mapping::number_of(0.25) == 0.25);
  for (json bad : {json("nan"), json("inf"), json("0x10"), json(" 1"), json("1 "), json("12a"), json(""), json(true),
                   json("1e999")})
    CHECK(mapping::number_of(bad) == json(nullptr));

  CHECK(mapping::cut_text("abcdef", 3) == "abc");
  CHECK(mapping::cut_text("abc", 3) == "abc");
  CHECK(mapping::cut_text("h\xC3\xA9llo", 2) == "h\xC3\xA9");          // é is one character
  CHECK(mapping::cut_text("a\xF0\x9F\x98\x80" "b", 2) == "a");          // an emoji counts two, never split
  CHECK(mapping::text_length("a\xF0\x9F\x98\x80" "b") == 4);
}

TEST_CASE("field transforms: a mapping field reads and writes through its transform") {
  MappingFile f;
  auto m = f.load("  - { name: closing, pc: details.closingDateTime, crm: CloseDate, transform: date }\n"
                  "  - { name: value, pc: details.dealValue, crm: Amount, transform: number }\n"
                  "  - { name: notes, pc: details.notes, crm: Description, transform: truncate, length: 4 }\n"
                  "  - { name: title, pc: customerProfile.name, crm: Company, direction: to_crm }\n");
  const auto& closing = m.fields[0];
  const auto& value = m.fields[1];
  const auto& notes = m.fields[2];
  const auto& title = m.fields[3];
  json referral = {{"details", {{"closingDateTime", "2026-12-31T00:00:00.000Z"}, {"dealValue", "5"}, {"notes", "abcdef"}}},
                   {"customerProfile", {{"name", std::string(300, 'c')}}}};
  CHECK(m.canonical_from_pc(closing, referral) == json("2026-12-31"));
  CHECK(m.canonical_from_crm(closing, {{"CloseDate", "2027-01-02"}}) == json("2027-01-02"));
  CHECK(m.pc_changes(closing, "2027-01-02")[0].value == "2027-01-02T00:00:00Z");
  CHECK(m.crm_changes(closing, "2027-01-02")[0].value == "2027-01-02");
  CHECK(m.pc_changes(closing, nullptr)[0].value == json(nullptr));

  CHECK(m.canonical_from_pc(value, referral) == json(5));
  CHECK(m.canonical_from_crm(value, {{"Amount", 5.0}}) == json(5));

  CHECK(m.canonical_from_pc(notes, referral) == json("abcdef"));  // read whole, cut on write
  CHECK(m.crm_changes(notes, "abcdef")[0].value == "abcd");
  CHECK(m.pc_changes(notes, "abcdef")[0].value == "abcd");
  notes.crm_max_length = 2;  // the org's field is shorter still
  CHECK(m.crm_changes(notes, "abcdef")[0].value == "ab");
  CHECK(m.pc_changes(notes, "abcdef")[0].value == "abcd");

  // By default, with no transform: text sent to the CRM is cut to the field's length in the org.
  CHECK(m.crm_changes(title, std::string(300, 'c'))[0].value == std::string(300, 'c'));
  title.crm_max_length = 255;
  CHECK(m.crm_changes(title, std::string(300, 'c'))[0].value == std::string(255, 'c'));
  CHECK(m.crm_fields_for_create(referral).size() == 4);
  for (const auto& c : m.crm_fields_for_create(referral))
    if (c.path == "Company") CHECK(c.value == std::string(255, 'c'));
  CHECK(m.crm_changes(title, 42)[0].value == 42);  // only text is cut
}

TEST_CASE("value maps: a one-way entry is used only in its direction") {
  MappingFile f;
  auto m = f.load("  - name: status\n    pc: [status, substatus]\n    crm: Status\n    values:\n"
                  "      - { pc: [New, Pending], crm: Open }\n"
                  "      - { pc: [New, Received], crm: Open, direction: to_crm }\n"
                  "      - { pc: [Active, Accepted], crm: Working }\n"
                  "      - { pc: [Active, Accepted], crm: Qualified, direction: to_pc }\n");
  const auto& status = m.fields[0];
  CHECK(m.crm_changes(status, json{"New", "Received"})[0].value == "Open");
  CHECK(m.canonical_from_crm(status, {{"Status", "Open"}}) == json{"New", "Pending"});
  CHECK(m.canonical_from_pc(status, {{"status", "New"}, {"substatus", "Received"}}) == json{"New", "Received"});
  CHECK(m.crm_changes(status, json{"Active", "Accepted"})[0].value == "Working");
  CHECK(m.canonical_from_crm(status, {{"Status", "Qualified"}}) == json{"Active", "Accepted"});
  CHECK(m.crm_round_trip(status, json{"New", "Received"}) == json{"New", "Pending"});
}

TEST_CASE("mapping refusal: transforms, lengths and one-way entries name file, line and key") {
  MappingFile f;
  const std::string status = "  - name: status\n    pc: [status, substatus]\n    crm: Status\n";
  CHECK_THAT(f.error_of("  - { name: d, pc: details.closingDateTime, crm: CloseDate, transform: day }\n"),
             Catch::StartsWith(f.path + ":7: fields[0].transform: expected date, number or truncate, got 'day'"));
  CHECK_THAT(f.error_of("  - { name: n, pc: details.notes, crm: Description, length: 10 }\n"),
             Catch::StartsWith(f.path + ":7: fields[0].length: is only used with transform: truncate"));
  CHECK_THAT(f.error_of("  - { name: n, pc: details.notes, crm: Description, transform: truncate, length: 0 }\n"),
             Catch::StartsWith(f.path + ":7: fields[0].length:"));
  CHECK_THAT(f.error_of(status + "    transform: number\n    values:\n      - { pc: [New, Pending], crm: Open }\n"),
             Catch::StartsWith(f.path + ":10: fields[0].transform: a field with a values map"));
  CHECK_THAT(f.error_of(status + "    values:\n      - { pc: [New, Pending], crm: Open, direction: sideways }\n"),
             Catch::StartsWith(f.path + ":11: fields[0].values[0].direction: expected both, to_crm or to_pc"));
  // A two-way field: "Open" twice is fine when only one entry flows to Partner Center ...
  CHECK(f.error_of(status + "    values:\n      - { pc: [New, Pending], crm: Open }\n"
                            "      - { pc: [New, Received], crm: Open, direction: to_crm }\n")
            .empty());
  // ... and ambiguous when both do.
  CHECK_THAT(f.error_of(status + "    values:\n      - { pc: [New, Pending], crm: Open }\n"
                                 "      - { pc: [New, Received], crm: Open, direction: to_pc }\n"),
             Catch::StartsWith(f.path + ":12: fields[0].values[1].crm: \"Open\" is mapped twice (also in values[0])"));
  // A CRM value only a to_crm entry writes could never be read back into Partner Center.
  CHECK_THAT(f.error_of(status + "    values:\n      - { pc: [New, Pending], crm: Open, direction: to_crm }\n"),
             Catch::StartsWith(f.path + ":11: fields[0].values[0].crm: \"Open\" has no entry that writes it to "
                                        "Partner Center"));
  CHECK_THAT(f.error_of(status + "    values:\n      - { pc: [New, Pending], crm: Open, direction: to_pc }\n"),
             Catch::StartsWith(f.path + ":11: fields[0].values[0].pc: [\"New\",\"Pending\"] has no entry that writes "
                                        "it to the CRM"));
  CHECK_THAT(f.error_of(status + "    direction: to_crm\n    values:\n"
                                 "      - { pc: [New, Pending], crm: Open, direction: to_pc }\n"),
             Catch::StartsWith(f.path + ":12: fields[0].values[0].direction: the field is direction: to_crm, so an "
                                        "entry to_pc is never used"));
}
