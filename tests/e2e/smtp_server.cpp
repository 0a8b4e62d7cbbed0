#include "tests/e2e/smtp_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace cosync::testing {

namespace {

// Debian's python3-aiosmtpd is installed for the system interpreter.
constexpr const char* kPython = "/usr/bin/python3";

bool port_accepts(unsigned short port) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
  return !ec;
}

}  // namespace

std::string smtp_unavailable() {
  if (std::system((std::string(kPython) + " -c 'import aiosmtpd' >/dev/null 2>&1").c_str()) != 0)
    return "python3-aiosmtpd is not installed for " + std::string(kPython) + " (scripts/install-deps.sh installs it)";
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) return "the openssl command is missing";
  return "";
}

unsigned short free_smtp_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

bool make_certificate(const TempDir& dir, const std::string& name) {
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -addext "
                    "subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " + dir.file(name + ".key") + " -out " +
                    dir.file(name + ".pem") + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

SmtpServer::SmtpServer(const TempDir& dir, const std::string& tls, unsigned short port)
    : maildir(dir.file("maildir")), port(port) {
  std::vector<std::string> argv = {kPython, "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + std::to_string(port)};
  bool implicit = tls == "smtps";
  for (const auto& a : {implicit ? "--smtpscert" : "--tlscert", "", implicit ? "--smtpskey" : "--tlskey", ""})
    argv.push_back(a);
  argv[argv.size() - 3] = dir.file("server.pem");
  argv[argv.size() - 1] = dir.file("server.key");
  for (const auto& a : {"-c", "aiosmtpd.handlers.Mailbox"}) argv.push_back(a);
  argv.push_back(maildir);
  process = std::make_unique<BackgroundProcess>(argv, dir.file("aiosmtpd-" + std::to_string(port) + ".log"));
  for (int i = 0; i < 100 && !port_accepts(port); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

bool SmtpServer::accepting() const { return port_accepts(port); }

std::vector<std::string> SmtpServer::messages() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(maildir + "/new", ec)) {
    std::ifstream in(e.path());
    std::stringstream text;
    text << in.rdbuf();
    out.push_back(text.str());
  }
  return out;
}

}  // namespace cosync::testing
