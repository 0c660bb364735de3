#pragma once

#include <string>

namespace understudy::health {

// Operator-facing words for a socket-level failure ("connection refused", "connection reset"),
// shared by the TCP and HTTP probers so one backend failure reads the same whichever check saw it.
std::string socketErrorDetail(int error_number);

// True for errors that come from this host running short, not from the backend: out of
// descriptors, memory or buffers, or of local ports to connect from. A probe that meets one was
// not run (OutcomeKind::kNotRun).
bool isLocalResourceError(int error_number);

}  // namespace understudy::health
