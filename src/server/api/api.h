#pragma once
// The REST API v1 (../shared/SPEC.md): one handler file per resource, all registered on one
// Router. Observations, conflicts, webhooks and the event stream (issue #4) add their own files
// and one line in registerApi.

#include <atomic>
#include <functional>
#include <string>

#include "common/status.h"
#include "engine/engine.h"
#include "ledger/ledger.h"
#include "server/http/router.h"
#include "server/metrics/registry.h"

namespace netledger::server {

struct ApiContext {
  ledger::Ledger& ledger;
  metrics::Registry& metrics;
  // Set once start-up finished; /readyz answers 503 before.
  std::atomic<bool>& ready;
  // The OpenAPI document served at /v1/openapi.json.
  std::string openapi;
  engine::Engine* engine;  // the consistency engine (/v1/observations, /v1/conflicts, ...)
};

Status registerApi(http::Router& router, ApiContext& ctx);

// Per-resource registration (api/<resource>.cc).
Status registerPoolRoutes(http::Router& router, ApiContext& ctx);
Status registerMacPoolRoutes(http::Router& router, ApiContext& ctx);
Status registerBindingRoutes(http::Router& router, ApiContext& ctx);
Status registerHistoryRoutes(http::Router& router, ApiContext& ctx);
Status registerTokenRoutes(http::Router& router, ApiContext& ctx);
Status registerOpsRoutes(http::Router& router, ApiContext& ctx);
Status registerConsistencyRoutes(http::Router& router, ApiContext& ctx);

}  // namespace netledger::server
