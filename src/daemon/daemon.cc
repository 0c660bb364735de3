#include "daemon.h"

#include <malloc.h>

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <unistd.h>
#include <cstdio>
#include <cstdlib>

#include "open_files_limit.h"
#include "understudy/control/log_format.h"
#include "understudy/control/run_loop.h"
#include "understudy/dns/name.h"
#include "understudy/version.h"

namespace understudy::daemon {

namespace {

server::ServerOptions serverOptions(const config::ServerConfig& c) {
  server::ServerOptions o;
  for (const auto& l : c.listen) o.listen.push_back({l.address, l.port});
  o.threads = c.threads;
  o.tcp_idle_timeout = c.tcp_idle_timeout;
  o.tcp_max_connections = c.tcp_max_connections;
  o.rrl.enabled = c.rrl.enabled;
  o.rrl.responses_per_second = c.rrl.responses_per_second;
  o.rrl.slip = c.rrl.slip;
  o.rrl.ipv4_prefix = c.rrl.ipv4_prefix;
  o.rrl.ipv6_prefix = c.rrl.ipv6_prefix;
  for (const auto& text : c.rrl.exempt) {
    server::NetworkPrefix p;
    if (server::NetworkPrefix::parse(text, &p)) o.rrl.exempt.push_back(p);  // validated on load
  }
  return o;
}

bool sameServerSettings(const config::ServerConfig& a, const config::ServerConfig& b) {
  if (a.listen.size() != b.listen.size() || a.threads != b.threads) return false;
  for (size_t i = 0; i < a.listen.size(); ++i) {
    if (a.listen[i].address != b.listen[i].address || a.listen[i].port != b.listen[i].port) {
      return false;
    }
  }
  return a.tcp_idle_timeout == b.tcp_idle_timeout && a.tcp_max_connections == b.tcp_max_connections;
}

// Resident set size from /proc/self/statm, in bytes (0 if unreadable).
uint64_t residentBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long pages = 0, resident = 0;
  int n = std::fscanf(f, "%lu %lu", &pages, &resident);
  std::fclose(f);
  return n == 2 ? static_cast<uint64_t>(resident) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE))
                : 0;
}

std::string describeRrl(const config::RrlSettings& r) {
  if (!r.enabled) return "off";
  std::string out = "on: " + std::to_string(r.responses_per_second) + " responses/s per /" +
                    std::to_string(r.ipv4_prefix) + " (IPv4) or /" + std::to_string(r.ipv6_prefix) +
                    " (IPv6), slip " + std::to_string(r.slip);
  if (!r.exempt.empty()) out += ", " + std::to_string(r.exempt.size()) + " exempt prefix(es)";
  return out;
}

uint64_t monotonicUsec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

}  // namespace

Daemon::Daemon(std::string path, const char* embedded_yaml)
    : path_(std::move(path)), embedded_yaml_(embedded_yaml) {}

Daemon::~Daemon() {
  stopControlThread();
  // A reload still loading is abandoned, never waited for (ReloadWorker): its file may never
  // answer.
  worker_.abandon();
}

std::string Daemon::source() const {
  return embedded_yaml_ ? std::string("the embedded demo config") : path_;
}

std::string Daemon::statusLine() const {
  auto snap = holder_.current();
  std::string status = snap ? "serving " + summary(*snap) : std::string("starting");
  if (monitor_ && !monitor_->controller().targets().empty()) {
    status += ", " + std::to_string(monitor_->upCount()) + "/" +
              std::to_string(monitor_->controller().targets().size()) + " endpoints up";
  }
  return status;
}

void Daemon::notify(const std::string& state) const {
  // A no-op unless NOTIFY_SOCKET is set (systemd Type=notify).
  sd_notify(0, state.c_str());
}

int Daemon::run() {
  // Every block of 1 MiB or more gets a mapping of its own, so a zone's arrays go back to the
  // system the moment the last snapshot using them is freed. glibc's default threshold is
  // dynamic: after the first big free it climbs to 32 MiB, and from then on a reload's zone
  // arrays come from the heap, where the replaced ones leave holes that stay resident (measured:
  // a 1.3M-name zone, 193 MiB after a fresh start, 231 MiB after reloads even with the heap
  // trimmed; 193 MiB with this). Setting it also turns the dynamic adjustment off.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  std::shared_ptr<Loaded> loaded;
  try {
    loaded = std::make_shared<Loaded>(loadAll(path_, embedded_yaml_, zones_freed_));
  } catch (const ConfigError& e) {
    for (const auto& d : e.diagnostics()) spdlog::critical("config error: {}", d.str());
    spdlog::critical("not starting: {} has {} error(s)", source(), e.diagnostics().size());
    return 1;
  }
  spdlog::set_level(spdlog::level::from_str(loaded->config->log.level));
  control::setLogFormat(loaded->config->log.format);
  for (const auto& w : loaded->warnings) spdlog::warn("config: {}", w.str());
  spdlog::info("understudy {} starting with {}", UNDERSTUDY_VERSION, source());
  checkOpenFilesLimit(*loaded->config);

  prober_ = std::make_unique<health::AsioProber>(health_);
  shared_prober_ = std::make_unique<health::SharedProber>(*prober_);
  seed_ = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  char host[256] = "understudy";
  gethostname(host, sizeof host - 1);
  notifier_ = std::make_unique<notify::Notifier>(health_, loaded->config->notify, host);
  monitor_ = std::make_unique<failover::Monitor>(timers_, *shared_prober_, loaded->config,
                                                 loaded->snapshot, holder_, seed_, overrides_);
  monitor_->events = notifier_.get();
  monitor_->on_publish = [this] { notify("STATUS=" + statusLine()); };
  watchStatus(*monitor_);

  // One round of probes before the first answer, bounded by the longest timeout, so a restart
  // never fails over (or serves a dead endpoint) by accident.
  if (!monitor_->controller().targets().empty()) {
    monitor_->start();
    auto deadline = std::chrono::steady_clock::now() + monitor_->longestTimeout() +
                    std::chrono::milliseconds(500);
    while (!monitor_->firstRoundDone() && std::chrono::steady_clock::now() < deadline) {
      health_.run_one_until(deadline);
    }
    spdlog::info("first health round done: {}/{} endpoints up", monitor_->upCount(),
                 monitor_->controller().targets().size());
  }
  monitor_->publish();
  // Before the DNS sockets: a control endpoint that cannot bind stops the start-up before anything
  // has been answered. (Nothing is served on it until the control thread runs again.)
  if (!startControl(loaded->config->control)) return 1;

  running_server_ = loaded->config->server;
  server_ = std::make_unique<server::Server>(serverOptions(running_server_), holder_);
  try {
    server_->start();
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
  // The monitor holds what it serves; the start-up copy must not keep the first configuration's
  // zones alive after a reload replaces them.
  loaded.reset();
  for (const auto& b : server_->bound()) spdlog::info("listening on {} {}", b.protocol, b.address);
  spdlog::info("ready: {}", statusLine());
  notify("READY=1\nSTATUS=" + statusLine());
  publishStatus();
  status_timer_.emplace(health_);
  statusTick();
  // The control endpoint answers from here on, on its own thread.
  startControlThread();

  startWatchdog();
  trim_timer_.emplace(health_);
  zones_freed_seen_ = zones_freed_->load();
  trimTick();
  waitForSignal();
  dispatch(Event::kStarted);
  if (health_.stopped()) health_.restart();
  // Everything from here on (reloads, stop, drain) is driven by dispatch(); the loop ends when
  // the lifecycle reaches kStopped. A handler that throws is logged and the loop goes on.
  control::runCatchingExceptions(health_, "health");

  notifier_.reset();
  spdlog::info("stopped");
  return 0;
}

Step Daemon::dispatch(Event event, std::string_view trigger) {
  Step step = lifecycle_.on(event, trigger);
  if (step.from != step.to) {
    // Not "a -> b": that is how health and answer transitions read, and operators grep for it.
    spdlog::info("lifecycle: {} (was {}): {}", phaseName(step.to), phaseName(step.from), step.note);
  } else {
    spdlog::info("lifecycle: {}: {}", phaseName(step.from), step.note);
  }
  switch (step.action) {
    case Action::kStartReload:
      startReload(step.trigger);
      break;
    case Action::kStop:
      stopServing();
      break;
    case Action::kDrain:
      drain_deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      drain_timer_.emplace(health_);
      drainTick();
      break;
    case Action::kExit:
      health_.stop();
      break;
    case Action::kNone:
    case Action::kQueueReload:
    case Action::kApplyReload:  // the caller holds what to apply
    case Action::kDiscard:
      break;
  }
  return step;
}

void Daemon::waitForSignal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    // Keep listening: a second SIGTERM while webhooks drain ends the wait for them.
    waitForSignal();
    if (signo == SIGHUP) {
      dispatch(Event::kReloadRequested, "SIGHUP");
      return;
    }
    const char* name = signo == SIGTERM ? "SIGTERM" : "SIGINT";
    spdlog::info("received {}, stopping", name);
    dispatch(Event::kStopRequested, name);
  });
}

bool Daemon::startControl(const config::ControlConfig& config) {
  if (!config.enabled) return true;
  control_server_ = std::make_unique<control::ControlServer>(
      control_io_, static_cast<control::Sources&>(*this), config);
  try {
    control_server_->start();
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    spdlog::critical("not starting: the control endpoint is configured but cannot be served");
    control_server_.reset();
    return false;
  }
  spdlog::info("control listening on {}{}", control_server_->boundAddress(),
               config.token_file.empty() ? " (read-only: no token_file)" : "");
  return true;
}

void Daemon::startControlThread() {
  if (!control_server_) return;
  control_thread_ = std::thread([this] {
    // Whatever a request throws costs that request; the endpoint keeps serving.
    control::runCatchingExceptions(control_io_, "control");
  });
}

// Stops the endpoint on its own thread (it is not thread-safe), then ends that thread. The
// control thread never waits for the health thread, so this cannot deadlock.
void Daemon::stopControlThread() {
  if (!control_server_) return;
  if (control_thread_.joinable()) {
    boost::asio::post(control_io_, [this] {
      control_server_->stop();
      control_io_.stop();
    });
    control_thread_.join();
  } else {
    control_server_->stop();
  }
}

std::shared_ptr<const control::Status> Daemon::status() const {
  auto current = status_.current();
  return current ? current : std::make_shared<const control::Status>();
}

void Daemon::changeOverride(
    failover::OverrideChange change,
    std::function<void(std::optional<failover::OverrideChangeResult>)> done) {
  boost::asio::post(health_, [this, change = std::move(change), done = std::move(done)] {
    if (!monitor_ || lifecycle_.phase() == Phase::kStopping) return done(std::nullopt);
    done(monitor_->change(change));
  });
}

void Daemon::reload(std::string trigger, std::function<void(control::ReloadAnswer)> done) {
  boost::asio::post(health_, [this, trigger = std::move(trigger), done = std::move(done)] {
    done(requestReload(trigger.c_str()));
  });
}

// The monitor whose answers are served sends its status copies here.
void Daemon::watchStatus(failover::Monitor& monitor) {
  monitor.on_status = [this](std::shared_ptr<const failover::StatusSnapshot> s) {
    failover_status_ = std::move(s);
    publishStatus();
  };
}

void Daemon::publishStatus() {
  auto status = std::make_shared<control::Status>();
  status->failover = failover_status_;
  status->reloads = {reloads_ok_, reloads_failed_};
  if (notifier_) status->hooks = notifier_->stats();
  status->health.late_callbacks = timers_.lateCallbacks();
  status->health.worst_late_ms = static_cast<double>(timers_.worstLateness().count());
  status->health.late_timeouts = prober_ ? prober_->lateTimeouts() : 0;
  status_.publish(std::move(status));
}

// The daemon's own counters (webhooks, how punctual this thread is) are copied once a second;
// the monitor sends its own changes as they happen.
void Daemon::statusTick() {
  publishStatus();
  status_timer_->expires_after(std::chrono::seconds(1));
  status_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) statusTick();
  });
}

control::ReloadAnswer Daemon::requestReload(const char* trigger) {
  Step step = dispatch(Event::kReloadRequested, trigger);
  switch (step.action) {
    case Action::kStartReload:
      return {true, "reload started"};
    case Action::kQueueReload:
      return {true, "a reload is in progress; this one is queued to run after it"};
    default:
      return {false, "not reloading: the daemon is " + std::string(phaseName(step.from))};
  }
}

void Daemon::startReload(const std::string& trigger) {
  spdlog::info("{}: reloading {}", trigger, source());
  notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonicUsec()));
  // Reading and compiling large zones must not stall health checks or signals: the worker does
  // it on a thread of its own and hands only the result back. The job captures copies, never
  // the daemon's mutable state; `this` only travels into the Finish, which runs on the health
  // thread. The next Monitor is built there too: its constructor only stores the references it
  // is given (timers, prober, holder), which it first uses once the health thread starts it.
  ReloadWorker::Job job = [this, path = path_, yaml = embedded_yaml_, freed = zones_freed_,
                           seed = ++seed_, overrides = overrides_, &timers = timers_,
                           &prober = *shared_prober_, &holder = holder_]() -> ReloadWorker::Finish {
    std::shared_ptr<Loaded> next;
    std::vector<Diagnostic> errors;
    try {
      next = std::make_shared<Loaded>(loadAll(path, yaml, freed));
      next->monitor = std::make_unique<failover::Monitor>(timers, prober, next->config,
                                                          next->snapshot, holder, seed, overrides);
    } catch (const ConfigError& e) {
      errors = e.diagnostics();
    } catch (const std::exception& e) {
      errors.push_back(Diagnostic{{path, 0, 0}, "", e.what()});
    }
    return [this, next = std::move(next), errors = std::move(errors)]() mutable {
      onReloadLoaded(std::move(next), std::move(errors));
    };
  };
  const auto timeout = running_server_.reload_timeout;
  ReloadWorker::Start started = ReloadWorker::Start::kBusy;
  std::string why;
  try {
    started = worker_.start(std::move(job), timeout, [this] { onReloadTimedOut(); });
  } catch (const std::system_error& e) {
    why = std::string("cannot start a thread: ") + e.what();
  }
  if (started == ReloadWorker::Start::kStarted) return;
  if (started == ReloadWorker::Start::kTooManyStuck) {
    why = std::to_string(worker_.abandonedRunning()) +
          " abandoned reloads are still reading their files";
  } else if (why.empty()) {
    why = "a reload is still loading";  // the lifecycle never lets this happen
  }
  spdlog::error("reload not started: {}", why);
  // Reported as a failed reload, after this dispatch has finished logging its own step.
  boost::asio::post(health_, [this, why] {
    if (lifecycle_.phase() == Phase::kReloading)
      reportReloadFailure({"reload not started: " + why});
    dispatch(Event::kReloadFailed);
  });
}

void Daemon::reportReloadFailure(const std::vector<std::string>& errors) {
  ++reloads_failed_;
  publishStatus();
  failover::ReloadFailedEvent event;
  event.time = std::chrono::system_clock::now();
  event.source = source();
  event.errors = errors;
  if (notifier_) notifier_->onReloadFailed(event);
  notify("READY=1\nSTATUS=" + statusLine());
}

void Daemon::onReloadLoaded(std::shared_ptr<Loaded> next, std::vector<Diagnostic> errors) {
  if (!next) {
    if (lifecycle_.phase() == Phase::kReloading) {
      for (const auto& d : errors) spdlog::error("reload failed: {}", d.str());
      spdlog::error("reload failed ({} error(s)): still serving the previous configuration",
                    errors.size());
      std::vector<std::string> texts;
      for (const auto& d : errors) texts.push_back(d.str());
      reportReloadFailure(texts);
    }
    dispatch(Event::kReloadFailed);
    return;
  }
  if (dispatch(Event::kReloadLoaded).action == Action::kApplyReload) applyReload(std::move(next));
}

void Daemon::onReloadTimedOut() {
  auto seconds = std::chrono::duration<double>(running_server_.reload_timeout).count();
  spdlog::error(
      "reload failed: not finished after {:g} s (server.reload_timeout); a file on a slow or "
      "stuck path? Abandoned; still serving the previous configuration",
      seconds);
  reportReloadFailure({"reload not finished after " + fmt::format("{:g}", seconds) +
                       " s (server.reload_timeout): abandoned"});
  dispatch(Event::kReloadTimedOut);
}

void Daemon::applyReload(std::shared_ptr<Loaded> next) {
  ++reloads_ok_;
  for (const auto& w : next->warnings) spdlog::warn("config: {}", w.str());
  if (!sameServerSettings(running_server_, next->config->server)) {
    spdlog::warn(
        "reload: server settings (listen, threads, tcp_*) changed; they take effect at the "
        "next restart; zones, checks and pools are reloaded now");
  }
  // What applies now; listen, threads and tcp_* stay as bound.
  running_server_.edns_udp_size = next->config->server.edns_udp_size;
  running_server_.reload_timeout = next->config->server.reload_timeout;
  if (!(running_server_.rrl == next->config->server.rrl)) {
    // The serving threads pick the new settings up at their next datagram.
    running_server_.rrl = next->config->server.rrl;
    if (server_) server_->setRrl(serverOptions(running_server_).rrl);
    spdlog::info("reload: response rate limiting {}", describeRrl(running_server_.rrl));
  }
  spdlog::set_level(spdlog::level::from_str(next->config->log.level));
  control::setLogFormat(next->config->log.format);
  if (control_server_) {
    // Applied on the control thread, where the endpoint lives.
    boost::asio::post(control_io_, [this, control = next->config->control] {
      control_server_->reconfigure(control);
    });
  } else if (next->config->control.enabled) {
    spdlog::warn("reload: control endpoint added; it starts at the next restart");
  }
  notifier_->setHooks(next->config->notify);
  std::unique_ptr<failover::Monitor> monitor = std::move(next->monitor);
  monitor->events = notifier_.get();
  // Unchanged checks keep their measured state: no new start-up round, no false failover.
  size_t fresh = monitor->adoptStateFrom(*monitor_);
  monitor->on_publish = monitor_->on_publish;
  monitor->start();
  if (fresh > 0) {
    // New checks start as at start-up: the old answers stay until their first round is in
    // (bounded by the longest timeout), so an unchecked endpoint is never served by accident.
    spdlog::info("reload: waiting for the first probes of {} new target(s)", fresh);
    pending_monitor_ = std::move(monitor);
    pending_deadline_ = std::chrono::steady_clock::now() + pending_monitor_->longestTimeout() +
                        std::chrono::milliseconds(500);
    pending_timer_.emplace(health_);
    waitForPendingMonitor();
    return;
  }
  monitor_ = std::move(monitor);  // the old one stops probing now
  reloadDone();
}

void Daemon::waitForPendingMonitor() {
  if (pending_monitor_->firstRoundDone() || std::chrono::steady_clock::now() >= pending_deadline_) {
    monitor_ = std::move(pending_monitor_);
    reloadDone();
    return;
  }
  pending_timer_->expires_after(std::chrono::milliseconds(5));
  pending_timer_->async_wait([this](const boost::system::error_code& ec) {
    // The stop path drops the pending monitor and cancels this wait; never touch it after.
    if (ec || lifecycle_.phase() != Phase::kApplying || !pending_monitor_) return;
    waitForPendingMonitor();
  });
}

void Daemon::reloadDone() {
  watchStatus(*monitor_);
  monitor_->publish();
  spdlog::info("reload done: {}", statusLine());
  notify("READY=1\nSTATUS=" + statusLine());
  dispatch(Event::kReloadApplied);
}

// SIGTERM/SIGINT: abandon any reload, stop accepting, let answers in flight go out (closing within
// 2 s), release the monitors. Webhooks still on their way get their moment in the drain phase.
void Daemon::stopServing() {
  notify("STOPPING=1");
  worker_.abandon();
  if (pending_timer_) pending_timer_->cancel();
  pending_monitor_.reset();
  stopControlThread();
  if (server_) server_->stop(std::chrono::milliseconds(2000));
  monitor_.reset();
  dispatch(Event::kClosed);
}

void Daemon::drainTick() {
  size_t pending = notifier_ ? notifier_->pending() : 0;
  if (pending == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
    if (pending > 0) spdlog::warn("stopping with {} webhook notification(s) undelivered", pending);
    dispatch(Event::kDrained);
    return;
  }
  drain_timer_->expires_after(std::chrono::milliseconds(10));
  drain_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec && lifecycle_.phase() == Phase::kDraining) drainTick();
  });
}

// glibc keeps freed memory in its arenas: after a reload the old zones' pages would stay
// resident (measured: 199 MB after a fresh start, 380-450 MB after a few reloads of a 1.3M-name
// zone). Once a zone set has really been freed (by whichever thread dropped it last), hand the
// free pages back. One check a second costs nothing; the trim itself runs once per release.
void Daemon::trimTick() {
  uint64_t freed = zones_freed_->load();
  if (freed != zones_freed_seen_) {
    zones_freed_seen_ = freed;
    uint64_t before = residentBytes();
    malloc_trim(0);
    uint64_t after = residentBytes();
    spdlog::info("memory: a replaced configuration's zones were freed; resident {} -> {} MiB",
                 before >> 20, after >> 20);
  }
  trim_timer_->expires_after(std::chrono::seconds(1));
  trim_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) trimTick();
  });
}

void Daemon::startWatchdog() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  // Ping at half the period from the control thread itself: if health checks, reloads or signal
  // handling ever wedge that thread, the pings stop and systemd restarts us.
  watchdog_interval_ = std::chrono::microseconds(usec / 2);
  watchdog_.emplace(health_);
  spdlog::info("systemd watchdog: pinging every {} ms", watchdog_interval_.count() / 1000);
  watchdogTick();
}

void Daemon::watchdogTick() {
  notify("WATCHDOG=1");
  watchdog_->expires_after(watchdog_interval_);
  watchdog_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) watchdogTick();
  });
}

}  // namespace understudy::daemon
