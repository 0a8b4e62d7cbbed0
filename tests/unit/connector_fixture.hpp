#pragma once
// Connectors wired to the fakes over real HTTP, for component tests.
#include <boost/asio/io_context.hpp>

#include "connectors/partner_center/partner_center_connector.hpp"
#include "connectors/salesforce/salesforce_connector.hpp"
#include "daemon/auth/client_credentials.hpp"
#include "tests/fakes/fake_partner_center.hpp"
#include "tests/fakes/fake_salesforce.hpp"
#include "tests/fakes/fake_token_server.hpp"
#include "tests/unit/run_async.hpp"

namespace cosync::testing {

inline http::ClientOptions fast_http_options() {
  http::ClientOptions o;
  o.timeout = std::chrono::seconds(5);
  o.base_backoff = std::chrono::milliseconds(5);
  o.max_backoff = std::chrono::milliseconds(20);
  return o;
}

// Options for a fake on `clock`, checking tokens with `validator` when given.
template <class Options>
Options fake_options(const Clock& clock, std::function<bool(std::string_view)> validator = {}) {
  Options o;
  o.clock = &clock;
  if constexpr (requires { o.validate_token; }) o.validate_token = std::move(validator);
  return o;
}

struct ConnectorFixture {
  ManualClock clock{std::chrono::system_clock::now()};
  fakes::FakeTokenServer token_server{fake_options<fakes::FakeTokenServerOptions>(clock)};
  fakes::FakePartnerCenter pc_fake{fake_options<fakes::FakePartnerCenterOptions>(clock, token_server.validator())};
  fakes::FakeSalesforce sf_fake{fake_options<fakes::FakeSalesforceOptions>(clock, token_server.validator())};
  boost::asio::io_context io;
  CapturedLog captured = make_capturing_logger();
  http::HttpClient client{io.get_executor(), fast_http_options(), captured.log};
  auth::ClientCredentialsProvider tokens{client, {token_server.url(), "id", "secret", "", std::chrono::hours(1)}, clock,
                                         captured.log, "test"};

  ConnectorFixture() { token_server.add_client("id", "secret"); }

  // Options of a Salesforce connector aimed at sf_fake, on the fixture's clock.
  connectors::SalesforceOptions sf_options() const {
    connectors::SalesforceOptions o;
    o.instance_url = sf_fake.base_url();
    o.clock = &clock;
    return o;
  }
  // A Lead in sf_fake linked to the referral `ref`; its id.
  std::string add_sf_lead(const std::string& ref) {
    return sf_fake.insert("Lead", {{"LastName", "L"}, {"Company", "C " + ref}, {"PartnerCenterReferralId__c", ref}});
  }

  template <class T>
  T run(boost::asio::awaitable<T> task) {
    return run_async(io, std::move(task));
  }
};

}  // namespace cosync::testing
