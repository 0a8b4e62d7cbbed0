#pragma once
// A real SMTP server on loopback for the notification tests: Debian's python3-aiosmtpd, started
// and stopped by the test, with STARTTLS or implicit TLS and a certificate the test makes; every
// message it accepts is kept in a Maildir.
#include <memory>
#include <string>
#include <vector>

#include "tests/e2e/child_process.hpp"
#include "tests/unit/test_files.hpp"

namespace cosync::testing {

// Why the SMTP tests cannot run here, or "" when they can.
std::string smtp_unavailable();
unsigned short free_smtp_port();
// A self-signed certificate for 127.0.0.1 and localhost (dir/name.pem, dir/name.key): its own
// trust anchor. False when openssl failed.
bool make_certificate(const TempDir& dir, const std::string& name);

struct SmtpServer {
  // `tls`: "starttls" or "smtps"; uses dir/server.pem and dir/server.key.
  SmtpServer(const TempDir& dir, const std::string& tls, unsigned short port);
  bool accepting() const;  // the port answered within 5 s of the start
  std::vector<std::string> messages() const;  // the messages received, as stored

  std::string maildir;
  unsigned short port;
  std::unique_ptr<BackgroundProcess> process;
};

}  // namespace cosync::testing

// A test that needs the SMTP server says why it cannot run: reported, not passed in silence.
#define SKIP_WITHOUT_SMTP()                                                            \
  if (auto why = cosync::testing::smtp_unavailable(); !why.empty()) {                  \
    WARN("COSYNC-TEST-SKIPPED: SMTP test skipped: " + why);                            \
    return;                                                                            \
  }
