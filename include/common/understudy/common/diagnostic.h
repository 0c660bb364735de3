// Diagnostics for the control plane: every configuration problem names the file, the line, the
// column and the key path, so an operator can jump straight to it.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace understudy {

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based; 0 = unknown
};

struct Diagnostic {
  SourceLocation where;
  std::string key;  // e.g. "zones[0].records[3].value"; may be empty
  std::string message;

  // A real constructor rather than aggregate initialisation: GCC 12 at -O3 reports
  // maybe-uninitialized false positives for brace-initialised temporaries holding strings.
  Diagnostic() = default;
  Diagnostic(SourceLocation w, std::string k, std::string m)
      : where(std::move(w)), key(std::move(k)), message(std::move(m)) {}

  // "demo.yaml:12:14: zones[0].records[3].value: not a valid IPv4 address '192.0.2.300'"
  std::string str() const {
    std::string out = where.file.empty() ? std::string("<config>") : where.file;
    if (where.line > 0) {
      out += ':' + std::to_string(where.line);
      if (where.column > 0) out += ':' + std::to_string(where.column);
    }
    out += ": ";
    if (!key.empty()) out += key + ": ";
    out += message;
    return out;
  }
};

// Thrown by config loading and zone compilation. Carries every error found, not only the first.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<Diagnostic> diagnostics)
      : std::runtime_error(join(diagnostics)), diagnostics_(std::move(diagnostics)) {}
  explicit ConfigError(Diagnostic d) : ConfigError(std::vector<Diagnostic>{std::move(d)}) {}

  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  static std::string join(const std::vector<Diagnostic>& ds) {
    std::string out;
    for (const auto& d : ds) {
      if (!out.empty()) out += '\n';
      out += d.str();
    }
    return out;
  }
  std::vector<Diagnostic> diagnostics_;
};

// At most this many diagnostics of one kind are reported; a last line says how many more there
// were. A mistake repeated a million times (a shared record list, a generated zone) is then a
// page of output, not a million lines and the memory to hold them.
inline constexpr size_t kMaxReportedDiagnostics = 100;

// `ds` cut to kMaxReportedDiagnostics, plus "N more <what> not shown" at the first dropped one's
// file when any were dropped.
inline std::vector<Diagnostic> reportable(std::vector<Diagnostic> ds, const char* what) {
  if (ds.size() <= kMaxReportedDiagnostics) return ds;
  std::string message = std::to_string(ds.size() - kMaxReportedDiagnostics);
  message += " more ";
  message += what;
  message += " not shown";
  SourceLocation where{ds[kMaxReportedDiagnostics].where.file, 0, 0};
  ds.resize(kMaxReportedDiagnostics);
  ds.push_back(Diagnostic{std::move(where), "", std::move(message)});
  return ds;
}

}  // namespace understudy
