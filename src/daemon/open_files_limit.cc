#include "open_files_limit.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <set>
#include <thread>
#include <utility>

#include "understudy/control/control_server.h"

namespace understudy::daemon {

namespace {

// health::Scheduler's default cap on probes in flight (include/understudy/health/scheduler.h).
constexpr uint64_t kMaxProbesInFlight = 2048;

// Descriptors no part above accounts for: stdin/out/err, each io_context's epoll, eventfd and
// timerfd (control, and one per TCP thread), the files a reload reads while the old config still
// serves, curl's own, a second monitor probing beside the first while a reload settles.
constexpr uint64_t kSlack = 128;

}  // namespace

OpenFilesBudget openFilesBudget(const config::Config& config, unsigned cores) {
  OpenFilesBudget b;
  const uint64_t threads = config.server.threads == 0 ? std::max(1u, cores) : config.server.threads;
  b.tcp_connections = config.server.tcp_max_connections + threads;
  b.listeners = 2 * threads * config.server.listen.size();
  std::set<std::pair<std::string, std::string>> targets;  // (check, probed address)
  for (const auto& pool : config.pools) {
    for (const auto& e : pool.endpoints) {
      if (!e.check.empty()) targets.emplace(e.check, e.probe_address);
    }
  }
  b.probes = std::min<uint64_t>(targets.size(), kMaxProbesInFlight);
  if (config.control.enabled) b.control = control::ServerLimits{}.max_connections + 1;
  b.webhooks = config.notify.size();
  b.slack = kSlack;
  return b;
}

uint64_t softLimitFor(uint64_t soft, uint64_t hard, uint64_t needed) {
  if (soft >= needed) return soft;
  return std::max(soft, std::min(hard, needed));
}

std::string OpenFilesLimit::message() const {
  // Built by appending: GCC 12 at -O3 reports a false -Wrestrict for "literal" + std::string&&.
  std::string text = "open files limit ";
  if (!enough()) {
    text += std::to_string(soft);
    text += " is below the ";
    text += std::to_string(needed);
    text += " this configuration may need (hard limit ";
    text += std::to_string(hard);
    text += "); raise LimitNOFILE= in the unit";
  } else if (raised()) {
    text += "raised from ";
    text += std::to_string(soft_before);
    text += " to ";
    text += std::to_string(soft);
    text += " for the ";
    text += std::to_string(needed);
    text += " this configuration may need";
  } else {
    text += std::to_string(soft);
    text += " covers the ";
    text += std::to_string(needed);
    text += " this configuration may need";
  }
  return text;
}

OpenFilesLimit raiseOpenFilesLimit(uint64_t needed) {
  OpenFilesLimit out;
  out.needed = needed;
  rlimit current{};
  if (::getrlimit(RLIMIT_NOFILE, &current) != 0) return out;
  out.soft_before = out.soft = current.rlim_cur;
  out.hard = current.rlim_max;
  const uint64_t wanted = softLimitFor(current.rlim_cur, current.rlim_max, needed);
  if (wanted > current.rlim_cur) {
    rlimit raised = current;
    raised.rlim_cur = static_cast<rlim_t>(wanted);
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) out.soft = wanted;
  }
  return out;
}

void checkOpenFilesLimit(const config::Config& config) {
  OpenFilesBudget budget = openFilesBudget(config, std::thread::hardware_concurrency());
  OpenFilesLimit limit = raiseOpenFilesLimit(budget.total());
  if (!limit.enough()) {
    spdlog::warn("{}", limit.message());
  } else if (limit.raised()) {
    spdlog::info("{}", limit.message());
  } else {
    spdlog::debug("{}", limit.message());
  }
}

}  // namespace understudy::daemon
