#include "understudy/health/check.h"

#include "understudy/common/host_port.h"

namespace understudy::health {

std::string ProbeTarget::label() const {
  return check.name + " " + hostPort(address, check.port);
}

const char* Outcome::kindName(OutcomeKind kind) {
  switch (kind) {
    case OutcomeKind::kOk:
      return "ok";
    case OutcomeKind::kTimeout:
      return "timeout";
    case OutcomeKind::kConnectFailed:
      return "connect_failed";
    case OutcomeKind::kBadStatus:
      return "bad_status";
    case OutcomeKind::kBodyMismatch:
      return "body_mismatch";
    case OutcomeKind::kTlsError:
      return "tls_error";
    case OutcomeKind::kError:
      return "error";
    case OutcomeKind::kNotRun:
      return "not_run";
  }
  return "error";
}

std::string Outcome::describe(const CheckSpec& check) const {
  switch (kind) {
    case OutcomeKind::kOk:
      return http_status ? "HTTP " + std::to_string(http_status) : "ok";
    case OutcomeKind::kTimeout:
      return "timeout " + std::to_string(check.timeout.count()) + " ms";
    case OutcomeKind::kConnectFailed: {
      // "connect refused" reads better than "connect connection refused".
      std::string d = detail.empty() ? "failed" : detail;
      if (d.rfind("connection ", 0) == 0) d = d.substr(11);
      return "connect " + d;
    }
    case OutcomeKind::kBadStatus:
      return "HTTP " + std::to_string(http_status);
    case OutcomeKind::kBodyMismatch:
      return "body did not contain '" + check.expect_body + "'";
    case OutcomeKind::kTlsError:
      return "TLS: " + (detail.empty() ? std::string("handshake failed") : detail);
    case OutcomeKind::kError:
      return detail.empty() ? std::string("probe error") : detail;
    case OutcomeKind::kNotRun:
      return "probe not run: " + (detail.empty() ? std::string("local error") : detail);
  }
  return "probe error";
}

size_t ProbeTargetHash::operator()(const ProbeTarget& t) const noexcept {
  size_t h = std::hash<std::string>{}(t.address);
  h ^= std::hash<std::string>{}(t.check.name) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h ^= static_cast<size_t>(t.check.port) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

}  // namespace understudy::health
