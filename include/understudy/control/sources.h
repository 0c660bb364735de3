// What the control endpoint reads and steers. The daemon implements it; every call happens on the
// control thread (the one that runs health checks and applies reloads), so nothing here locks.
#pragma once

#include <cstdint>
#include <string>

#include "understudy/failover/monitor.h"
#include "understudy/notify/notifier.h"
#include "understudy/server/server.h"
#include "understudy/zone/snapshot_holder.h"

namespace understudy::control {

struct ReloadCounts {
  uint64_t ok = 0;
  uint64_t failed = 0;
};

// What became of a reload request: started, queued behind the one in progress, or refused
// (the daemon is stopping). `message` says which, for the HTTP answer.
struct ReloadAnswer {
  bool accepted = true;
  std::string message;
};

class Sources {
 public:
  virtual ~Sources() = default;
  // The monitor whose answers are being served; null while starting or stopping.
  virtual failover::Monitor* monitor() = 0;
  virtual const zone::SnapshotHolder& snapshots() const = 0;
  // Null until the DNS sockets are up.
  virtual const server::Server* server() const = 0;
  virtual const notify::Notifier* notifier() const = 0;
  virtual ReloadCounts reloads() const = 0;
  // The same reload as SIGHUP (queued behind, or coalesced with, one already running).
  virtual ReloadAnswer reload(const char* trigger) = 0;
};

}  // namespace understudy::control
