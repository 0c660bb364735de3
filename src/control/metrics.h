// GET /metrics: every understudy metric family, rendered from the daemon's live state.
#pragma once

#include <string>

#include "understudy/control/sources.h"

namespace understudy::control {

class ControlStats;

// `control`: the endpoint's own counters (understudy_control_*), when it is the one asking.
std::string renderMetrics(Sources& sources, const ControlStats* control = nullptr);

}  // namespace understudy::control
