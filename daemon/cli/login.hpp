#pragma once
// `cosyncd login partner-center`: the device-code sign-in that gives the daemon its Partner
// Center refresh token (stored 0600 where partner_center.auth.refresh_token_file says).
#include <iosfwd>

#include "daemon/cli/config.hpp"

namespace cosync::app {

// Returns the process exit status: 0 signed in and stored, 1 failed (message on `err`).
int login_partner_center(const Config& config, Log log, std::ostream& out, std::ostream& err);

}  // namespace cosync::app
