#include "daemon/cli/metrics_config.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace cosync::app {

MetricsOptions read_metrics(const YamlNode& node) {
  node.expect_map().allow_only({"listen"});
  auto listen = node.get("listen");
  std::string text = listen.as_string();
  auto colon = text.rfind(':');
  if (colon == std::string::npos) listen.fail("expected ADDRESS:PORT, e.g. 127.0.0.1:9464");
  MetricsOptions o;
  o.enabled = true;
  o.address = text.substr(0, colon);
  if (o.address.size() > 2 && o.address.front() == '[' && o.address.back() == ']')
    o.address = o.address.substr(1, o.address.size() - 2);
  unsigned char ip[16];
  if (inet_pton(AF_INET, o.address.c_str(), ip) != 1 && inet_pton(AF_INET6, o.address.c_str(), ip) != 1)
    listen.fail("expected an IP address before the port (127.0.0.1, [::1]), got '" + o.address + "'");
  std::string_view port(text.data() + colon + 1, text.size() - colon - 1);
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), o.port);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size())
    listen.fail("expected a port number (0-65535) after the address, got '" + std::string(port) + "'");
  return o;
}

}  // namespace cosync::app
