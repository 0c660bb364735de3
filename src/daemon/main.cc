// understudy: authoritative DNS with health-checked failover. This file wires the modules:
// config -> zone::compile -> SnapshotHolder -> server, plus signals and sd_notify.
#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <cstdio>
#include <cstdlib>

#include "health/asio_prober.h"
#include "understudy/config/config.h"
#include "understudy/dns/name.h"
#include "understudy/failover/monitor.h"
#include "understudy/health/asio_timer_service.h"
#include "understudy/server/server.h"
#include "understudy/version.h"
#include "understudy/zone/compile.h"
#include "understudy/zone/snapshot_holder.h"

namespace understudy::daemon {
extern const char* const kDemoConfigYaml;
}

namespace {

using namespace understudy;

constexpr const char* kDefaultConfig = "/etc/understudy/understudy.yaml";

struct Loaded {
  std::shared_ptr<const config::Config> config_ptr;
  config::Config config;
  std::shared_ptr<const zone::Snapshot> snapshot;
  std::vector<Diagnostic> warnings;
};

// Load + validate + compile; throws ConfigError with every problem.
Loaded loadAll(const std::string& path, bool demo) {
  Loaded out;
  out.config =
      demo ? config::loadString(daemon::kDemoConfigYaml, "<demo config>") : config::loadFile(path);
  zone::ServingOptions options;
  options.edns_udp_size = out.config.server.edns_udp_size;
  out.snapshot = zone::compile(out.config.zones, options, &out.warnings);
  out.warnings.insert(out.warnings.begin(), out.config.warnings.begin(), out.config.warnings.end());
  out.config_ptr = std::make_shared<const config::Config>(out.config);
  return out;
}

std::string summary(const zone::Snapshot& s) {
  return std::to_string(s.zones().size()) + (s.zones().size() == 1 ? " zone, " : " zones, ") +
         std::to_string(s.recordCount()) + " records";
}

int runCheck(const std::string& path) {
  try {
    Loaded l = loadAll(path, false);
    for (const auto& w : l.warnings) std::fprintf(stderr, "warning: %s\n", w.str().c_str());
    std::printf("%s: OK, %s\n", path.c_str(), summary(*l.snapshot).c_str());
    for (const auto& z : l.snapshot->zones()) {
      std::printf("  zone %s: %zu records, %zu names\n", dns::nameToText(z->origin).c_str(),
                  z->record_count, z->nodes.size());
    }
    return 0;
  } catch (const ConfigError& e) {
    for (const auto& d : e.diagnostics()) std::fprintf(stderr, "error: %s\n", d.str().c_str());
    std::fprintf(stderr, "%s: %zu error%s\n", path.c_str(), e.diagnostics().size(),
                 e.diagnostics().size() == 1 ? "" : "s");
    return 1;
  }
}

void setupLogging(const std::string& level) {
  auto logger = spdlog::stderr_logger_mt("understudy");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(level));
}

server::ServerOptions serverOptions(const config::ServerConfig& c) {
  server::ServerOptions o;
  for (const auto& l : c.listen) o.listen.push_back({l.address, l.port});
  o.threads = c.threads;
  o.tcp_idle_timeout = c.tcp_idle_timeout;
  o.tcp_max_connections = c.tcp_max_connections;
  return o;
}

bool sameListen(const config::ServerConfig& a, const config::ServerConfig& b) {
  if (a.listen.size() != b.listen.size() || a.threads != b.threads) return false;
  for (size_t i = 0; i < a.listen.size(); ++i) {
    if (a.listen[i].address != b.listen[i].address || a.listen[i].port != b.listen[i].port)
      return false;
  }
  return a.tcp_idle_timeout == b.tcp_idle_timeout && a.tcp_max_connections == b.tcp_max_connections;
}

int runServer(const std::string& path, bool demo) {
  Loaded loaded;
  try {
    loaded = loadAll(path, demo);
  } catch (const ConfigError& e) {
    setupLogging("info");
    for (const auto& d : e.diagnostics()) spdlog::critical("config error: {}", d.str());
    spdlog::critical("not starting: {} has {} error(s)", demo ? "<demo config>" : path,
                     e.diagnostics().size());
    return 1;
  }
  setupLogging(loaded.config.log.level);
  for (const auto& w : loaded.warnings) spdlog::warn("config: {}", w.str());
  spdlog::info("understudy {} starting with {}", UNDERSTUDY_VERSION,
               demo ? "the embedded demo config" : path);

  zone::SnapshotHolder holder;
  boost::asio::io_context control;  // the control thread: signals, health checks, reloads
  health::AsioTimerService timers(control);
  health::AsioProber prober(control);
  uint64_t seed =
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  auto monitor = std::make_unique<failover::Monitor>(timers, prober, loaded.config_ptr,
                                                     loaded.snapshot, holder, seed);
  auto statusLine = [&] {
    auto snap = holder.current();
    std::string status = "serving " + summary(*snap);
    if (!monitor->controller().targets().empty()) {
      status += ", " + std::to_string(monitor->upCount()) + "/" +
                std::to_string(monitor->controller().targets().size()) + " endpoints up";
    }
    return status;
  };
  monitor->on_publish = [&] { sd_notifyf(0, "STATUS=%s", statusLine().c_str()); };

  // One round of probes before the first answer, bounded by the longest timeout, so a restart
  // never fails over (or serves a dead endpoint) by accident.
  if (!monitor->controller().targets().empty()) {
    monitor->start();
    auto deadline = std::chrono::steady_clock::now() + monitor->longestTimeout() +
                    std::chrono::milliseconds(500);
    while (!monitor->firstRoundDone() && std::chrono::steady_clock::now() < deadline) {
      control.run_one_until(deadline);
    }
    spdlog::info("first health round done: {}/{} endpoints up", monitor->upCount(),
                 monitor->controller().targets().size());
  }
  monitor->publish();
  server::Server server(serverOptions(loaded.config.server), holder);
  try {
    server.start();
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
  for (const auto& b : server.bound()) spdlog::info("listening on {} {}", b.protocol, b.address);
  spdlog::info("ready: {}", statusLine());
  sd_notifyf(0, "READY=1\nSTATUS=%s", statusLine().c_str());

  config::ServerConfig running_server = loaded.config.server;
  boost::asio::signal_set signals(control, SIGINT, SIGTERM, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> onSignal =
      [&](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        if (signo == SIGHUP) {
          spdlog::info("SIGHUP: reloading {}", demo ? "the embedded demo config" : path);
          try {
            Loaded next = loadAll(path, demo);
            for (const auto& w : next.warnings) spdlog::warn("config: {}", w.str());
            if (!sameListen(running_server, next.config.server)) {
              spdlog::warn(
                  "reload: server settings (listen, threads, tcp) changed; they apply at the "
                  "next restart, zones are reloaded now");
            }
            spdlog::set_level(spdlog::level::from_str(next.config.log.level));
            auto next_monitor = std::make_unique<failover::Monitor>(timers, prober, next.config_ptr,
                                                                    next.snapshot, holder, ++seed);
            // Unchanged checks keep their measured state: no new start-up round, no false
            // failover. New targets start counted as up until their first probe says otherwise.
            next_monitor->adoptStateFrom(*monitor);
            next_monitor->on_publish = monitor->on_publish;
            monitor = std::move(next_monitor);
            monitor->start();
            monitor->publish();
            spdlog::info("reload done: {}", statusLine());
          } catch (const ConfigError& e) {
            for (const auto& d : e.diagnostics()) spdlog::error("reload failed: {}", d.str());
            spdlog::error("reload failed: keeping the running configuration");
          }
          signals.async_wait(onSignal);
          return;
        }
        spdlog::info("received {}, stopping", signo == SIGTERM ? "SIGTERM" : "SIGINT");
        sd_notify(0, "STOPPING=1");
        control.stop();
      };
  signals.async_wait(onSignal);
  control.run();
  server.stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"understudy: authoritative DNS with health-checked failover"};
  app.set_version_flag("-V,--version", std::string("understudy ") + UNDERSTUDY_VERSION);
  std::string config_path = kDefaultConfig;
  bool demo = false;
  app.add_option("-c,--config", config_path, "configuration file")->capture_default_str();
  app.add_flag("--demo", demo,
               "run the embedded demo configuration (zone demo.test on "
               "127.0.0.1:5353)");
  auto* check = app.add_subcommand("check", "validate a configuration file and exit");
  std::string check_path = kDefaultConfig;
  check->add_option("-c,--config", check_path, "configuration file")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (*check) return runCheck(check_path);
  return runServer(config_path, demo);
}
