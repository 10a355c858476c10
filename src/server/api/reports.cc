// /v1/reports/health: the address-health report (server/reports/health_report.h) for a period,
// and the scheduled one the elected replica records as a `report.health` event (which is how
// webhooks subscribed to report.health receive it).
#include <boost/json.hpp>

#include "common/parse.h"
#include "ledger/codec.h"
#include "server/api/common.h"
#include "server/reports/health_report.h"
#include "webhooks/dispatcher.h"

namespace netledger::server {

namespace json = boost::json;
using ledger::Actor;
using ledger::Millis;

namespace {

constexpr Millis kDefaultPeriodMs = 7LL * 86'400'000;
constexpr const char* kReportDoc = "health_report";

Result<Millis> timeParam(const http::Request& req, std::string_view name, Millis fallback) {
  auto v = req.queryParam(name);
  if (!v) return fallback;
  auto t = ledger::parseTime(*v);
  if (!t) return t.status().withContext(name);
  return *t;
}

Result<HealthOptions> healthOptions(const ApiContext& ctx, const http::Request& req) {
  HealthOptions o;
  auto to = timeParam(req, "to", ctx.engine->now());
  if (!to) return to.status();
  auto from = timeParam(req, "from", *to - kDefaultPeriodMs);
  if (!from) return from.status();
  if (*from >= *to) return Status::invalidArgument("from: must be before to");
  if (*to - *from > 366LL * 86'400'000) {
    return Status::invalidArgument("from: a report covers at most 366 days");
  }
  o.from = *from;
  o.to = *to;
  if (auto v = req.queryParam("step_s")) {
    auto step = parseInteger("step_s", *v, 60, 366LL * 86'400);
    if (!step) return step.status();
    o.step = *step * 1000;
    if (static_cast<std::size_t>((o.to - o.from + o.step - 1) / o.step) > kMaxHealthBuckets) {
      return Status::invalidArgument("step_s: more than " + std::to_string(kMaxHealthBuckets) +
                                     " buckets in the period; choose a longer step");
    }
  }
  return o;
}

void handleHealth(ApiContext& ctx, http::Request& req, http::Responder res, const Actor&) {
  auto options = healthOptions(ctx, req);
  if (!options) return respondError(res, options.status());
  respondJson(res, 200, buildHealthReport(ctx.ledger, *ctx.engine, *options));
}

}  // namespace

Status registerReportRoutes(http::Router& router, ApiContext& ctx) {
  return router.add("GET", "/v1/reports/health",
                    withAuth(ctx, handleHealth, needsUnscoped("the health report")));
}

bool recordScheduledHealthReport(ApiContext& ctx, Millis interval_ms) {
  if (interval_ms <= 0 || ctx.webhooks == nullptr || !ctx.webhooks->wants("report.health")) {
    return false;
  }
  const Millis now = ctx.engine->now();
  const auto last = ctx.ledger.document(kReportDoc, "latest");
  if (last && last->updated_at > now - interval_ms) return false;
  // A failed attempt (a store refusing the write) is not retried every sweep.
  if (ctx.health_report_attempt > now - 60'000) return false;
  ctx.health_report_attempt = now;
  HealthOptions o;
  o.from = now - interval_ms;
  o.to = now;
  const std::string report = json::serialize(buildHealthReport(ctx.ledger, *ctx.engine, o));
  // The document only marks when; the event carries the report (once: no "before" copy).
  const std::string mark = json::serialize(
      json::object{{"from", ledger::formatTime(o.from)}, {"to", ledger::formatTime(o.to)}});
  // if_version: of two replicas that both think it is time, one writes it.
  auto put =
      ctx.ledger.putDocument(Actor::system("report"), {kReportDoc, "latest", mark}, "report.health",
                             "report:health", {}, report, last ? last->version : 0);
  return put.isOk();
}

}  // namespace netledger::server
