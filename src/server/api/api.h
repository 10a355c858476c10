#pragma once
// The REST API v1 (its contract: docs/api/openapi.json, also served at /v1/openapi.json): one
// handler file per resource, all registered on one Router. Each file's register*Routes is a list
// of `router.add(method, path, withAuth(ctx, handleX, access))` lines (common.h); the handlers
// parse, authorize, call the ledger or a service (ScanService, ProbeCoordinator, the engine) and
// answer. A new resource adds its own file and one line in registerApi.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>

#include "common/status.h"
#include "engine/engine.h"
#include "http/router.h"
#include "ledger/ledger.h"
#include "metrics/registry.h"

namespace netledger::webhooks {
class Dispatcher;
}

namespace netledger::server {

class ActivityRates;
class EventHub;
class ProbeCoordinator;
class ScanService;

struct ApiContext {
  ledger::Ledger& ledger;
  metrics::Registry& metrics;
  // Set once start-up finished; /readyz answers 503 before.
  std::atomic<bool>& ready;
  // The OpenAPI document served at /v1/openapi.json.
  std::string openapi;
  engine::Engine* engine;          // the consistency engine (/v1/observations, /v1/conflicts, ...)
  EventHub* events;                // the event stream (/v1/events)
  webhooks::Dispatcher* webhooks;  // deliveries (/v1/webhooks); never started in tests/fuzzing
  ProbeCoordinator* probes;        // probe before use (POST /v1/bindings with probe, .../probe)
  ScanService* scans;              // active scans (/v1/scans)
  ActivityRates* rates;            // allocation/release rates (/v1/stats/rates)
  Clock* clock;                    // now, for the rates' window
  // The store is shared with other replicas: a write whose batch another replica overtook
  // (503 aborted) is run again on the rebuilt state instead of being answered (withAuth).
  bool retry_aborted = false;
  // Idempotency-Key values whose first request is still running on this server
  // (idempotency.cc): a second request with one is 409 until the first is answered.
  struct InFlightKeys {
    std::mutex mu;
    std::set<std::string> keys;
  };
  std::shared_ptr<InFlightKeys> in_flight_keys = std::make_shared<InFlightKeys>();
  // When the sweeper last tried to record a scheduled health report (its thread only).
  ledger::Millis health_report_attempt = 0;
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
Status registerEventRoutes(http::Router& router, ApiContext& ctx);
Status registerWebhookRoutes(http::Router& router, ApiContext& ctx);
Status registerScanRoutes(http::Router& router, ApiContext& ctx);
Status registerStatsRoutes(http::Router& router, ApiContext& ctx);
Status registerPortMapRoutes(http::Router& router, ApiContext& ctx);
Status registerNodeStatusRoutes(http::Router& router, ApiContext& ctx);
Status registerCheckRoutes(http::Router& router, ApiContext& ctx);
Status registerReportRoutes(http::Router& router, ApiContext& ctx);
// The dashboard's embedded assets at / and /assets/{file} (no token needed to load the page).
Status registerDashboardRoutes(http::Router& router);

// Deletes the port mappings whose binding is gone (released or expired), audited as
// portmap.delete by "portmaps"; returns how many. Run by the elected replica's sweeper.
std::size_t reapPortMaps(ApiContext& ctx);

// When a webhook subscribes to report.health and the last scheduled report is `interval_ms`
// old (or there is none), records the health report of the last `interval_ms` as the document
// health_report/latest with a `report.health` audit event, which the webhooks deliver. Run by
// the elected replica's sweeper; true when it recorded one.
bool recordScheduledHealthReport(ApiContext& ctx, ledger::Millis interval_ms);

// Loads the stored webhook subscriptions into ctx.webhooks (call before serving).
Status loadWebhooks(ApiContext& ctx);
// Hands committed ledger events to the webhook dispatcher (from the ledger's event listener).
void publishToWebhooks(ApiContext& ctx, std::span<const ledger::EventRecord* const> events);
// Subscriptions created or deleted by another replica (their webhook.* events): the dispatcher
// follows the ledger's documents, so whichever replica is elected delivers to all of them.
void followWebhookChanges(ApiContext& ctx, std::span<const ledger::EventRecord* const> events);

}  // namespace netledger::server
