#pragma once

#include <string>

namespace understudy::health {

// Operator-facing words for a socket-level failure ("connection refused", "connection reset"),
// shared by the TCP and HTTP probers so one backend failure reads the same whichever check saw it.
std::string socketErrorDetail(int error_number);

}  // namespace understudy::health
