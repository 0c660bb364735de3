// The running daemon: wires config -> zone -> failover -> server. It owns the health thread (the
// one run() runs on: signals, health checks, reload application, sd_notify and the systemd
// watchdog) and the control endpoint's thread, which reads only the Status the health thread
// publishes (issue 12).
#pragma once

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <atomic>
#include <boost/asio.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "lifecycle.h"
#include "loaded.h"
#include "reload_worker.h"
#include "understudy/config/config.h"
#include "understudy/control/control_server.h"
#include "understudy/control/sources.h"
#include "understudy/failover/monitor.h"
#include "understudy/health/asio_prober.h"
#include "understudy/health/asio_timer_service.h"
#include "understudy/health/shared_prober.h"
#include "understudy/notify/notifier.h"
#include "understudy/server/server.h"
#include "understudy/zone/snapshot_holder.h"

namespace understudy::daemon {

class Daemon : private control::Sources {
 public:
  Daemon(std::string path, const char* embedded_yaml);
  ~Daemon() override;

  // Runs until SIGTERM/SIGINT; returns the process exit code.
  int run();

 private:
  std::string source() const;
  void waitForSignal();
  bool startControl(const config::ControlConfig& config);

  // The lifecycle (lifecycle.h): every event goes through dispatch(), which logs the step and
  // performs its action. Control thread only.
  Step dispatch(Event event, std::string_view trigger = {});
  void startReload(const std::string& trigger);
  void onReloadLoaded(std::shared_ptr<Loaded> next, std::vector<Diagnostic> errors);
  void onReloadTimedOut();
  void reportReloadFailure(const std::vector<std::string>& errors);
  void applyReload(std::shared_ptr<Loaded> next);
  void waitForPendingMonitor();
  void reloadDone();
  void stopServing();
  void drainTick();

  // control::Sources, called on the control thread: reads of published state, and writes
  // posted to the health thread.
  std::shared_ptr<const control::Status> status() const override;
  const zone::SnapshotHolder& snapshots() const override { return holder_; }
  // Set before the control thread starts and reset after it stopped.
  const server::Server* server() const override { return server_.get(); }
  void changeOverride(
      failover::OverrideChange change,
      std::function<void(std::optional<failover::OverrideChangeResult>)> done) override;
  void reload(std::string trigger, std::function<void(control::ReloadAnswer)> done) override;

  // On the health thread.
  control::ReloadAnswer requestReload(const char* trigger);
  void watchStatus(failover::Monitor& monitor);
  void publishStatus();
  void statusTick();
  void startControlThread();
  void stopControlThread();

  void startWatchdog();
  void watchdogTick();
  void trimTick();
  std::string statusLine() const;
  void notify(const std::string& state) const;

  std::string path_;
  const char* embedded_yaml_;
  // The control endpoint's loop. Declared before the health loop so that it outlives it: a write
  // still queued on the health loop when the daemon ends refers to it.
  boost::asio::io_context control_io_;
  std::thread control_thread_;
  boost::asio::io_context health_;
  boost::asio::signal_set signals_{health_, SIGINT, SIGTERM, SIGHUP};
  Lifecycle lifecycle_;
  std::optional<boost::asio::steady_timer> watchdog_;
  std::chrono::microseconds watchdog_interval_{0};
  zone::SnapshotHolder holder_;
  health::AsioTimerService timers_{health_};
  std::unique_ptr<health::AsioProber> prober_;
  // What every monitor probes through: a reload runs the old and the new monitor side by side,
  // and a target they share must never get two probes at once.
  std::unique_ptr<health::SharedProber> shared_prober_;
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
  // Reloads are loaded and compiled on the worker, applied on the control thread.
  ReloadWorker worker_{health_};
  uint64_t reloads_ok_ = 0;
  uint64_t reloads_failed_ = 0;
  // Stopping: how long webhooks still on their way may take.
  std::optional<boost::asio::steady_timer> drain_timer_;
  std::chrono::steady_clock::time_point drain_deadline_;
  // Compiled zone sets released so far (by any thread), and how many the last trim saw.
  std::shared_ptr<std::atomic<uint64_t>> zones_freed_ = std::make_shared<std::atomic<uint64_t>>(0);
  uint64_t zones_freed_seen_ = 0;
  std::optional<boost::asio::steady_timer> trim_timer_;
  // What the control endpoint shows: the latest failover status plus the daemon's counters.
  control::StatusHolder status_;
  std::shared_ptr<const failover::StatusSnapshot> failover_status_;
  std::optional<boost::asio::steady_timer> status_timer_;
  // Last member: closed before anything it reads is destroyed.
  std::unique_ptr<control::ControlServer> control_server_;
};

}  // namespace understudy::daemon
