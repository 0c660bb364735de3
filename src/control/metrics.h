// GET /metrics: every understudy metric family, rendered from the daemon's live state.
#pragma once

#include <string>

#include "understudy/control/sources.h"

namespace understudy::control {

std::string renderMetrics(Sources& sources);

}  // namespace understudy::control
