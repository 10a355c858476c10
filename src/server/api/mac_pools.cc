// /v1/mac-pools: MAC pools.
#include <boost/json.hpp>

#include "ledger/codec.h"
#include "server/api/common.h"
#include "server/api/json_input.h"

namespace netledger::server {

namespace json = boost::json;
using ledger::Actor;

namespace {

Result<ledger::MacPoolRecord> parseMacPoolCreate(const JsonBody& body) {
  NL_RETURN_IF_ERROR(body.allowOnly({"name", "prefix", "strategy", "quarantine_s"}));
  ledger::MacPoolRecord r;
  auto name = body.string("name", 63);
  if (!name) return name.status();
  r.name = *name;
  if (auto v = body.optString("prefix", 64); !v) {
    return v.status();
  } else if (*v) {
    auto p = addr::MacPrefix::parse(**v);
    if (!p) return p.status().withContext("prefix");
    r.prefix = *p;
  }
  if (auto v = body.optString("strategy", 32); !v) {
    return v.status();
  } else if (*v) {
    auto s = alloc::parseMacStrategy(**v);
    if (!s) return s.status();
    r.strategy = *s;
  }
  if (auto v = body.optInt("quarantine_s", 0, 365LL * 86400); !v)
    return v.status();
  else if (*v)
    r.quarantine_s = **v;
  return r;
}

void handleCreateMacPool(ApiContext& ctx, http::Request& req, http::Responder res,
                         const Actor& actor) {
  auto body = JsonBody::parse(req.body);
  if (!body) return respondError(res, body.status());
  auto record = parseMacPoolCreate(*body);
  if (!record) return respondError(res, record.status());
  auto applied = ctx.ledger.createMacPool(actor, std::move(record).value());
  if (!applied) return respondError(res, applied.status());
  auto response = http::Response::json(201, json::serialize(ledger::toJson(applied->value)));
  response.headers.set("Location", "/v1/mac-pools/" + applied->value.name);
  respondWhenDurable(ctx, applied->ticket, std::move(res), std::move(response));
}

void handleListMacPools(ApiContext& ctx, http::Request&, http::Responder res, const Actor& actor) {
  json::array items;
  for (const auto& p : ctx.ledger.listMacPools(actor)) items.emplace_back(ledger::toJson(p));
  respondJson(res, 200, json::object{{"items", std::move(items)}});
}

void handleGetMacPool(ApiContext& ctx, http::Request& req, http::Responder res,
                      const Actor& actor) {
  auto p = ctx.ledger.getMacPool(actor, std::string(req.param("name")));
  if (!p) return respondError(res, p.status());
  respondJson(res, 200, ledger::toJson(*p));
}

void handleDeleteMacPool(ApiContext& ctx, http::Request& req, http::Responder res,
                         const Actor& actor) {
  auto applied = ctx.ledger.deleteMacPool(actor, std::string(req.param("name")));
  if (!applied) return respondError(res, applied.status());
  respondWhenDurable(ctx, applied->ticket, std::move(res), http::Response::noContent());
}

}  // namespace

// Roles are the ledger's MAC pool commands' own rules.
Status registerMacPoolRoutes(http::Router& router, ApiContext& ctx) {
  NL_RETURN_IF_ERROR(router.add("POST", "/v1/mac-pools", withAuth(ctx, handleCreateMacPool)));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/mac-pools", withAuth(ctx, handleListMacPools)));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/mac-pools/{name}", withAuth(ctx, handleGetMacPool)));
  return router.add("DELETE", "/v1/mac-pools/{name}", withAuth(ctx, handleDeleteMacPool));
}

}  // namespace netledger::server
