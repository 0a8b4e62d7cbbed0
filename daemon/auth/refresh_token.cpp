#include "daemon/auth/refresh_token.hpp"

#include "daemon/util/bounded_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace cosync::auth {

RefreshTokenProvider::RefreshTokenProvider(http::HttpClient& client, RefreshTokenOptions options, const Clock& clock,
                                           Log log, std::string name)
    : TokenProvider(clock, std::move(log), std::move(name), std::chrono::seconds(3600)),
      client_(client),
      options_(std::move(options)) {}

boost::asio::awaitable<Expected<TokenGrant>> RefreshTokenProvider::acquire() {
  auto refresh_token = read_secret_file(options_.refresh_token_file);
  if (!refresh_token)
    co_return Failure{FailureKind::auth,
                      "no Partner Center refresh token in " + options_.refresh_token_file +
                          ": run cosyncd login partner-center",
                      0, ""};
  std::vector<std::pair<std::string, std::string>> form = {{"grant_type", "refresh_token"},
                                                           {"client_id", options_.client_id},
                                                           {"refresh_token", *refresh_token}};
  if (!options_.client_secret.empty()) form.emplace_back("client_secret", options_.client_secret);
  if (!options_.scope.empty()) form.emplace_back("scope", options_.scope);
  auto grant = co_await request_token(client_, options_.token_url, form);
  if (!grant && grant.failure().kind == FailureKind::auth) {
    Failure f = grant.failure();
    f.message += " (the Partner Center refresh token was rejected: run cosyncd login partner-center)";
    co_return f;
  }
  co_return grant;
}

void RefreshTokenProvider::on_grant(const TokenGrant& grant) {
  if (grant.refresh_token.empty()) return;
  std::string error;
  if (!write_secret_file(options_.refresh_token_file, grant.refresh_token, error))
    log_->error("auth: cannot store the rotated Partner Center refresh token: {}", error);
}

bool write_secret_file(const std::string& path, const std::string& secret, std::string& error) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = tmp + ": " + std::strerror(errno);
    return false;
  }
  ::fchmod(fd, 0600);
  std::string content = secret + "\n";
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    error = path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

std::optional<std::string> read_secret_file(const std::string& path) {
  auto content = read_bounded_file(path, kMaxSecretFileBytes);
  if (!content) return std::nullopt;
  std::string value = std::move(*content);
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r' || value.back() == ' ')) value.pop_back();
  if (value.empty()) return std::nullopt;
  return value;
}

}  // namespace cosync::auth
