// /v1/check: the ledger against the wire and against itself (server/check/wire_check.h).
// GET reports, with the fixes it would make; POST /v1/check/fix makes them (or, dry_run, only
// lists them). Both span every tenant: unscoped tokens only; fixing takes an admin.
#include <boost/json.hpp>

#include "common/parse.h"
#include "ledger/codec.h"
#include "server/api/common.h"
#include "server/api/json_input.h"
#include "server/check/wire_check.h"

namespace netledger::server {

namespace json = boost::json;
using ledger::Actor;
using ledger::Millis;

namespace {

constexpr Millis kDefaultLookBackMs = 86'400'000;

Millis nowOf(const ApiContext& ctx) { return ctx.engine->now(); }

// `since` (RFC 3339 or unix seconds), within what the engine's wire view reaches back to, and
// `grace_s`: how late the sweeps may be before that is a finding.
Result<CheckOptions> checkOptions(const ApiContext& ctx, std::optional<std::string_view> since,
                                  std::optional<std::int64_t> grace_s) {
  CheckOptions o;
  if (grace_s) {
    if (*grace_s < 0 || *grace_s > 86'400) {
      return Status::invalidArgument("grace_s: must be 0 to 86400");
    }
    o.grace = *grace_s * 1000;
  }
  o.now = nowOf(ctx);
  o.since = o.now - kDefaultLookBackMs;
  if (since) {
    auto t = ledger::parseTime(*since);
    if (!t) return t.status().withContext("since");
    o.since = *t;
  }
  const Millis reach = ctx.engine->options().wire_view_retention_ms;
  if (o.since > o.now) return Status::invalidArgument("since: in the future");
  // "7d" computed by a client a moment ago (or by a clock a little behind) means the whole view.
  if (o.since < o.now - reach && o.since >= o.now - reach - 300'000) o.since = o.now - reach;
  if (o.since < o.now - reach) {
    return Status::invalidArgument("since: the wire view reaches back " +
                                   std::to_string(reach / 86'400'000) + " days at most");
  }
  return o;
}

void handleCheck(ApiContext& ctx, http::Request& req, http::Responder res, const Actor&) {
  std::optional<std::int64_t> grace;
  if (auto v = req.queryParam("grace_s")) {
    auto g = parseInteger("grace_s", *v, 0, 86'400);
    if (!g) return respondError(res, g.status());
    grace = *g;
  }
  auto options = checkOptions(ctx, req.queryParam("since"), grace);
  if (!options) return respondError(res, options.status());
  CheckReport report = runCheck(ctx.ledger, ctx.engine->wireView(), *options);
  std::uint64_t ticket = 0;
  report.json["fixes"] = applyFixes(ctx.ledger, report, true, &ticket);
  respondJson(res, 200, report.json);
}

void handleFix(ApiContext& ctx, http::Request& req, http::Responder res, const Actor&) {
  auto body = JsonBody::parse(req.body.empty() ? "{}" : req.body);
  if (!body) return respondError(res, body.status());
  if (Status s = body->allowOnly({"since", "dry_run", "grace_s"}); !s.isOk()) {
    return respondError(res, s);
  }
  auto grace = body->optInt("grace_s", 0, 86'400);
  if (!grace) return respondError(res, grace.status());
  auto since = body->optString("since", 64);
  if (!since) return respondError(res, since.status());
  auto dry_run = body->optBool("dry_run");
  if (!dry_run) return respondError(res, dry_run.status());
  auto options =
      checkOptions(ctx, *since ? std::optional<std::string_view>(**since) : std::nullopt, *grace);
  if (!options) return respondError(res, options.status());
  CheckReport report = runCheck(ctx.ledger, ctx.engine->wireView(), *options);
  std::uint64_t ticket = 0;
  report.json["fixes"] = applyFixes(ctx.ledger, report, dry_run->value_or(false), &ticket);
  report.json["dry_run"] = dry_run->value_or(false);
  if (ticket == 0) return respondJson(res, 200, report.json);
  respondWhenDurable(ctx, ticket, std::move(res),
                     http::Response::json(200, json::serialize(report.json)));
}

}  // namespace

Status registerCheckRoutes(http::Router& router, ApiContext& ctx) {
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/check",
                                withAuth(ctx, handleCheck, needsUnscoped("the check report"))));
  Access fix = needsRole(ledger::Role::kAdmin, "fix what the check found");
  fix.unscoped = "the check report";
  return router.add("POST", "/v1/check/fix", withAuth(ctx, handleFix, fix));
}

}  // namespace netledger::server
