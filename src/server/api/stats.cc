// /v1/stats/rates: allocations, releases and expirations per step over the last hour (the
// dashboard's rate chart), counted from committed events (the hour before the server started
// recovered from the audit log in the background; `since` says from when the counts are
// complete).
#include <boost/json.hpp>

#include "common/parse.h"
#include "ledger/codec.h"
#include "server/api/common.h"
#include "server/events/activity_rates.h"

namespace netledger::server {

namespace json = boost::json;
using ledger::Actor;

namespace {

Result<std::int64_t> secondsParam(const http::Request& req, std::string_view name,
                                  std::int64_t fallback) {
  auto v = req.queryParam(name);
  if (!v) return fallback;
  return parseInteger(name, *v, 1, ActivityRates::kWindowSeconds);
}

// The counts span every tenant, like the audit log they come from (see the route's access).
void handleRates(ApiContext& ctx, http::Request& req, http::Responder res, const Actor&) {
  auto window = secondsParam(req, "window_s", 3600);
  if (!window) return respondError(res, window.status());
  auto step = secondsParam(req, "step_s", 60);
  if (!step) return respondError(res, step.status());
  if (*step > *window || *window % *step != 0) {
    return respondError(
        res, Status::invalidArgument("step_s: must divide window_s (" + std::to_string(*window) +
                                     ") and not exceed it"));
  }
  if (ctx.rates == nullptr || ctx.clock == nullptr) {
    return respondError(res, Status::unavailable("rates: not kept by this server"));
  }
  Millis now =
      std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock->now().time_since_epoch())
          .count();
  json::array buckets;
  for (const auto& b : ctx.rates->buckets(now, *window, *step)) {
    buckets.emplace_back(json::object{{"t", ledger::formatTime(b.start)},
                                      {"allocations", b.allocations},
                                      {"releases", b.releases},
                                      {"expirations", b.expirations}});
  }
  respondJson(res, 200,
              json::object{{"window_s", *window},
                           {"step_s", *step},
                           {"since", ledger::formatTime(ctx.rates->coveredFrom())},
                           {"buckets", std::move(buckets)}});
}

}  // namespace

Status registerStatsRoutes(http::Router& router, ApiContext& ctx) {
  return router.add("GET", "/v1/stats/rates",
                    withAuth(ctx, handleRates, needsUnscoped("the rates")));
}

}  // namespace netledger::server
