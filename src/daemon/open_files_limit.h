// RLIMIT_NOFILE against what a configuration may hold open at once. A daemon that runs out of
// descriptors fails in the worst places: new DNS TCP connections wait in the backlog, and a probe
// that cannot get a socket looks like a dead backend. So at start the soft limit is raised toward
// the hard one as far as the configuration needs, and a shortfall is logged in words.
#pragma once

#include <cstdint>
#include <string>

#include "understudy/config/config.h"

namespace understudy::daemon {

// Ceilings on the descriptors each part may hold at once; their sum bounds the whole.
struct OpenFilesBudget {
  uint64_t tcp_connections = 0;  // server.tcp_max_connections, + 1 per TCP thread (a connection
                                 // over the cap is accepted before it is closed)
  uint64_t listeners = 0;        // a UDP socket and a TCP acceptor per listen address per thread
  uint64_t probes = 0;           // probe targets, at most the health scheduler's 2048 in flight
  uint64_t control = 0;          // control connections (at most 64) and their listener
  uint64_t webhooks = 0;         // one delivery in flight per hook
  uint64_t slack = 0;            // stdio, event loops, config and zone files read on reload, ...
  uint64_t total() const {
    return tcp_connections + listeners + probes + control + webhooks + slack;
  }
};

// `cores` stands for `server.threads: auto`.
OpenFilesBudget openFilesBudget(const config::Config& config, unsigned cores);

// The soft limit to ask for: enough for `needed` if the hard limit allows, never lower than now.
uint64_t softLimitFor(uint64_t soft, uint64_t hard, uint64_t needed);

struct OpenFilesLimit {
  uint64_t needed = 0;
  uint64_t soft_before = 0;
  uint64_t soft = 0;  // after raising
  uint64_t hard = 0;
  bool raised() const { return soft > soft_before; }
  bool enough() const { return soft >= needed; }
  // For the log, in words: "open files limit 1024 is below the 4200 this configuration may
  // need; raise LimitNOFILE= in the unit", or what was raised, or that it is enough.
  std::string message() const;
};

// Reads RLIMIT_NOFILE and raises the soft limit per softLimitFor (setrlimit; a refusal keeps the
// old limit).
OpenFilesLimit raiseOpenFilesLimit(uint64_t needed);

// At start: budget, raise, and log the outcome (a warning when still short).
void checkOpenFilesLimit(const config::Config& config);

}  // namespace understudy::daemon
