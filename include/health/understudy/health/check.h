// Health checks: what to probe and what a probe found. Checkers only report outcomes; the
// Tracker alone decides up/down (STYLE.md "Checkers report, one core decides").
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace understudy::health {

enum class CheckType : uint8_t { kHttp, kHttps, kTcp };

struct StatusRange {
  int low = 200;
  int high = 399;
  bool contains(int code) const { return code >= low && code <= high; }
  bool operator==(const StatusRange&) const = default;
};

// One named check definition from the config (`checks:`).
struct CheckSpec {
  std::string name;
  CheckType type = CheckType::kHttp;
  uint16_t port = 80;
  // HTTP(S) only.
  std::string path = "/";
  std::string method = "GET";  // GET or HEAD
  std::string host;            // Host header and TLS SNI; empty = the probed address
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<StatusRange> expect_status = {StatusRange{200, 399}};
  std::string expect_body;  // substring expected within the first 64 KiB; empty = no check
  bool tls_verify = true;
  std::string ca_file;  // empty = the system trust store
  // All types.
  std::chrono::milliseconds interval{5000};
  std::chrono::milliseconds timeout{2000};
  unsigned rise = 2;
  unsigned fall = 3;

  bool operator==(const CheckSpec&) const = default;
};

// What gets probed: a check applied to one address. Two pools naming the same address with the
// same check share one target (and one probe stream).
struct ProbeTarget {
  CheckSpec check;
  std::string address;  // numeric IPv4 or IPv6 (the endpoint's probe_address if it has one)

  bool operator==(const ProbeTarget&) const = default;
  // "web 192.0.2.10:8080" — for logs.
  std::string label() const;
};

// For hash tables of targets: the check's name, port and the address. Targets equal under ==
// hash alike; two checks of one name that differ elsewhere (an old and a new configuration)
// share a bucket and are told apart by ==.
struct ProbeTargetHash {
  size_t operator()(const ProbeTarget& t) const noexcept;
};

enum class OutcomeKind : uint8_t {
  kOk,
  kTimeout,        // no complete answer within the check's timeout
  kConnectFailed,  // refused, unreachable, reset before an answer
  kBadStatus,      // HTTP status outside expect_status
  kBodyMismatch,   // expect_body not found in the first 64 KiB
  kTlsError,       // handshake or certificate verification failed
  kError,          // anything else (protocol error, too many redirects, ...)
  // The probe could not be started here: out of descriptors (EMFILE/ENFILE), no memory, no free
  // local port, curl refusing the transfer. Or it could not be judged: its timeout was noticed
  // more than kLateThreshold (late_callbacks.h) after it fell due, the health thread having been
  // busy. Says nothing about the backend, so it never moves the Tracker: a loaded host must not
  // fail over healthy endpoints.
  kNotRun,
};

struct Outcome {
  OutcomeKind kind = OutcomeKind::kError;
  int http_status = 0;  // when an HTTP response arrived
  std::chrono::microseconds duration{0};
  std::string detail;  // e.g. "connection refused", "certificate verify failed"

  bool ok() const { return kind == OutcomeKind::kOk; }
  // Operator-facing words: "HTTP 503", "connect refused", "timeout 2000 ms",
  // "body did not contain 'OK'", "TLS: certificate verify failed".
  std::string describe(const CheckSpec& check) const;
  // Short metric label: "ok", "timeout", "connect_failed", "bad_status", "body_mismatch",
  // "tls_error", "error", "not_run".
  static const char* kindName(OutcomeKind kind);
};

// Runs one probe. Implementations call `done` exactly once, no later than the check's timeout
// (plus scheduling slack), on the prober's own executor. Never blocks.
class Prober {
 public:
  using Done = std::function<void(Outcome)>;
  virtual ~Prober() = default;
  virtual void probe(const ProbeTarget& target, Done done) = 0;
};

}  // namespace understudy::health
