#include "tests/fakes/fake_token_server.hpp"

#include <cctype>

#include <nlohmann/json.hpp>

#include "tests/fakes/jwt_verify.hpp"
#include "tests/fakes/random_ids.hpp"

namespace cosync::fakes {

namespace {

FakeResponse oauth_error(int status, std::string_view error, std::string_view description) {
  return FakeResponse::json(status, {{"error", error}, {"error_description", description}});
}

}  // namespace

FakeTokenServer::FakeTokenServer(FakeTokenServerOptions options)
    : clock_(options.clock ? *options.clock : system_clock_),
      options_(std::move(options)),
      server_([this](const FakeRequest& r) { return handle(r); }, options_.port) {}

void FakeTokenServer::add_client(std::string client_id, std::string secret, TokenClientOptions options) {
  std::lock_guard lock(mu_);
  clients_[std::move(client_id)] = {std::move(secret), std::move(options)};
}

void FakeTokenServer::add_refresh_token(std::string token) {
  std::lock_guard lock(mu_);
  latest_refresh_ = token;
  refresh_tokens_.insert(std::move(token));
}

bool FakeTokenServer::is_valid_access_token(std::string_view token) const {
  std::lock_guard lock(mu_);
  auto it = access_tokens_.find(token);
  return it != access_tokens_.end() && clock_.now() < it->second;
}

std::function<bool(std::string_view)> FakeTokenServer::validator() const {
  return [this](std::string_view token) { return is_valid_access_token(token); };
}

void FakeTokenServer::expire_all_access_tokens() {
  std::lock_guard lock(mu_);
  access_tokens_.clear();
}

void FakeTokenServer::revoke_refresh_tokens() {
  std::lock_guard lock(mu_);
  refresh_tokens_.clear();
  latest_refresh_.clear();
}

int FakeTokenServer::tokens_issued() const {
  std::lock_guard lock(mu_);
  return issued_;
}

std::string FakeTokenServer::latest_refresh_token() const {
  std::lock_guard lock(mu_);
  return latest_refresh_;
}

std::string FakeTokenServer::url() const { return server_.base_url() + "/token"; }

std::string FakeTokenServer::device_code_url() const { return server_.base_url() + "/devicecode"; }

bool FakeTokenServer::approve_device_code(const std::string& user_code, int after_polls) {
  std::lock_guard lock(mu_);
  for (auto& [code, state] : device_codes_)
    if (state.user_code == user_code) {
      state.approved = true;
      state.pending_polls = after_polls;
      return true;
    }
  return false;
}

std::string FakeTokenServer::latest_user_code() const {
  std::lock_guard lock(mu_);
  return latest_user_code_;
}

void FakeTokenServer::slow_down_next(int count) {
  std::lock_guard lock(mu_);
  slow_downs_ = count;
}

FakeResponse FakeTokenServer::device_code(const std::map<std::string, std::string>& form) {
  auto scope = form.count("scope") ? form.at("scope") : std::string();
  if (!form.count("client_id") || form.at("client_id").empty())
    return oauth_error(400, "invalid_request", "AADSTS900144: The request body must contain client_id.");
  if (scope.find("offline_access") == std::string::npos)
    return oauth_error(400, "invalid_scope", "cosync needs offline_access to receive a refresh token");
  std::string device = "fake-dc-" + random_hex(32);
  std::string user = random_hex(4) + "-" + random_hex(4);
  for (auto& ch : user) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  device_codes_[device] = {user, clock_.now() + std::chrono::seconds(options_.device_code_expires_in), false, 0};
  latest_user_code_ = user;
  std::string uri = "https://microsoft.com/devicelogin";
  return FakeResponse::json(200, {{"device_code", device},
                                  {"user_code", user},
                                  {"verification_uri", uri},
                                  {"expires_in", options_.device_code_expires_in},
                                  {"interval", options_.device_code_interval},
                                  {"message", "To sign in, use a web browser to open the page " + uri +
                                                  " and enter the code " + user + " to authenticate."}});
}

FakeResponse FakeTokenServer::poll_device_code(const std::string& device_code) {
  auto it = device_codes_.find(device_code);
  if (it == device_codes_.end())
    return oauth_error(400, "invalid_grant", "AADSTS70000: The provided device code is invalid or was already used.");
  if (clock_.now() >= it->second.expires_at) {
    device_codes_.erase(it);
    return oauth_error(400, "expired_token", "AADSTS70020: The provided value for the input parameter 'device_code' "
                                             "is not valid. This device code has expired.");
  }
  if (slow_downs_ > 0) {
    --slow_downs_;
    return oauth_error(400, "slow_down", "AADSTS70023: polling too fast");
  }
  if (!it->second.approved || it->second.pending_polls > 0) {
    if (it->second.approved) --it->second.pending_polls;
    return oauth_error(400, "authorization_pending",
                       "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling.");
  }
  device_codes_.erase(it);
  TokenClientOptions options;
  options.expires_in = options_.refresh_grant_expires_in;
  return issue(options, true, "https://api.partner.microsoft.com/.default offline_access");
}

// Called with mu_ held.
FakeResponse FakeTokenServer::issue(const TokenClientOptions& client, bool with_refresh_token,
                                    const std::string& scope) {
  std::string token = "fake-at-" + random_hex(40);
  access_tokens_[token] = clock_.now() + std::chrono::seconds(client.expires_in);
  ++issued_;
  nlohmann::json body = {{"access_token", token}, {"token_type", "Bearer"}};
  if (!client.omit_expires_in) body["expires_in"] = client.expires_in;
  if (!client.instance_url.empty()) body["instance_url"] = client.instance_url;
  if (!scope.empty()) body["scope"] = scope;
  if (with_refresh_token) {
    latest_refresh_ = "fake-rt-" + random_hex(40);
    refresh_tokens_.insert(latest_refresh_);
    body["refresh_token"] = latest_refresh_;
  }
  if (options_.on_event) options_.on_event("fake-token-server: issued access token");
  return FakeResponse::json(200, body);
}

FakeResponse FakeTokenServer::handle(const FakeRequest& request) {
  if (auto fault = faults_.take([](int) { return R"({"error":"temporarily_unavailable"})"; })) return *fault;
  bool devicecode = request.path.ends_with("/devicecode");
  if (!request.path.ends_with("/token") && !devicecode) return oauth_error(404, "not_found", "no such endpoint");
  if (request.method != "POST") return oauth_error(405, "invalid_request", "the token endpoint takes POST only");
  if (!request.header("Content-Type").starts_with("application/x-www-form-urlencoded"))
    return oauth_error(400, "invalid_request", "AADSTS900144: body must be application/x-www-form-urlencoded");
  auto form = decode_form(request.body);
  auto field = [&](const std::string& k) { return form.count(k) ? form[k] : std::string{}; };
  std::string grant = field("grant_type");
  std::string client_id = field("client_id");
  std::string secret = field("client_secret");

  std::lock_guard lock(mu_);
  if (devicecode) return device_code(form);
  if (grant == "urn:ietf:params:oauth:grant-type:device_code") return poll_device_code(field("device_code"));
  auto client = clients_.find(client_id);
  if (grant == "client_credentials" && form.count("client_assertion_type"))
    return client_assertion_grant(form, server_.base_url() + request.path);
  if (grant == "client_credentials") {
    if (client == clients_.end() || client->second.first != secret)
      return oauth_error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.");
    return issue(client->second.second, false, field("scope"));
  }
  if (grant == "refresh_token") {
    // Public clients (device-code login) send no secret; a confidential client's must match.
    if (client != clients_.end() && !secret.empty() && client->second.first != secret)
      return oauth_error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.");
    // Each redemption returns a new refresh token but, as in Entra ID, does not revoke the old one:
    // a client that died before storing the new one can still use the old one.
    if (!refresh_tokens_.contains(field("refresh_token")))
      return oauth_error(400, "invalid_grant",
                         "AADSTS70000: Provided grant is invalid or malformed (refresh token expired or revoked).");
    // Refresh grants answer Microsoft-style whatever the client: always expires_in, no instance_url.
    TokenClientOptions options;
    options.expires_in = client != clients_.end() ? client->second.second.expires_in : options_.refresh_grant_expires_in;
    return issue(options, true, field("scope"));
  }
  if (grant == "urn:ietf:params:oauth:grant-type:jwt-bearer") return jwt_grant(field("assertion"));
  return oauth_error(400, "unsupported_grant_type", "AADSTS70003: unsupported grant_type '" + grant + "'");
}

void FakeTokenServer::add_jwt_client(std::string client_id, std::string public_key_pem, std::string audience,
                                     TokenClientOptions options) {
  std::lock_guard lock(mu_);
  jwt_clients_[std::move(client_id)] = {std::move(public_key_pem), std::move(audience), std::move(options)};
}

std::string FakeTokenServer::last_jwt_claims() const {
  std::lock_guard lock(mu_);
  return last_jwt_claims_;
}

// Salesforce answers every bad assertion 400 invalid_grant with a short description.
FakeResponse FakeTokenServer::jwt_grant(const std::string& assertion) {
  auto payload = assertion.find('.');
  auto payload_end = payload == std::string::npos ? payload : assertion.find('.', payload + 1);
  if (payload_end == std::string::npos) return oauth_error(400, "invalid_grant", "invalid assertion");
  // Whose key to verify with comes from `iss`, read before the signature is checked.
  std::string iss;
  for (const auto& [id, client] : jwt_clients_) {
    auto verified = verify_jwt_rs256(assertion, client.public_key_pem);
    if (auto* claims = std::get_if<nlohmann::json>(&verified); claims && claims->value("iss", "") == id) {
      iss = id;
      break;
    }
  }
  if (iss.empty()) return oauth_error(400, "invalid_grant", "invalid assertion (signature or client)");
  const JwtClient& client = jwt_clients_.at(iss);
  auto claims = std::get<nlohmann::json>(verify_jwt_rs256(assertion, client.public_key_pem));
  last_jwt_claims_ = claims.dump();
  if (claims.value("aud", "") != client.audience) return oauth_error(400, "invalid_grant", "audience is invalid");
  if (!claims.contains("sub") || !claims["sub"].is_string() || claims["sub"].get<std::string>().empty())
    return oauth_error(400, "invalid_grant", "user hasn't approved this consumer");
  if (!claims.contains("exp") || !claims["exp"].is_number_integer())
    return oauth_error(400, "invalid_grant", "expiration is invalid");
  auto exp = TimePoint(std::chrono::seconds(claims["exp"].get<long long>()));
  if (exp <= clock_.now()) return oauth_error(400, "invalid_grant", "expired authorization code");
  if (exp > clock_.now() + std::chrono::minutes(5)) return oauth_error(400, "invalid_grant", "expiration is invalid");
  return issue(client.options, false, "");
}

}  // namespace cosync::fakes

namespace cosync::fakes {

void FakeTokenServer::add_certificate_client(std::string client_id, std::string certificate_pem,
                                             TokenClientOptions options) {
  std::lock_guard lock(mu_);
  certificate_clients_[std::move(client_id)] = {std::move(certificate_pem), std::move(options)};
}

std::string FakeTokenServer::last_assertion_header() const {
  std::lock_guard lock(mu_);
  return last_assertion_header_;
}

// Entra ID answers a bad client assertion 400/401 invalid_client with an AADSTS code.
FakeResponse FakeTokenServer::client_assertion_grant(const std::map<std::string, std::string>& form,
                                                     const std::string& audience) {
  auto field = [&](const std::string& k) { return form.count(k) ? form.at(k) : std::string{}; };
  if (field("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    return oauth_error(400, "invalid_request", "AADSTS50027: client_assertion_type must be jwt-bearer");
  if (!field("client_secret").empty())
    return oauth_error(400, "invalid_request", "AADSTS700025: a client secret and a client assertion were both sent");
  const std::string assertion = field("client_assertion");
  auto header = jwt_header(assertion);
  if (header.is_object()) last_assertion_header_ = header.dump();
  auto client = certificate_clients_.find(field("client_id"));
  if (client == certificate_clients_.end())
    return oauth_error(400, "unauthorized_client", "AADSTS700016: Application not found in the directory");
  const std::string& certificate = client->second.certificate_pem;
  bool named = header.is_object() &&
               ((header.contains("x5t#S256") && header["x5t#S256"] == certificate_thumbprint(certificate, true)) ||
                (!header.contains("x5t#S256") && header.contains("x5t") && header["x5t"] == certificate_thumbprint(certificate, false)));
  if (!named)
    return oauth_error(401, "invalid_client",
                       "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered "
                       "on application.");
  auto verified = verify_jwt_rs256(assertion, certificate_public_key(certificate));
  if (auto* reason = std::get_if<std::string>(&verified))
    return oauth_error(401, "invalid_client", "AADSTS700027: Client assertion failed signature validation: " + *reason);
  const auto& claims = std::get<nlohmann::json>(verified);
  if (claims.value("aud", "") != audience)
    return oauth_error(401, "invalid_client", "AADSTS700027: The audience claim is not the token endpoint " + audience);
  if (claims.value("iss", "") != client->first || claims.value("sub", "") != client->first)
    return oauth_error(401, "invalid_client", "AADSTS700023: iss and sub must both be the client id");
  if (!claims.contains("jti") || !claims["jti"].is_string() || claims["jti"].get<std::string>().empty())
    return oauth_error(401, "invalid_client", "AADSTS700027: the client assertion has no jti");
  if (!claims.contains("exp") || !claims["exp"].is_number_integer())
    return oauth_error(401, "invalid_client", "AADSTS700024: Client assertion has no valid exp");
  auto exp = TimePoint(std::chrono::seconds(claims["exp"].get<long long>()));
  if (exp <= clock_.now() || exp > clock_.now() + std::chrono::hours(1))
    return oauth_error(401, "invalid_client", "AADSTS700024: Client assertion is not within its valid time range.");
  return issue(client->second.options, false, field("scope"));
}

}  // namespace cosync::fakes
