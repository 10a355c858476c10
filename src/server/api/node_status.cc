// /v1/hosts/{host}/enforcement: what each node's agent reports of its nftables tables (the
// anti-spoofing guard and the port forwards). A table the kernel refused leaves the node on its
// last good rules; that must not stay in the agent's log: a change of state is a ledger event
// (enforcement.failed, enforcement.restored) on the event stream, in webhooks and the audit log.
// Only changes are written, so an agent may report as often as it likes.
#include <boost/json.hpp>

#include "ledger/codec.h"
#include "server/api/common.h"
#include "server/api/json_input.h"

namespace netledger::server {

namespace json = boost::json;
using ledger::Actor;

namespace {

constexpr const char* kStatusKind = "node-enforcement";

struct Report {
  bool ok = true;
  std::string error;
};

Result<Report> parseReport(const JsonBody& body) {
  NL_RETURN_IF_ERROR(body.allowOnly({"ok", "error"}));
  auto ok = body.optBool("ok");
  if (!ok) return ok.status();
  if (!*ok) return Status::invalidArgument("ok: required (true or false)");
  auto error = body.optString("error", 2048);
  if (!error) return error.status();
  Report r{**ok, error->value_or("")};
  if (r.ok && !r.error.empty()) return Status::invalidArgument("error: only with ok false");
  if (!r.ok && r.error.empty()) return Status::invalidArgument("error: required with ok false");
  return r;
}

void handleReport(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  const std::string host(req.param("host"));
  auto body = JsonBody::parse(req.body);
  if (!body) return respondError(res, body.status());
  auto report = parseReport(*body);
  if (!report) return respondError(res, report.status());
  json::object state{{"host", host}, {"ok", report->ok}};
  state["error"] = report->ok ? json::value(nullptr) : json::value(report->error);
  auto before = ctx.ledger.document(kStatusKind, host);
  if (before) {
    json::error_code ec;
    json::value old = json::parse(before->body, ec);
    if (!ec && old.is_object() && old.get_object().if_contains("ok") &&
        old.get_object()["ok"] == state["ok"] && old.get_object()["error"] == state["error"]) {
      return respondJson(res, 200, old);  // nothing new: no write, no event
    }
  }
  state["since"] = ledger::formatTime(ctx.engine->now());
  // A node's first report of good tables is its normal state: recorded without an event.
  const std::string op = !before && report->ok ? ""
                         : report->ok          ? "enforcement.restored"
                                               : "enforcement.failed";
  auto applied = ctx.ledger.putDocument(actor, {kStatusKind, host, json::serialize(state), 0, 0},
                                        op, "host:" + host);
  if (!applied) return respondError(res, applied.status());
  return respondWhenDurable(ctx, applied->ticket, std::move(res),
                            http::Response::json(200, json::serialize(state)));
}

void handleGetReport(ApiContext& ctx, http::Request& req, http::Responder res, const Actor&) {
  const std::string host(req.param("host"));
  auto d = ctx.ledger.document(kStatusKind, host);
  if (!d) {
    return respondError(res, Status::notFound("host \"" + host + "\" has reported no tables"));
  }
  json::error_code ec;
  json::value v = json::parse(d->body, ec);
  if (ec) return respondError(res, Status::internal("node-enforcement " + host + ": bad body"));
  respondJson(res, 200, v);
}

}  // namespace

Status registerNodeStatusRoutes(http::Router& router, ApiContext& ctx) {
  NL_RETURN_IF_ERROR(
      router.add("PUT", "/v1/hosts/{host}/enforcement",
                 withAuth(ctx, handleReport,
                          needsRole(ledger::Role::kOperator, "report a node's enforcement"))));
  return router.add("GET", "/v1/hosts/{host}/enforcement", withAuth(ctx, handleGetReport));
}

}  // namespace netledger::server
