// Operations: /healthz, /readyz, /metrics, /v1/openapi.json, /v1/snapshot.
#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

#include "ledger/codec.h"
#include "server/api/common.h"

namespace netledger::server {

namespace json = boost::json;
using ledger::Actor;

namespace {

std::string escapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// Pool gauges are rendered at scrape time: pools come and go at run time.
std::string poolMetrics(ledger::Ledger& ledger) {
  auto pools = ledger.listPools(Actor::system("metrics"));
  std::ostringstream out;
  out << "# HELP netledger_pool_addresses Addresses of a pool by state.\n"
         "# TYPE netledger_pool_addresses gauge\n";
  for (const auto& p : pools) {
    std::string name = escapeLabel(p.record.name);
    auto c = p.counts;
    out << "netledger_pool_addresses{pool=\"" << name << "\",state=\"used\"} "
        << static_cast<double>(c.used) << "\n";
    out << "netledger_pool_addresses{pool=\"" << name << "\",state=\"free\"} "
        << static_cast<double>(c.free) << "\n";
    out << "netledger_pool_addresses{pool=\"" << name << "\",state=\"quarantined\"} "
        << static_cast<double>(c.quarantined) << "\n";
    out << "netledger_pool_addresses{pool=\"" << name << "\",state=\"allocatable\"} "
        << static_cast<double>(c.allocatable) << "\n";
  }
  out << "# HELP netledger_pool_utilization Used plus quarantined over allocatable (0..1).\n"
         "# TYPE netledger_pool_utilization gauge\n";
  for (const auto& p : pools) {
    out << "netledger_pool_utilization{pool=\"" << escapeLabel(p.record.name) << "\"} "
        << p.counts.utilization() << "\n";
  }
  auto stats = ledger.stats();
  out << "# HELP netledger_allocations_total Bindings allocated.\n"
         "# TYPE netledger_allocations_total counter\n"
      << "netledger_allocations_total " << stats.allocations << "\n"
      << "# HELP netledger_releases_total Bindings released.\n"
         "# TYPE netledger_releases_total counter\n"
      << "netledger_releases_total " << stats.releases << "\n"
      << "# HELP netledger_expirations_total Bindings expired by the sweeper.\n"
         "# TYPE netledger_expirations_total counter\n"
      << "netledger_expirations_total " << stats.expirations << "\n"
      << "# HELP netledger_bindings Bindings currently held.\n"
         "# TYPE netledger_bindings gauge\n"
      << "netledger_bindings " << stats.bindings << "\n";
  return out.str();
}

// The consistency engine's counters and open conflicts, rendered at scrape time.
std::string engineMetrics(const engine::Engine* engine) {
  if (engine == nullptr) return "";
  auto s = engine->stats();
  std::ostringstream out;
  out << "# HELP netledger_observations_total Observations judged by the engine.\n"
         "# TYPE netledger_observations_total counter\n"
      << "netledger_observations_total " << s.observations << "\n"
      << "# HELP netledger_observations_dropped_total Observations refused: engine queue full.\n"
         "# TYPE netledger_observations_dropped_total counter\n"
      << "netledger_observations_dropped_total " << s.dropped << "\n"
      << "# HELP netledger_observations_queued Observations waiting for the engine.\n"
         "# TYPE netledger_observations_queued gauge\n"
      << "netledger_observations_queued " << s.queued << "\n"
      << "# HELP netledger_wire_view_dropped_total Claims the check's wire view did not keep: "
         "full.\n"
         "# TYPE netledger_wire_view_dropped_total counter\n"
      << "netledger_wire_view_dropped_total " << s.wire_view_dropped << "\n"
      << "# HELP netledger_conflicts_opened_total Conflicts opened.\n"
         "# TYPE netledger_conflicts_opened_total counter\n"
      << "netledger_conflicts_opened_total " << s.opened << "\n"
      << "# HELP netledger_remediations_total Remediation actions, by outcome.\n"
         "# TYPE netledger_remediations_total counter\n"
      << "netledger_remediations_total{outcome=\"ok\"} " << s.remediations << "\n"
      << "netledger_remediations_total{outcome=\"failed\"} " << s.remediation_failures << "\n"
      << "# HELP netledger_conflicts_unresolved Open or acknowledged conflicts, by kind.\n"
         "# TYPE netledger_conflicts_unresolved gauge\n";
  for (engine::ConflictKind k : engine::kAllConflictKinds) {
    std::string name(engine::conflictKindName(k));
    auto it = s.open_by_kind.find(name);
    out << "netledger_conflicts_unresolved{kind=\"" << name << "\"} "
        << (it == s.open_by_kind.end() ? 0 : it->second) << "\n";
  }
  return out.str();
}

void handleHealthz(ApiContext&, http::Request&, http::Responder res) {
  respondJson(res, 200, json::object{{"status", "ok"}});
}

void handleReadyz(ApiContext& ctx, http::Request&, http::Responder res) {
  if (!ctx.ready.load()) {
    return respondError(res, Status::unavailable("starting: the ledger is still loading"));
  }
  if (Status store = ctx.ledger.store().health(); !store.isOk()) return respondError(res, store);
  respondJson(res, 200, json::object{{"status", "ready"}});
}

void handleMetrics(ApiContext& ctx, http::Request&, http::Responder res) {
  http::Response r;
  r.contentType = std::string(metrics::Registry::kContentType);
  r.body = ctx.metrics.render() + poolMetrics(ctx.ledger) + engineMetrics(ctx.engine);
  res(std::move(r));
}

void handleOpenApi(ApiContext& ctx, http::Request&, http::Responder res) {
  res(http::Response::json(200, ctx.openapi));
}

void handleSnapshot(ApiContext& ctx, http::Request&, http::Responder res, const Actor&) {
  char path[] = "/tmp/netledger-snapshot-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return respondError(res, Status::unavailable("cannot create a temporary file"));
  ::close(fd);
  std::remove(path);  // the backup refuses to overwrite: give it a fresh name
  Status s = ctx.ledger.store().snapshotTo(path);
  if (!s.isOk()) return respondError(res, s);
  std::ifstream in(path, std::ios::binary);
  std::ostringstream data;
  data << in.rdbuf();
  std::remove(path);
  http::Response r;
  r.contentType = "application/vnd.sqlite3";
  r.headers.set("Content-Disposition", "attachment; filename=\"netledger-snapshot.db\"");
  r.body = data.str();
  res(std::move(r));
}

}  // namespace

Status registerOpsRoutes(http::Router& router, ApiContext& ctx) {
  NL_RETURN_IF_ERROR(router.add("GET", "/healthz", withoutAuth(ctx, handleHealthz)));
  NL_RETURN_IF_ERROR(router.add("GET", "/readyz", withoutAuth(ctx, handleReadyz)));
  NL_RETURN_IF_ERROR(router.add("GET", "/metrics", withoutAuth(ctx, handleMetrics)));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/openapi.json", withoutAuth(ctx, handleOpenApi)));
  // The whole store, every tenant's records included.
  return router.add(
      "GET", "/v1/snapshot",
      withAuth(ctx, handleSnapshot, Access{ledger::Role::kAdmin, "take snapshots", "a snapshot"}));
}

Status registerApi(http::Router& router, ApiContext& ctx) {
  NL_RETURN_IF_ERROR(registerOpsRoutes(router, ctx));
  NL_RETURN_IF_ERROR(registerPoolRoutes(router, ctx));
  NL_RETURN_IF_ERROR(registerMacPoolRoutes(router, ctx));
  NL_RETURN_IF_ERROR(registerBindingRoutes(router, ctx));
  NL_RETURN_IF_ERROR(registerHistoryRoutes(router, ctx));
  NL_RETURN_IF_ERROR(registerConsistencyRoutes(router, ctx));
  NL_RETURN_IF_ERROR(registerEventRoutes(router, ctx));
  NL_RETURN_IF_ERROR(registerWebhookRoutes(router, ctx));
  NL_RETURN_IF_ERROR(registerScanRoutes(router, ctx));
  NL_RETURN_IF_ERROR(registerStatsRoutes(router, ctx));
  NL_RETURN_IF_ERROR(registerPortMapRoutes(router, ctx));
  NL_RETURN_IF_ERROR(registerNodeStatusRoutes(router, ctx));
  NL_RETURN_IF_ERROR(registerCheckRoutes(router, ctx));
  NL_RETURN_IF_ERROR(registerReportRoutes(router, ctx));
  NL_RETURN_IF_ERROR(registerDashboardRoutes(router));
  return registerTokenRoutes(router, ctx);
}

}  // namespace netledger::server
