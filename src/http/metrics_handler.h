#pragma once
// GET /metrics: the registry rendered for Prometheus.

#include "http/router.h"
#include "metrics/registry.h"

namespace netledger::http {

// A handler that answers with `registry.render()`. The registry must outlive the router.
Handler metricsHandler(const metrics::Registry& registry);

}  // namespace netledger::http
