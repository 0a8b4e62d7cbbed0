#include "daemon/cli/login.hpp"

#include <sys/stat.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <ostream>

#include "daemon/auth/device_code.hpp"
#include "daemon/auth/refresh_token.hpp"

namespace cosync::app {

int login_partner_center(const Config& config, Log log, std::ostream& out, std::ostream& err) {
  const auto& pc = config.partner_center;
  if (pc.device_code_url.empty()) {
    err << "cosyncd: set partner_center.auth.tenant (or device_code_url) in " << config.file << "\n";
    return 1;
  }
  boost::asio::io_context io;
  http::HttpClient client(io.get_executor(), config.http, log);
  auth::DeviceCodeOptions options;
  options.device_code_url = pc.device_code_url;
  options.token_url = pc.auth.token_url;
  options.client_id = pc.auth.client_id;
  options.scope = pc.auth.scope;

  std::optional<Expected<auth::TokenGrant>> result;
  std::exception_ptr error;
  auto prompt = [&](const auth::DeviceCodePrompt& p) {
    out << "To let cosyncd use Partner Center as you, open " << p.verification_uri << " in a browser and enter the code "
        << p.user_code << "\n"
        << "Sign in with a Partner Center account that has the Referrals Admin role. The code is valid for "
        << p.expires_in.count() / 60 << " minutes; waiting for the sign-in...\n"
        << std::flush;
  };
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> { result.emplace(co_await auth::device_code_login(client, options, prompt)); },
      [&](std::exception_ptr e) { error = e; });
  io.run();
  if (error) std::rethrow_exception(error);
  if (!result || !*result) {
    err << "cosyncd: Partner Center login failed: " << (result ? result->failure().message : "no answer") << "\n";
    return 1;
  }
  std::filesystem::create_directories(std::filesystem::path(pc.auth.refresh_token_file).parent_path());
  ::chmod(config.state_dir.c_str(), 0700);
  std::string write_error;
  if (!auth::write_secret_file(pc.auth.refresh_token_file, (*result)->refresh_token, write_error)) {
    err << "cosyncd: cannot store the refresh token: " << write_error << "\n";
    return 1;
  }
  out << "Signed in. The refresh token is stored in " << pc.auth.refresh_token_file
      << " (mode 0600); a running cosyncd picks it up at its next cycle.\n";
  return 0;
}

}  // namespace cosync::app
