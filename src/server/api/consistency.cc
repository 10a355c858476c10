// /v1/observations, /v1/conflicts and /v1/policies: the consistency engine's API.
#include <boost/json.hpp>

#include "engine/engine.h"
#include "ledger/codec.h"
#include "server/api/common.h"
#include "server/api/json_input.h"

namespace netledger::server {

namespace json = boost::json;
using ledger::Actor;

namespace {

constexpr std::size_t kMaxObservations = 10'000;
// 10,000 observations of ~200 bytes fit the server's one body limit (8 MiB by default).

// A tenant-limited token sees the conflicts of its tenants' bindings and pools only.
bool visibleTo(ApiContext& ctx, const Actor& actor, const engine::Conflict& c) {
  if (actor.tenants.empty()) return true;
  if (c.binding_id && ctx.ledger.getBinding(actor, *c.binding_id).isOk()) return true;
  if (!c.pool.empty() && ctx.ledger.getPool(actor, c.pool).isOk()) return true;
  return false;
}

Result<engine::ConflictFilter> parseFilter(const http::Request& req) {
  engine::ConflictFilter f;
  if (auto v = req.queryParam("kind")) {
    auto k = engine::parseConflictKind(*v);
    if (!k) return k.status();
    f.kind = *k;
  }
  if (auto v = req.queryParam("status")) {
    auto s = engine::parseConflictStatus(*v);
    if (!s) return s.status();
    f.status = *s;
  }
  if (auto v = req.queryParam("severity")) {
    auto s = engine::parseSeverity(*v);
    if (!s) return s.status();
    f.min_severity = *s;
  }
  if (auto v = req.queryParam("network")) f.network = std::string(*v);
  if (auto v = req.queryParam("subject")) f.subject = std::string(*v);
  if (auto v = req.queryParam("ip")) {
    auto ip = addr::IpAddress::parse(*v);
    if (!ip) return ip.status().withContext("ip");
    f.ip = ip->toString();
  }
  if (auto v = req.queryParam("mac")) {
    auto mac = addr::Mac::parse(*v);
    if (!mac) return mac.status().withContext("mac");
    f.mac = mac->toString();
  }
  if (auto v = req.queryParam("binding_id")) {
    auto id = parseId("binding_id", *v);
    if (!id) return id.status();
    f.binding_id = *id;
  }
  return f;
}

// A conflict as the API shows it: with the vendor of every MAC it mentions.
json::object conflictJson(const engine::Conflict& c) {
  json::object o = engine::toJson(c);
  std::vector<std::string> macs = c.macs;
  if (!c.mac.empty()) macs.push_back(c.mac);
  for (const auto& e : c.evidence) {
    if (const auto* m = e.is_object() ? e.get_object().if_contains("mac") : nullptr;
        m != nullptr && m->is_string()) {
      macs.emplace_back(m->get_string());
    }
  }
  o["mac_vendors"] = vendorsOf(macs);
  return o;
}

// open -> acknowledged or -> resolved, with an optional note.
void transition(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor,
                bool resolve) {
  auto id = parseId("id", req.param("id"));
  if (!id) return respondError(res, id.status());
  std::string note;
  if (!req.body.empty()) {
    auto body = JsonBody::parse(req.body);
    if (!body) return respondError(res, body.status());
    if (Status s = body->allowOnly({"note"}); !s.isOk()) return respondError(res, s);
    auto n = body->optString("note", 1024);
    if (!n) return respondError(res, n.status());
    note = n->value_or("");
  }
  auto current = ctx.engine->get(*id);
  if (!current || !visibleTo(ctx, actor, *current)) {
    return respondError(res, Status::notFound("conflict " + std::to_string(*id) + " not found"));
  }
  auto applied =
      resolve ? ctx.engine->resolve(actor, *id, note) : ctx.engine->acknowledge(actor, *id, note);
  if (!applied) return respondError(res, applied.status());
  auto response = http::Response::json(200, json::serialize(conflictJson(applied->value)));
  if (!applied->created) return res(std::move(response));
  respondWhenDurable(ctx, applied->ticket, std::move(res), std::move(response));
}

void handleAcknowledge(ApiContext& ctx, http::Request& req, http::Responder res,
                       const Actor& actor) {
  transition(ctx, req, std::move(res), actor, false);
}

void handleResolve(ApiContext& ctx, http::Request& req, http::Responder res, const Actor& actor) {
  transition(ctx, req, std::move(res), actor, true);
}

void handleObservations(ApiContext& ctx, http::Request& req, http::Responder res, const Actor&) {
  auto batch = engine::observationsFromJson(req.body, ctx.engine->now(), kMaxObservations);
  if (!batch) return respondError(res, batch.status());
  const std::size_t n = batch->size();
  if (Status s = ctx.engine->submit(std::move(*batch)); !s.isOk()) {
    auto problem = http::problemFromStatus(s);
    problem.headers.set("Retry-After", "1");
    return res(std::move(problem));
  }
  respondJson(res, 202, json::object{{"accepted", n}});
}

void handleListConflicts(ApiContext& ctx, http::Request& req, http::Responder res,
                         const Actor& actor) {
  auto filter = parseFilter(req);
  if (!filter) return respondError(res, filter.status());
  auto limit = parseLimit(req, 100, 1000);
  if (!limit) return respondError(res, limit.status());
  std::string cursor(req.queryParam("cursor").value_or(""));
  json::array items;
  std::string next;
  // Tenant filtering happens after the engine's page, so page until full or done.
  while (items.size() < *limit) {
    auto page = ctx.engine->list(*filter, cursor, *limit - items.size());
    if (!page) return respondError(res, page.status());
    for (const auto& c : page->items) {
      if (visibleTo(ctx, actor, c)) items.emplace_back(conflictJson(c));
    }
    next = page->next_cursor;
    if (next.empty()) break;
    cursor = next;
  }
  respondJson(res, 200, json::object{{"items", std::move(items)}, {"next_cursor", next}});
}

json::object zeroBySeverity() {
  json::object o;
  for (auto s : {engine::Severity::kCritical, engine::Severity::kHigh, engine::Severity::kWarning,
                 engine::Severity::kInfo}) {
    o[engine::severityName(s)] = 0;
  }
  return o;
}

// Unresolved conflicts counted by status and severity, and by kind: the dashboard's overview.
void handleSummary(ApiContext& ctx, http::Request&, http::Responder res, const Actor& actor) {
  json::object out{{"open", zeroBySeverity()}, {"acknowledged", zeroBySeverity()}};
  json::object kinds;
  for (auto status : {engine::ConflictStatus::kOpen, engine::ConflictStatus::kAcknowledged}) {
    engine::ConflictFilter filter;
    filter.status = status;
    json::object& counts = out[engine::conflictStatusName(status)].as_object();
    std::string cursor;
    do {
      auto page = ctx.engine->list(filter, cursor, 1000);
      if (!page) return respondError(res, page.status());
      for (const auto& c : page->items) {
        if (!visibleTo(ctx, actor, c)) continue;
        counts[engine::severityName(c.severity)].as_int64() += 1;
        auto& k = kinds[engine::conflictKindName(c.kind)];
        k = k.is_int64() ? k.as_int64() + 1 : 1;
      }
      cursor = page->next_cursor;
    } while (!cursor.empty());
  }
  out["by_kind"] = std::move(kinds);
  respondJson(res, 200, out);
}

void handleGetConflict(ApiContext& ctx, http::Request& req, http::Responder res,
                       const Actor& actor) {
  auto id = parseId("id", req.param("id"));
  if (!id) return respondError(res, id.status());
  auto c = ctx.engine->get(*id);
  if (!c || !visibleTo(ctx, actor, *c)) {
    return respondError(res, Status::notFound("conflict " + std::to_string(*id) + " not found"));
  }
  respondJson(res, 200, conflictJson(*c));
}

json::object policiesJson(const engine::Engine& engine) {
  json::object o;
  for (const auto& [kind, policy] : engine.policies()) {
    o[engine::conflictKindName(kind)] = engine::policyName(policy);
  }
  return o;
}

void handleGetPolicies(ApiContext& ctx, http::Request&, http::Responder res, const Actor&) {
  respondJson(res, 200, policiesJson(*ctx.engine));
}

void handlePutPolicies(ApiContext& ctx, http::Request& req, http::Responder res,
                       const Actor& actor) {
  auto body = JsonBody::parse(req.body);
  if (!body) return respondError(res, body.status());
  std::map<engine::ConflictKind, engine::Policy> changes;
  json::error_code ec;
  json::value v = json::parse(req.body, ec);
  for (const auto& field : v.get_object()) {
    auto kind = engine::parseConflictKind(field.key());
    if (!kind) return respondError(res, kind.status().withContext(field.key()));
    if (!field.value().is_string()) {
      return respondError(res, badField(field.key(), "must be a policy name", field.value()));
    }
    auto policy = engine::parsePolicy(field.value().get_string());
    if (!policy) return respondError(res, policy.status().withContext(field.key()));
    changes[*kind] = *policy;
  }
  auto ticket = ctx.engine->setPolicies(actor, changes);
  if (!ticket) return respondError(res, ticket.status());
  respondWhenDurable(ctx, *ticket, std::move(res),
                     http::Response::json(200, json::serialize(policiesJson(*ctx.engine))));
}

}  // namespace

Status registerConsistencyRoutes(http::Router& router, ApiContext& ctx) {
  using ledger::Role;
  NL_RETURN_IF_ERROR(router.add(
      "POST", "/v1/observations",
      withAuth(ctx, handleObservations, needsRole(Role::kOperator, "post observations"))));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/conflicts", withAuth(ctx, handleListConflicts)));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/conflicts/summary", withAuth(ctx, handleSummary)));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/conflicts/{id}", withAuth(ctx, handleGetConflict)));
  NL_RETURN_IF_ERROR(router.add(
      "POST", "/v1/conflicts/{id}/ack",
      withAuth(ctx, handleAcknowledge, needsRole(Role::kOperator, "acknowledge conflicts"))));
  NL_RETURN_IF_ERROR(
      router.add("POST", "/v1/conflicts/{id}/resolve",
                 withAuth(ctx, handleResolve, needsRole(Role::kOperator, "resolve conflicts"))));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/policies", withAuth(ctx, handleGetPolicies)));
  return router.add("PUT", "/v1/policies",
                    withAuth(ctx, handlePutPolicies, needsRole(Role::kAdmin, "change policies")));
}

}  // namespace netledger::server
