#include "understudy/common/host_port.h"

namespace understudy {

std::string hostPort(std::string_view host, std::string_view port) {
  std::string out;
  out.reserve(host.size() + port.size() + 3);
  const bool v6 = host.find(':') != std::string_view::npos;
  if (v6) out += '[';
  out += host;
  if (v6) out += ']';
  out += ':';
  out += port;
  return out;
}

std::string hostPort(std::string_view host, uint16_t port) {
  return hostPort(host, std::to_string(port));
}

}  // namespace understudy
