#pragma once
// Fake OAuth 2.0 token endpoint (Microsoft identity platform / Salesforce style): any POST to a
// path ending in "/token" with a form body. Grants: client_credentials and refresh_token (each
// redemption returns a new refresh token; as in Entra ID the old one stays valid until revoked).
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "daemon/util/clock.hpp"
#include "tests/fakes/fault_queue.hpp"
#include "tests/fakes/http_test_server.hpp"

namespace cosync::fakes {

struct TokenClientOptions {
  int expires_in = 3600;         // seconds; also the lifetime the server enforces
  // client_credentials replies only (refresh_token replies are always Microsoft-style):
  bool omit_expires_in = false;  // Salesforce sends no expires_in
  std::string instance_url;      // added to the response when set (Salesforce)
};

struct FakeTokenServerOptions {
  const Clock* clock = nullptr;  // nullptr: the system clock; must outlive the server
  unsigned short port = 0;       // 0: ephemeral
  int refresh_grant_expires_in = 3600;  // token lifetime for refresh grants from unregistered clients
  EventSink on_event;            // optional: one line per token issued
  int device_code_interval = 1;         // polling interval the device-code endpoint asks for (Entra: 5)
  int device_code_expires_in = 900;     // seconds a device code stays valid (on `clock`)
};

class FakeTokenServer {
 public:
  explicit FakeTokenServer(FakeTokenServerOptions options = {});

  void add_client(std::string client_id, std::string secret, TokenClientOptions options = {});
  void add_refresh_token(std::string token);  // seed a live refresh token

  bool is_valid_access_token(std::string_view token) const;
  // For the fakes' Authorization checks; captures `this`, so the token server must outlive them.
  std::function<bool(std::string_view)> validator() const;
  void expire_all_access_tokens();
  void revoke_refresh_tokens();
  int tokens_issued() const;              // access tokens issued so far
  std::string latest_refresh_token() const;  // the newest live refresh token ("" if none)

  std::string url() const;  // http://127.0.0.1:PORT/token
  // JWT bearer clients (Salesforce, grant_type urn:ietf:params:oauth:grant-type:jwt-bearer): the
  // assertion issued by `client_id` must verify with the PEM public key, name `audience` and
  // expire in the future but no more than 5 minutes ahead.
  void add_jwt_client(std::string client_id, std::string public_key_pem, std::string audience,
                      TokenClientOptions options = {});
  std::string last_jwt_claims() const;  // the claims of the last assertion verified (JSON text)
  // Entra ID certificate credentials: a client_credentials grant whose client_assertion
  // (client_assertion_type urn:ietf:params:oauth:client-assertion-type:jwt-bearer) names this
  // certificate by x5t#S256 (or x5t), verifies with its public key, has aud = the token URL it
  // was posted to, iss = sub = client_id, a jti, and an exp in the future (at most an hour ahead).
  void add_certificate_client(std::string client_id, std::string certificate_pem, TokenClientOptions options = {});
  std::string last_assertion_header() const;  // the JOSE header of the last client assertion (JSON text)
  std::string device_code_url() const;  // http://127.0.0.1:PORT/devicecode (device authorization grant)
  // Device-code flow test hooks: the user signs in for `user_code` (the grant is issued on the
  // poll after `after_polls` more authorization_pending answers); the newest code handed out;
  // the next `count` polls are answered slow_down.
  bool approve_device_code(const std::string& user_code, int after_polls = 0);
  std::string latest_user_code() const;
  void slow_down_next(int count);
  HttpTestServer& server() { return server_; }
  FaultQueue& faults() { return faults_; }

 private:
  FakeResponse handle(const FakeRequest& request);
  FakeResponse issue(const TokenClientOptions& client, bool with_refresh_token, const std::string& scope);

  SystemClock system_clock_;
  const Clock& clock_;
  FakeTokenServerOptions options_;
  FaultQueue faults_;
  mutable std::mutex mu_;
  std::map<std::string, std::pair<std::string, TokenClientOptions>> clients_;  // id -> secret, options
  std::map<std::string, TimePoint, std::less<>> access_tokens_;               // token -> expiry
  std::set<std::string> refresh_tokens_;
  struct DeviceCode {
    std::string user_code;
    TimePoint expires_at;
    bool approved = false;
    int pending_polls = 0;  // authorization_pending answers still due after approval
  };
  std::map<std::string, DeviceCode> device_codes_;  // device_code -> state
  std::string latest_user_code_;
  int slow_downs_ = 0;
  FakeResponse device_code(const std::map<std::string, std::string>& form);  // under mu_
  FakeResponse poll_device_code(const std::string& device_code);             // under mu_
  std::string latest_refresh_;
  int issued_ = 0;
  struct JwtClient {
    std::string public_key_pem;
    std::string audience;
    TokenClientOptions options;
  };
  std::map<std::string, JwtClient> jwt_clients_;
  std::string last_jwt_claims_;
  FakeResponse jwt_grant(const std::string& assertion);  // with mu_ held
  struct CertificateClient {
    std::string certificate_pem;
    TokenClientOptions options;
  };
  std::map<std::string, CertificateClient> certificate_clients_;
  std::string last_assertion_header_;
  // with mu_ held; `audience` is the URL the request was posted to
  FakeResponse client_assertion_grant(const std::map<std::string, std::string>& form, const std::string& audience);
  HttpTestServer server_;  // last: stops before the state above goes away
};

}  // namespace cosync::fakes
