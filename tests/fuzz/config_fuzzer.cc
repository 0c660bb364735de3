// The YAML config loader, followed by zone compilation (what `understudy check` and a reload run):
// every input yields a Config or a ConfigError. Any other exception escapes to libFuzzer and is
// reported as a crash, as are sanitizer reports, hangs and runaway memory.
//
// Relative `include:`/`file:`/`ca_file:` paths resolve against tests/fuzz/config_base/, which
// holds a few small files to include. The loader reads whatever files the operator names, by
// design, so inputs that could name a device, a FIFO or a glob over the whole file system are
// skipped: YAML escapes (which can spell any path), "/dev", "/proc", "/sys", "/run", "/tmp",
// and glob characters together with a '/'.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ldns_known_bugs.h"
#include "understudy/common/diagnostic.h"
#include "understudy/config/config.h"
#include "understudy/zone/compile.h"

using namespace understudy;

namespace {

bool safePaths(std::string_view text) {
  if (text.find('\\') != std::string_view::npos) return false;
  for (std::string_view bad : {"/dev", "/proc", "/sys", "/run", "/tmp"}) {
    if (text.find(bad) != std::string_view::npos) return false;
  }
  // A glob that could walk the file system: '*' or '?' on a line with a '/', or a '[' after one.
  while (!text.empty()) {
    std::string_view line = text.substr(0, text.find('\n'));
    text.remove_prefix(std::min(text.size(), line.size() + 1));
    size_t slash = line.find('/');
    if (slash == std::string_view::npos) continue;
    if (line.find_first_of("*?") != std::string_view::npos) return false;
    if (line.find('[', slash) != std::string_view::npos) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return -1;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (!safePaths(text)) return -1;
  if (fuzz::mayReachLdnsCertLeak(text)) return -1;
  static const std::string base = std::string(UNDERSTUDY_FUZZ_DIR) + "/config_base";
  try {
    config::Config cfg = config::loadString(text, base + "/fuzz.yaml", base);
    zone::ServingOptions options = config::servingOptions(cfg.server);
    std::vector<Diagnostic> warnings;
    auto snapshot = zone::compile(cfg.zones, options, &warnings);
    if (!snapshot) __builtin_trap();
  } catch (const ConfigError& e) {
    // Every diagnostic must say where: at least the file.
    for (const auto& d : e.diagnostics()) {
      if (d.where.file.empty() || d.message.empty()) __builtin_trap();
    }
  }
  return 0;
}
