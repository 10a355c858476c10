#pragma once
// GET /metrics: the registry rendered for Prometheus.

#include "server/http/router.h"
#include "server/metrics/registry.h"

namespace netledger::http {

// A handler that answers with `registry.render()`. The registry must outlive the router.
Handler metricsHandler(const metrics::Registry& registry);

}  // namespace netledger::http
