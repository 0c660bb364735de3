// understudy: authoritative DNS with health-checked failover. Command line and logging set-up;
// the daemon itself lives in daemon.cc.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <cstdio>

#include "daemon.h"
#include "understudy/dns/name.h"
#include "understudy/version.h"

namespace understudy::daemon {
extern const char* const kDemoConfigYaml;
}

namespace {

using namespace understudy;

constexpr const char* kDefaultConfig = "/etc/understudy/understudy.yaml";

int runCheck(const std::string& path) {
  try {
    daemon::Loaded l = daemon::loadAll(path, nullptr);
    for (const auto& w : l.warnings) std::fprintf(stderr, "warning: %s\n", w.str().c_str());
    std::printf("%s: OK, %s\n", path.c_str(), daemon::summary(*l.snapshot).c_str());
    for (const auto& z : l.snapshot->zones()) {
      std::printf("  zone %s: %zu records, %zu names\n", dns::nameToText(z->origin).c_str(),
                  z->record_count, z->nodes.size());
    }
    if (!l.config->pools.empty()) {
      std::printf("  %zu checks, %zu pools, %zu pooled records\n", l.config->checks.size(),
                  l.config->pools.size(), l.config->pool_records.size());
    }
    return 0;
  } catch (const ConfigError& e) {
    for (const auto& d : e.diagnostics()) std::fprintf(stderr, "error: %s\n", d.str().c_str());
    std::fprintf(stderr, "%s: %zu error%s\n", path.c_str(), e.diagnostics().size(),
                 e.diagnostics().size() == 1 ? "" : "s");
    return 1;
  }
}

void setupLogging() {
  auto logger = spdlog::stderr_logger_mt("understudy");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  // Every line is complete when written, so the journal never sees half a line.
  spdlog::flush_on(spdlog::level::trace);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"understudy: authoritative DNS with health-checked failover"};
  app.set_version_flag("-V,--version", std::string("understudy ") + UNDERSTUDY_VERSION);
  std::string config_path = kDefaultConfig;
  bool demo = false;
  app.add_option("-c,--config", config_path, "configuration file")->capture_default_str();
  app.add_flag("--demo", demo,
               "run the embedded demo configuration (zone demo.test on 127.0.0.1:5353)");
  auto* check = app.add_subcommand("check", "validate a configuration file and exit");
  std::string check_path = kDefaultConfig;
  check->add_option("-c,--config", check_path, "configuration file")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (*check) return runCheck(check_path);
  setupLogging();
  daemon::Daemon d(config_path, demo ? daemon::kDemoConfigYaml : nullptr);
  return d.run();
}
