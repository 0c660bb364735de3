// A configuration loaded, validated and compiled, ready for the daemon to apply: at start-up, on a
// reload (on the reload worker), and for `--check`. Private to src/daemon.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "understudy/common/diagnostic.h"
#include "understudy/config/config.h"
#include "understudy/failover/monitor.h"
#include "understudy/zone/snapshot.h"

namespace understudy::daemon {

// A validated, compiled configuration, ready to be applied.
struct Loaded {
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<const zone::Snapshot> snapshot;
  std::vector<Diagnostic> warnings;
  // On a reload, the next Monitor, built on the reload worker (target de-duplication, bindings,
  // status index: about 100 ms with 10,000 endpoints), so the health thread only hands the state
  // over and starts it. Not started: it has touched no timer and no prober yet.
  std::unique_ptr<failover::Monitor> monitor;
};

// Load + validate + compile. Throws ConfigError listing every problem. `yaml` non-null means
// "this text instead of the file" (the embedded demo). With `freed`, the compiled zones count
// themselves there when their memory is finally released (by whichever thread held them last),
// so the daemon knows when returning freed memory to the system is worth it.
Loaded loadAll(const std::string& path, const char* yaml,
               std::shared_ptr<std::atomic<uint64_t>> freed = nullptr);

std::string summary(const zone::Snapshot& snapshot);

}  // namespace understudy::daemon
