// Every byte a Dataverse answer holds is hostile (issue 17 items 1, 2, 3 and 8): wrong JSON types,
// next-page and delta links to other hosts or to themselves, bodies nested deep enough to exhaust
// the stack, broken $batch multipart answers and ids with control characters end as one clear
// failure or one quarantined row, never as a crash, a hang or our token sent elsewhere.
#include <catch2/catch.hpp>

#include "daemon/util/multipart.hpp"
#include "tests/unit/dataverse_fixture.hpp"
#include "tests/unit/failure_checks.hpp"

using namespace cosync;
using cosync::testing::DvFixture;
using nlohmann::json;

namespace {

// A page of the leads set as the service would answer it, with `rows` and any extra members.
std::string page(json rows, json extra = json::object()) {
  json body = {{"@odata.context", "http://x/api/data/v9.2/$metadata#leads"}, {"value", std::move(rows)}};
  body.update(extra);
  return body.dump();
}

json good_row(const std::string& id) {
  return {{"@odata.etag", "W/\"7\""}, {"leadid", id}, {"companyname", "Contoso"}, {"modifiedon", "2026-12-01T10:00:00Z"}};
}

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace

struct DvHostileFixture : DvFixture {
  // Reads the table definition (once per connector), so that the next request is a page.
  DvHostileFixture() {
    REQUIRE(run(dv.pull(spec, "")).ok());
    dv_fake.server().clear_requests();
  }
};

TEST_CASE_METHOD(DvHostileFixture, "dataverse: a row with null, numbers or objects where text is expected is quarantined with its reason, the rest syncs") {
  json rows = json::array({good_row("00000000-0000-0000-0000-000000000001"),
                           {{"@odata.etag", "W/\"7\""}, {"leadid", 42}, {"modifiedon", "2026-12-01T10:00:00Z"}},
                           {{"@odata.etag", nullptr}, {"leadid", "00000000-0000-0000-0000-000000000003"}, {"modifiedon", "2026-12-01T10:00:00Z"}},
                           {{"@odata.etag", "W/\"7\""}, {"leadid", "00000000-0000-0000-0000-000000000004"}, {"modifiedon", {{"a", 1}}}},
                           {{"@odata.context", "x/$deletedEntity"}, {"id", nullptr}},
                           "not a row",
                           {{"@odata.etag", "W/\"7\""}, {"leadid", "00000000-0000-0000-0000-000000000005"},
                            {"modifiedon", "2026-12-01T10:00:00Z"}, {"statuscode", 1e300}, {"companyname", nullptr}}});
  dv_fake.fail_next(1, 200, std::nullopt, page(rows));
  auto pulled = run(dv.pull(spec, ""));
  INFO(testing::describe(pulled));
  REQUIRE(pulled.ok());
  REQUIRE(pulled->records.size() == 2);
  CHECK(pulled->records[0].id == "00000000-0000-0000-0000-000000000001");
  CHECK(pulled->records[1].id == "00000000-0000-0000-0000-000000000005");
  CHECK(pulled->records[1].fields["statuscode"] == 1e300);  // not an option value: passed on as it came
  REQUIRE(pulled->malformed.size() == 5);
  CHECK(pulled->malformed[0].reason == "row without leadid");
  CHECK(pulled->malformed[1].id == "00000000-0000-0000-0000-000000000003");
  CHECK(pulled->malformed[1].reason == "row 00000000-0000-0000-0000-000000000003 has no @odata.etag");
  CHECK(pulled->malformed[2].reason == "row 00000000-0000-0000-0000-000000000004 has no valid modifiedon");
  CHECK(pulled->malformed[3].reason == "$deletedEntity without an id");
  CHECK(pulled->malformed[4].reason == "row is not a JSON object");
}

TEST_CASE_METHOD(DvHostileFixture, "dataverse: a page whose value or nextLink has the wrong type fails the pull, never half-read") {
  for (const auto& body : {page(json::object()), page(json::array(), {{"@odata.nextLink", 7}}), std::string("[1,2]"),
                           std::string("{\"value\":null}")}) {
    testing::check_200_body_fails(dv_fake, body, [&] { return run(dv.pull(spec, "")); },
                                  "GET leads answered 200 with a malformed body");
  }
}

TEST_CASE_METHOD(DvHostileFixture, "dataverse: an error body whose code or message is a number or null is a plain failure") {
  for (const auto& body : {R"({"error":{"code":5,"message":null}})", R"({"error":{"code":null,"message":{"x":1}}})",
                           R"({"error":7})", R"(["error"])"}) {
    dv_fake.fail_next(1, 400, std::nullopt, body);
    auto got = run(dv.get(spec, "00000000-0000-0000-0000-000000000001"));
    INFO(body);
    REQUIRE_FALSE(got.ok());
    CHECK(got.failure().kind == FailureKind::rejected);
    CHECK_THAT(got.failure().message, Catch::StartsWith("GET leads(00000000-0000-0000-0000-000000000001) answered 400"));
  }
}

TEST_CASE_METHOD(DvHostileFixture, "dataverse: a nextLink to another host is not followed and the bearer token stays home") {
  fakes::HttpTestServer elsewhere([](const fakes::FakeRequest&) { return fakes::FakeResponse::json(200, json{{"value", json::array()}}); });
  dv_fake.fail_next(1, 200, std::nullopt,
                    page(json::array({good_row("00000000-0000-0000-0000-000000000001")}),
                         {{"@odata.nextLink", elsewhere.base_url() + "/api/data/v9.2/leads?$skiptoken=2"}}));
  auto pulled = run(dv.pull(spec, ""));
  REQUIRE_FALSE(pulled.ok());
  CHECK(pulled.failure().kind == FailureKind::fatal);
  CHECK_THAT(pulled.failure().message, Catch::StartsWith("GET leads: the next-page link points to another host"));
  CHECK(elsewhere.requests().empty());
  CHECK(dv_fake.server().requests().size() == 1);

  SECTION("nor a delta link") {
    dv_fake.fail_next(1, 200, std::nullopt,
                      page(json::array(), {{"@odata.deltaLink", elsewhere.base_url() + "/api/data/v9.2/leads?$deltatoken=1"}}));
    auto delta = run(dv.pull(spec, ""));
    testing::check_fails_with(delta, "the delta link is not followed");
    CHECK_THAT(delta.failure().message, Catch::Contains("another host"));
  }
  SECTION("a stored delta link of another org is never followed: a full sync of this org instead") {
    add_lead("ref-1");
    auto full = run(dv.pull(spec, elsewhere.base_url() + "/api/data/v9.2/leads?$deltatoken=1"));
    INFO(testing::describe(full));
    REQUIRE(full.ok());
    CHECK(full->records.size() == 1);
    CHECK_THAT(full->cursor, Catch::StartsWith(dv_fake.base_url()));
    CHECK(elsewhere.requests().empty());
    CHECK_THAT(*captured.text, Catch::Contains("the stored delta link of leads is not on"));
  }
}

TEST_CASE_METHOD(DvHostileFixture, "dataverse: a page that links to itself stops the pull with one error") {
  const std::string loop = dv_fake.base_url() + "/api/data/v9.2/leads?$skiptoken=loop";
  for (int i = 0; i < 2; ++i)
    dv_fake.fail_next(1, 200, std::nullopt, page(json::array({good_row("00000000-0000-0000-0000-000000000001")}),
                                                 {{"@odata.nextLink", loop}}));
  auto pulled = run(dv.pull(spec, ""));
  testing::check_fails_with(pulled, "repeats a page already read");
  CHECK(dv_fake.server().requests().size() == 2);
}

TEST_CASE_METHOD(DvFixture, "dataverse: a pull reads at most max_pages pages") {
  options.max_pages = 2;
  connectors::DataverseConnector bounded{client, tokens, options, captured.log};
  for (int i = 0; i < 7; ++i) add_lead("ref-" + std::to_string(i));  // 3 pages of 3
  auto pulled = run(bounded.pull(spec, ""));
  testing::check_fails_with(pulled, "more than 2 pages in one pull");
  options.max_pages = 3;
  connectors::DataverseConnector enough{client, tokens, options, captured.log};
  CHECK(run(enough.pull(spec, "")).ok());
}

TEST_CASE_METHOD(DvHostileFixture, "dataverse: a body nested deeper than 64 levels is a clear failure, not a stack overflow") {
  testing::check_200_body_fails(dv_fake, R"({"value":[)" + nested(70000) + "]}", [&] { return run(dv.pull(spec, "")); },
                                "GET leads answered 200 with a body nested deeper than 64 levels");
  testing::check_200_body_fails(dv_fake, nested(100000), [&] { return run(dv.get(spec, "00000000-0000-0000-0000-000000000001")); },
                                "nested deeper than 64 levels");
}

TEST_CASE_METHOD(DvHostileFixture, "dataverse: a malformed row read by id is the record's fault (rejected), not a transient failure") {
  // Transient would retry the quarantined record every cycle and hold both cursors back for good.
  json row = {{"@odata.etag", "W/\"7\""}, {"leadid", "bad\tid"}, {"modifiedon", "2026-12-01T10:00:00Z"}};
  dv_fake.fail_next(1, 200, std::nullopt, row.dump());
  auto got = run(dv.get(spec, "00000000-0000-0000-0000-000000000001"));
  REQUIRE_FALSE(got.ok());
  CHECK(got.failure().kind == FailureKind::rejected);
  CHECK_THAT(got.failure().message, Catch::Contains("malformed row"));
}

TEST_CASE_METHOD(DvHostileFixture, "dataverse: ids with control characters are malformed rows, quarantined under a printable key") {
  json rows = json::array({good_row("00000000-0000-0000-0000-000000000001"), good_row("bad\x01id"),
                           good_row("00000000-0000-0000-0000-000000000003"),
                           {{"@odata.context", "x/$deletedEntity"}, {"id", std::string("gone\0id", 7)}},
                           good_row("00000000-0000-0000-0000-000000000005")});
  rows[2]["cosync_referralid"] = "ref\nforged";
  rows[4]["@odata.etag"] = "W/\"7\"\r\nX-Injected: 1";
  dv_fake.fail_next(1, 200, std::nullopt, page(rows));
  auto pulled = run(dv.pull(spec, ""));
  REQUIRE(pulled.ok());
  REQUIRE(pulled->records.size() == 1);
  CHECK(pulled->records[0].id == "00000000-0000-0000-0000-000000000001");
  REQUIRE(pulled->malformed.size() == 4);
  CHECK(pulled->malformed[0].id == "bad\\x01id");
  CHECK(pulled->malformed[0].reason == "row leadid 'bad\\x01id' contains a control character");
  CHECK(pulled->malformed[1].reason ==
        "row 00000000-0000-0000-0000-000000000003 has cosync_referralid 'ref\\x0aforged', which contains a control character");
  CHECK(pulled->malformed[2].reason == "$deletedEntity id 'gone\\x00id' contains a control character");
  CHECK(pulled->malformed[2].id == "gone\\x00id");
  CHECK(pulled->malformed[3].reason == "row 00000000-0000-0000-0000-000000000005 has an @odata.etag with a control character");
  for (const auto& m : pulled->malformed)
    for (char c : m.id + m.reason) CHECK(static_cast<unsigned char>(c) >= 0x20);
}

TEST_CASE("dataverse $batch: a hostile or truncated multipart answer is refused with its reason, never a crash") {
  const std::string type = "multipart/mixed; boundary=batchresponse_1";
  const std::string ok_part =
      "--batchresponse_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
      "HTTP/1.1 204 No Content\r\nOData-Version: 4.0\r\n\r\n\r\n";
  auto refused = [&](const std::string& content_type, const std::string& body) {
    std::string why;
    auto parsed = connectors::parse_batch_response(content_type, body, &why);
    INFO(body.substr(0, 300));
    CHECK_FALSE(parsed.has_value());
    return why;
  };
  // Well-formed: one answer.
  auto good = connectors::parse_batch_response(type, ok_part + "--batchresponse_1--\r\n");
  REQUIRE(good);
  REQUIRE(good->size() == 1);
  CHECK((*good)[0][0].status == 204);

  CHECK_THAT(refused("application/json", ok_part), Catch::Contains("not multipart/mixed"));
  CHECK_THAT(refused("multipart/mixed", ok_part + "--batchresponse_1--\r\n"), Catch::Contains("boundary"));
  CHECK_THAT(refused("multipart/mixed; boundary=" + std::string(71, 'b'), ok_part), Catch::Contains("1 to 70 characters"));
  CHECK_THAT(refused(type, "no delimiter at all"), Catch::Contains("no --batchresponse_1 delimiter"));
  CHECK_THAT(refused(type, ok_part), Catch::Contains("truncated"));
  CHECK_THAT(refused(type, ok_part + ok_part.substr(0, 60)), Catch::Contains("truncated"));
  std::string many;
  for (int i = 0; i < 1001; ++i) many += ok_part;
  CHECK_THAT(refused(type, many + "--batchresponse_1--\r\n"), Catch::Contains("more than 1000 parts"));
  for (const char* status : {"HTTP/1.1 abc OK", "HTTP/1.1 99999999999999999999 OK", "HTTP/1.1 -5 x", "HTTP/1.1 2000 OK",
                             "HTTP/1.1", "GET / HTTP/1.1"}) {
    std::string part = "--batchresponse_1\r\nContent-Type: application/http\r\n\r\n" + std::string(status) +
                       "\r\n\r\n--batchresponse_1--\r\n";
    CHECK_THAT(refused(type, part), Catch::Contains("part 1 has no HTTP status line"));
  }
  // A change set whose own boundary is missing, or that is cut short.
  CHECK_THAT(refused(type, "--batchresponse_1\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\n--batchresponse_1--\r\n"),
             Catch::Contains("change set 1"));
  CHECK_THAT(refused(type, "--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\n"
                           "Content-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n\r\n{}\r\n--batchresponse_1--\r\n"),
             Catch::Contains("change set 1") && Catch::Contains("truncated"));
  // The boundary's text inside a part is not a delimiter unless it starts a line.
  auto inside = connectors::parse_batch_response(
      type, "--batchresponse_1\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n\r\n{\"a\":\"x--batchresponse_1\"}\r\n"
            "--batchresponse_1--\r\n");
  REQUIRE(inside);
  CHECK((*inside)[0][0].body == R"({"a":"x--batchresponse_1"})");
  // Megabytes of line ends between delimiters are linear work, not quadratic.
  auto blank = connectors::parse_batch_response(type, "--batchresponse_1\r\n" + std::string(4'000'000, '\n') +
                                                          "--batchresponse_1--\r\n");
  CHECK_FALSE(blank);
}

TEST_CASE_METHOD(DvHostileFixture, "dataverse: a $batch answer with a part deeper than 64 levels or too few answers fails those records alone") {
  std::vector<connectors::UpsertRequest> creates = {{"ref-1", {{"lastname", "A"}}},
                                                    {"ref-2", {{"lastname", "B"}}},
                                                    {"ref-3", {{"lastname", "C"}, {"statuscode", "4"}}}};
  dv_fake.rewrite_next_batch_answer([](std::string body) {
    // The second record's row becomes 100 nested arrays; the third's change set loses its first answer.
    auto second = body.find("{\"@odata.etag\"", body.find("{\"@odata.etag\"") + 1);
    body.replace(second, body.find("\r\n", second) - second, "{\"x\":" + nested(100) + "}");
    auto first_op = body.rfind("--changesetresponse_", body.rfind("--changesetresponse_") - 1);
    first_op = body.rfind("--changesetresponse_", first_op - 1);
    auto second_op = body.find("--changesetresponse_", first_op + 1);
    body.erase(first_op, second_op - first_op);
    return body;
  });
  auto results = run(dv.upsert_many(spec, creates));
  REQUIRE(results.size() == 3);
  INFO(testing::describe(results[0]) << "\n" << testing::describe(results[1]) << "\n" << testing::describe(results[2]));
  CHECK(results[0].ok());
  testing::check_fails_with(results[1], "nested deeper than 64 levels");
  testing::check_fails_with(results[2], "answered 1 results for 2 operations");
}
