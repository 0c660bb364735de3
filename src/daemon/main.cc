// understudy: authoritative DNS with health-checked failover. Command line and logging set-up;
// the daemon itself lives in daemon.cc.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "daemon.h"
#include "understudy/control/ctl.h"
#include "understudy/control/log_format.h"
#include "understudy/dns/name.h"
#include "understudy/dnssec/keys.h"
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
                  z->record_count, z->nodes().size());
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

// understudy keygen ZONE: a CSK into `dir`, then what the operator needs: the files, the DNSKEY
// and the DS to give the parent zone.
int runKeygen(const std::string& zone, const std::string& algorithm_text, const std::string& dir) {
  int algorithm = -1;
  if (algorithm_text == "13" || algorithm_text == "ECDSAP256SHA256") algorithm = 13;
  if (algorithm_text == "15" || algorithm_text == "ED25519") algorithm = 15;
  if (algorithm < 0) {
    std::fprintf(stderr, "error: --algorithm %s: use 13 (ECDSAP256SHA256) or 15 (ED25519)\n",
                 algorithm_text.c_str());
    return 1;
  }
  try {
    dnssec::GeneratedKey k = dnssec::generateCsk(zone, static_cast<uint8_t>(algorithm), dir);
    std::printf("; wrote %s\n", k.key_path.c_str());
    std::printf("; wrote %s (mode 0600)\n", k.private_path.c_str());
    std::printf("; DNSKEY (CSK, key tag %u, algorithm %d %s):\n", k.tag, algorithm,
                dnssec::algorithmName(static_cast<uint8_t>(algorithm)).c_str());
    std::printf("%s\n", k.dnskey.c_str());
    std::printf("; DS for the parent zone (SHA-256):\n");
    std::printf("%s\n", k.ds.c_str());
    return 0;
  } catch (const dnssec::KeyError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

void setupLogging() {
  auto logger = spdlog::stderr_logger_mt("understudy");
  spdlog::set_default_logger(logger);
  control::setLogFormat("text");  // until the config says otherwise
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

  // understudy ctl [-c CONFIG | --url URL] [--token-file F] COMMAND ...
  auto* ctl = app.add_subcommand("ctl", "talk to a running daemon through its control endpoint");
  control::CtlOptions ctl_options;
  ctl_options.config_path = kDefaultConfig;
  ctl->add_option("-c,--config", ctl_options.config_path,
                  "configuration file to take control.listen and control.token_file from")
      ->capture_default_str();
  ctl->add_option("--url", ctl_options.url, "control endpoint, e.g. http://127.0.0.1:8053");
  ctl->add_option("--token-file", ctl_options.token_file, "bearer token for changes");
  ctl->add_flag("--json", ctl_options.json, "print the server's JSON instead of tables");
  ctl->require_subcommand(1);
  ctl->add_subcommand("status", "pools, endpoints, health and answers");
  auto* explain = ctl->add_subcommand("explain", "what NAME TYPE is answered now, and why");
  std::string explain_name, explain_type = "A";
  explain->add_option("NAME", explain_name, "owner name")->required();
  explain->add_option("TYPE", explain_type, "record type")->capture_default_str();
  ctl->add_subcommand("reload", "reload the configuration (as SIGHUP)");
  std::string pool, endpoint;
  struct Action {
    const char* name;
    const char* help;
    bool timed;
  };
  const Action actions[] = {
      {"drain", "treat ENDPOINT as down for answers (still probed)", true},
      {"undrain", "remove the override on ENDPOINT (same as clear)", false},
      {"force-down", "treat ENDPOINT as down: a failover drill", true},
      {"force-up", "treat ENDPOINT as up whatever the probes say", true},
      {"clear", "remove the override on ENDPOINT", false},
  };
  for (const auto& a : actions) {
    auto* sub = ctl->add_subcommand(a.name, a.help);
    sub->add_option("POOL", pool, "pool name")->required();
    sub->add_option("ENDPOINT", endpoint, "endpoint address as answered")->required();
    if (a.timed) sub->add_option("--for", ctl_options.duration, "expire after e.g. 30s, 10m, 2h");
  }

  // understudy keygen ZONE [--algorithm 13|15] [--dir DIR]
  auto* keygen = app.add_subcommand(
      "keygen", "generate a DNSSEC combined signing key (CSK) and print its DNSKEY and DS");
  std::string keygen_zone, keygen_dir = ".";
  std::string keygen_algorithm = "13";
  keygen->add_option("ZONE", keygen_zone, "zone name, e.g. example.com")->required();
  keygen->add_option("-a,--algorithm", keygen_algorithm, "13 (ECDSAP256SHA256) or 15 (ED25519)")
      ->capture_default_str();
  keygen->add_option("-d,--dir", keygen_dir, "directory to write the key files into")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (*keygen) return runKeygen(keygen_zone, keygen_algorithm, keygen_dir);

  if (*check) return runCheck(check_path);
  if (*ctl) {
    ctl_options.config_given = ctl->get_option("--config")->count() > 0;
    ctl_options.command = ctl->get_subcommands().front()->get_name();
    if (ctl_options.command == "explain") {
      ctl_options.args = {explain_name, explain_type};
    } else if (!pool.empty()) {
      ctl_options.args = {pool, endpoint};
    }
    return control::runCtl(ctl_options);
  }
  setupLogging();
  int rc = 0;
  {
    daemon::Daemon d(config_path, demo ? daemon::kDemoConfigYaml : nullptr);
    rc = d.run();
  }
  // A reload abandoned for overrunning its time limit may still be blocked in a read (or still
  // compiling). Static destructors must not run under it, and nothing may wait for it: leave
  // now. (Every log line is already flushed: flush_on(trace).)
  if (daemon::ReloadWorker::threadsRunning() > 0) std::_Exit(rc);
  return rc;
}
