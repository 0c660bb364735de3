// The running daemon: wires config -> zone -> failover -> server, and owns the control thread
// (signals, health checks, reload application, sd_notify and the systemd watchdog).
#pragma once

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio.hpp>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "health/asio_prober.h"
#include "understudy/config/config.h"
#include "understudy/control/control_server.h"
#include "understudy/control/sources.h"
#include "understudy/failover/monitor.h"
#include "understudy/health/asio_timer_service.h"
#include "understudy/notify/notifier.h"
#include "understudy/server/server.h"
#include "understudy/zone/snapshot_holder.h"

namespace understudy::daemon {

// A validated, compiled configuration, ready to be applied.
struct Loaded {
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<const zone::Snapshot> snapshot;
  std::vector<Diagnostic> warnings;
};

// Load + validate + compile. Throws ConfigError listing every problem. `yaml` non-null means
// "this text instead of the file" (the embedded demo).
Loaded loadAll(const std::string& path, const char* yaml);

std::string summary(const zone::Snapshot& snapshot);

class Daemon : private control::Sources {
 public:
  Daemon(std::string path, const char* embedded_yaml);
  ~Daemon() override;

  // Runs until SIGTERM/SIGINT; returns the process exit code.
  int run();

 private:
  std::string source() const;
  void waitForSignal();
  void startReload(const char* trigger);
  bool startControl(const config::ControlConfig& config);

  // control::Sources: what the control endpoint reads and steers (control thread only).
  failover::Monitor* monitor() override { return monitor_.get(); }
  const zone::SnapshotHolder& snapshots() const override { return holder_; }
  const server::Server* server() const override { return server_.get(); }
  const notify::Notifier* notifier() const override { return notifier_.get(); }
  control::ReloadCounts reloads() const override { return {reloads_ok_, reloads_failed_}; }
  void reload(const char* trigger) override;
  void applyReload(std::shared_ptr<Loaded> next, std::vector<Diagnostic> errors);
  void waitForPendingMonitor();
  void finishReload();
  void startWatchdog();
  void watchdogTick();
  std::string statusLine() const;
  void notify(const std::string& state) const;

  std::string path_;
  const char* embedded_yaml_;
  boost::asio::io_context control_;
  boost::asio::signal_set signals_{control_, SIGINT, SIGTERM, SIGHUP};
  std::optional<boost::asio::steady_timer> watchdog_;
  std::chrono::microseconds watchdog_interval_{0};
  zone::SnapshotHolder holder_;
  health::AsioTimerService timers_{control_};
  std::unique_ptr<health::AsioProber> prober_;
  std::shared_ptr<failover::OverrideStore> overrides_ = std::make_shared<failover::OverrideStore>();
  std::unique_ptr<notify::Notifier> notifier_;
  std::unique_ptr<failover::Monitor> monitor_;
  // After a reload that adds targets: the next monitor, probing, until its first round is in.
  std::unique_ptr<failover::Monitor> pending_monitor_;
  std::chrono::steady_clock::time_point pending_deadline_;
  std::optional<boost::asio::steady_timer> pending_timer_;
  std::unique_ptr<server::Server> server_;
  config::ServerConfig running_server_;
  uint64_t seed_ = 0;
  // Reloads are loaded and compiled on this thread, applied on the control thread.
  std::thread reload_thread_;
  bool reloading_ = false;
  bool reload_again_ = false;  // a SIGHUP arrived during a reload: run one more afterwards
  uint64_t reloads_ok_ = 0;
  uint64_t reloads_failed_ = 0;
  // Last member: closed before anything it reads is destroyed.
  std::unique_ptr<control::ControlServer> control_server_;
};

}  // namespace understudy::daemon
