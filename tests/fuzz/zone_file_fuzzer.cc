// Zone-file import (our RFC 1035 master-file reader; ldns for the RDATA of the less common types)
// followed by zone compilation: every input yields records or a ConfigError naming the file and a
// line. The input is written to a temporary file, as importZoneFile reads from a path.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ldns_known_bugs.h"
#include "understudy/common/diagnostic.h"
#include "understudy/zone/compile.h"
#include "understudy/zone/record.h"

using namespace understudy;

namespace {

std::string g_path;

const std::string& tempPath() {
  const char* dir = std::getenv("TMPDIR");
  g_path = std::string(dir && *dir ? dir : "/tmp") + "/understudy-zone-fuzz-XXXXXX";
  int fd = ::mkstemp(g_path.data());
  if (fd < 0) std::abort();
  ::close(fd);
  std::atexit([] { ::unlink(g_path.c_str()); });
  return g_path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = tempPath();
  if (size > 64 * 1024) return -1;
  // CERT RDATA still goes to ldns (parseRdata).
  if (fuzz::mayReachLdnsCertLeak(std::string_view(reinterpret_cast<const char*>(data), size)))
    return -1;
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC);
  if (fd < 0) std::abort();
  for (size_t done = 0; done < size;) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) std::abort();
    done += static_cast<size_t>(n);
  }
  ::close(fd);

  static const std::string origin("\4fuzz\4test\0", 11);
  zone::ZoneSource source;
  source.origin = origin;
  source.where.file = path;
  try {
    source.records = zone::importZoneFile(path, origin, 3600);
  } catch (const ConfigError& e) {
    // Exactly one error, at a line of the file just written (only open/read errors have none).
    if (e.diagnostics().size() != 1) __builtin_trap();
    const Diagnostic& d = e.diagnostics().front();
    if (d.where.file != path || d.where.line <= 0 || d.message.empty()) __builtin_trap();
    return 0;
  }
  try {
    zone::ServingOptions options;
    std::vector<Diagnostic> warnings;
    auto snapshot = zone::compile({source}, options, &warnings);
    if (!snapshot) __builtin_trap();
  } catch (const ConfigError& e) {
    for (const auto& d : e.diagnostics()) {
      if (d.where.file.empty() || d.message.empty()) __builtin_trap();
    }
  }
  return 0;
}
