#pragma once
// The Dataverse connector wired to the fake Dataverse (and the fake token endpoint) over real
// HTTP, for component tests of the connector.
#include "connectors/dataverse/dataverse_connector.hpp"
#include "daemon/auth/authorized_send.hpp"
#include "tests/fakes/fake_dataverse.hpp"
#include "tests/unit/connector_fixture.hpp"

namespace cosync::testing {

using namespace std::chrono_literals;

struct DvFixture {
  ManualClock clock{std::chrono::system_clock::now()};
  fakes::FakeTokenServer token_server{fake_options<fakes::FakeTokenServerOptions>(clock)};
  fakes::FakeDataverse dv_fake{fake_options<fakes::FakeDataverseOptions>(clock, token_server.validator())};
  boost::asio::io_context io;
  CapturedLog captured = make_capturing_logger();
  http::HttpClient client{io.get_executor(), fast_http_options(), captured.log};
  auth::ClientCredentialsProvider tokens{
      client, {token_server.url(), "id", "secret", dv_fake.base_url() + "/.default", std::chrono::hours(1)}, clock,
      captured.log, "dataverse"};
  connectors::DataverseOptions options = make_options();
  connectors::DataverseConnector dv{client, tokens, options, captured.log};
  connectors::ObjectSpec spec{"leads", {"companyname", "description", "statuscode"}, "cosync_referralid"};

  DvFixture() { token_server.add_client("id", "secret"); }

  connectors::DataverseOptions make_options() {
    connectors::DataverseOptions o;
    o.url = dv_fake.base_url();
    o.clock = &clock;
    o.page_size = 3;
    o.batch_size = 100;
    o.overlap = 60s;
    return o;
  }

  template <class T>
  T run(boost::asio::awaitable<T> task) {
    return run_async(io, std::move(task));
  }

  std::string add_lead(const std::string& ref) {
    return dv_fake.insert("leads", {{"lastname", "L"}, {"companyname", "C " + ref}, {"cosync_referralid", ref}});
  }

  // A request of the test's own to the fake (`path` under the service root), with a token.
  Expected<http::Response> send(http::Method method, const std::string& path, const nlohmann::json& body) {
    http::Request r{method, dv_fake.base_url() + dv_fake.service_root() + path,
                    {{"Content-Type", "application/json"}, {"OData-Version", "4.0"}}, body.dump(), {}, {}};
    return run(auth::authorized_send(client, tokens, std::move(r)));
  }

  // Requests for rows (the table definition, read once per table, left out).
  std::vector<fakes::FakeRequest> requests(const std::string& method) {
    std::vector<fakes::FakeRequest> out;
    for (auto& r : dv_fake.server().requests())
      if (r.method == method && r.path.find("/EntityDefinitions") == std::string::npos) out.push_back(r);
    return out;
  }
  std::vector<fakes::FakeRequest> metadata_requests() {
    std::vector<fakes::FakeRequest> out;
    for (auto& r : dv_fake.server().requests())
      if (r.path.find("/EntityDefinitions") != std::string::npos) out.push_back(r);
    return out;
  }
};

}  // namespace cosync::testing
