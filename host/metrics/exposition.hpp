// vigild's metrics in the Prometheus text format (version 0.0.4), rendered per scrape from the
// live counters. Only what has data behind it is exported.
#pragma once

#include "api/services.hpp"
#include "metrics/prog_stats.hpp"

#include <string>

namespace vigil {

std::string render_metrics(api::AgentServices& services, const ProgStatsCollector& prog_stats);

} // namespace vigil
