#include "daemon.h"

#include <malloc.h>

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "open_files_limit.h"
#include "understudy/control/log_format.h"
#include "understudy/control/run_loop.h"
#include "understudy/dns/name.h"
#include "understudy/version.h"
#include "understudy/zone/compile.h"

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

uint64_t monotonicUsec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

}  // namespace

Loaded loadAll(const std::string& path, const char* yaml) {
  Loaded out;
  auto cfg = std::make_shared<config::Config>(yaml ? config::loadString(yaml, "<demo config>")
                                                   : config::loadFile(path));
  zone::ServingOptions options = config::servingOptions(cfg->server);
  std::vector<Diagnostic> warnings;
  out.snapshot = zone::compile(cfg->zones, options, &warnings);
  out.warnings = cfg->warnings;
  out.warnings.insert(out.warnings.end(), warnings.begin(), warnings.end());
  // The compiled zones hold their own copy of every record; the loader's copy (several times
  // larger: strings and source locations per record) is not needed again. Give it back, and
  // return the freed heap to the system, so a big zone does not cost its size twice.
  for (auto& z : cfg->zones) std::vector<zone::Record>().swap(z.records);
  malloc_trim(0);
  out.config = std::move(cfg);
  return out;
}

std::string summary(const zone::Snapshot& s) {
  return std::to_string(s.zones().size()) + (s.zones().size() == 1 ? " zone, " : " zones, ") +
         std::to_string(s.recordCount()) + " records";
}

Daemon::Daemon(std::string path, const char* embedded_yaml)
    : path_(std::move(path)), embedded_yaml_(embedded_yaml) {}

Daemon::~Daemon() {
  if (control_server_) control_server_->stop();
  if (reload_thread_.joinable()) reload_thread_.join();
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
  std::shared_ptr<Loaded> loaded;
  try {
    loaded = std::make_shared<Loaded>(loadAll(path_, embedded_yaml_));
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

  prober_ = std::make_unique<health::AsioProber>(control_);
  seed_ = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  char host[256] = "understudy";
  gethostname(host, sizeof host - 1);
  notifier_ = std::make_unique<notify::Notifier>(control_, loaded->config->notify, host);
  monitor_ = std::make_unique<failover::Monitor>(timers_, *prober_, loaded->config,
                                                 loaded->snapshot, holder_, seed_, overrides_);
  monitor_->events = notifier_.get();
  monitor_->on_publish = [this] { notify("STATUS=" + statusLine()); };

  // One round of probes before the first answer, bounded by the longest timeout, so a restart
  // never fails over (or serves a dead endpoint) by accident.
  if (!monitor_->controller().targets().empty()) {
    monitor_->start();
    auto deadline = std::chrono::steady_clock::now() + monitor_->longestTimeout() +
                    std::chrono::milliseconds(500);
    while (!monitor_->firstRoundDone() && std::chrono::steady_clock::now() < deadline) {
      control_.run_one_until(deadline);
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
  for (const auto& b : server_->bound()) spdlog::info("listening on {} {}", b.protocol, b.address);
  spdlog::info("ready: {}", statusLine());
  notify("READY=1\nSTATUS=" + statusLine());

  startWatchdog();
  waitForSignal();
  if (control_.stopped()) control_.restart();
  control::runCatchingExceptions(control_, "control");

  // SIGTERM/SIGINT: stop accepting, let answers in flight go out, close within 2 s.
  if (control_server_) control_server_->stop();
  server_->stop(std::chrono::milliseconds(2000));
  pending_monitor_.reset();
  monitor_.reset();
  // Give webhooks that are still on their way a moment (bounded) to go out.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  control_.restart();
  while (notifier_->pending() > 0 && std::chrono::steady_clock::now() < until) {
    control_.run_one_until(until);
  }
  notifier_.reset();
  spdlog::info("stopped");
  return 0;
}

void Daemon::waitForSignal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      reload("SIGHUP");
      waitForSignal();
      return;
    }
    spdlog::info("received {}, stopping", signo == SIGTERM ? "SIGTERM" : "SIGINT");
    notify("STOPPING=1");
    control_.stop();
  });
}

bool Daemon::startControl(const config::ControlConfig& config) {
  if (!config.enabled) return true;
  control_server_ = std::make_unique<control::ControlServer>(
      control_, static_cast<control::Sources&>(*this), config);
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

void Daemon::reload(const char* trigger) {
  if (reloading_) {
    reload_again_ = true;  // coalesce: one more reload once this one is applied
  } else {
    startReload(trigger);
  }
}

void Daemon::startReload(const char* trigger) {
  reloading_ = true;
  spdlog::info("{}: reloading {}", trigger, source());
  notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonicUsec()));
  if (reload_thread_.joinable()) reload_thread_.join();
  // Reading and compiling large zones must not stall health checks or signals: do it on a
  // worker and hand only the result back to the control thread.
  reload_thread_ = std::thread([this] {
    std::shared_ptr<Loaded> next;
    std::vector<Diagnostic> errors;
    try {
      next = std::make_shared<Loaded>(loadAll(path_, embedded_yaml_));
    } catch (const ConfigError& e) {
      errors = e.diagnostics();
    } catch (const std::exception& e) {
      errors.push_back(Diagnostic{{path_, 0, 0}, "", e.what()});
    }
    boost::asio::post(control_, [this, next, errors = std::move(errors)]() mutable {
      applyReload(std::move(next), std::move(errors));
    });
  });
}

void Daemon::applyReload(std::shared_ptr<Loaded> next, std::vector<Diagnostic> errors) {
  if (!next) {
    ++reloads_failed_;
    for (const auto& d : errors) spdlog::error("reload failed: {}", d.str());
    spdlog::error("reload failed ({} error(s)): still serving the previous configuration",
                  errors.size());
    failover::ReloadFailedEvent event;
    event.time = std::chrono::system_clock::now();
    event.source = source();
    for (const auto& d : errors) event.errors.push_back(d.str());
    notifier_->onReloadFailed(event);
  } else {
    ++reloads_ok_;
    for (const auto& w : next->warnings) spdlog::warn("config: {}", w.str());
    if (!sameServerSettings(running_server_, next->config->server)) {
      spdlog::warn(
          "reload: server settings (listen, threads, tcp_*) changed; they take effect at the "
          "next restart; zones, checks and pools are reloaded now");
    }
    spdlog::set_level(spdlog::level::from_str(next->config->log.level));
    control::setLogFormat(next->config->log.format);
    if (control_server_) {
      control_server_->reconfigure(next->config->control);
    } else if (next->config->control.enabled) {
      spdlog::warn("reload: control endpoint added; it starts at the next restart");
    }
    notifier_->setHooks(next->config->notify);
    auto monitor = std::make_unique<failover::Monitor>(
        timers_, *prober_, next->config, next->snapshot, holder_, ++seed_, overrides_);
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
      pending_timer_.emplace(control_);
      waitForPendingMonitor();
      return;
    }
    monitor_ = std::move(monitor);  // the old one stops probing now
    monitor_->publish();
    spdlog::info("reload done: {}", statusLine());
  }
  finishReload();
}

void Daemon::waitForPendingMonitor() {
  if (pending_monitor_->firstRoundDone() || std::chrono::steady_clock::now() >= pending_deadline_) {
    monitor_ = std::move(pending_monitor_);
    monitor_->publish();
    spdlog::info("reload done: {}", statusLine());
    finishReload();
    return;
  }
  pending_timer_->expires_after(std::chrono::milliseconds(5));
  pending_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) waitForPendingMonitor();
  });
}

void Daemon::finishReload() {
  notify("READY=1\nSTATUS=" + statusLine());
  reloading_ = false;
  if (reload_again_) {
    reload_again_ = false;
    startReload("queued reload");
  }
}

void Daemon::startWatchdog() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  // Ping at half the period from the control thread itself: if health checks, reloads or signal
  // handling ever wedge that thread, the pings stop and systemd restarts us.
  watchdog_interval_ = std::chrono::microseconds(usec / 2);
  watchdog_.emplace(control_);
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
