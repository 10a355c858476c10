// /v1/tokens: API tokens (admin only). The secret is returned once, at creation.
#include <boost/json.hpp>

#include "ledger/codec.h"
#include "server/api/common.h"
#include "server/api/json_input.h"

namespace netledger::server {

namespace json = boost::json;
using ledger::Actor;

namespace {

// POST /v1/tokens (the ledger checks the role: it is the command's own rule).
void handleCreateToken(ApiContext& ctx, http::Request& req, http::Responder res,
                       const Actor& actor) {
  auto body = JsonBody::parse(req.body);
  if (!body) return respondError(res, body.status());
  if (Status s = body->allowOnly({"name", "role", "tenants"}); !s.isOk()) {
    return respondError(res, s);
  }
  auto name = body->string("name", 63);
  if (!name) return respondError(res, name.status());
  auto role_text = body->optString("role", 16);
  if (!role_text) return respondError(res, role_text.status());
  auto role = ledger::parseRole(role_text->value_or("viewer"));
  if (!role) return respondError(res, role.status());
  auto tenants = body->stringArray("tenants", 64);
  if (!tenants) return respondError(res, tenants.status());
  auto applied = ctx.ledger.createToken(actor, *name, *role, *tenants);
  if (!applied) return respondError(res, applied.status());
  json::object o = ledger::toJson(applied->value.first);
  o["secret"] = applied->value.second;
  respondWhenDurable(ctx, applied->ticket, std::move(res),
                     http::Response::json(201, json::serialize(o)));
}

void handleListTokens(ApiContext& ctx, http::Request&, http::Responder res, const Actor& actor) {
  json::array items;
  for (const auto& t : ctx.ledger.listTokens(actor)) items.emplace_back(ledger::toJson(t));
  respondJson(res, 200, json::object{{"items", std::move(items)}});
}

// Who the token is: the dashboard's sign-in checks a pasted token with it and shows the role.
void handleWhoami(ApiContext&, http::Request&, http::Responder res, const Actor& actor) {
  json::array tenants;
  for (const auto& t : actor.tenants) tenants.emplace_back(t);
  respondJson(res, 200,
              json::object{{"name", actor.name},
                           {"role", ledger::roleName(actor.role)},
                           {"tenants", std::move(tenants)}});
}

void handleDeleteToken(ApiContext& ctx, http::Request& req, http::Responder res,
                       const Actor& actor) {
  auto applied = ctx.ledger.deleteToken(actor, std::string(req.param("name")));
  if (!applied) return respondError(res, applied.status());
  respondWhenDurable(ctx, applied->ticket, std::move(res), http::Response::noContent());
}

}  // namespace

Status registerTokenRoutes(http::Router& router, ApiContext& ctx) {
  using ledger::Role;
  NL_RETURN_IF_ERROR(router.add("POST", "/v1/tokens", withAuth(ctx, handleCreateToken)));
  NL_RETURN_IF_ERROR(
      router.add("GET", "/v1/tokens",
                 withAuth(ctx, handleListTokens, needsRole(Role::kAdmin, "list tokens"))));
  NL_RETURN_IF_ERROR(router.add("GET", "/v1/whoami", withAuth(ctx, handleWhoami)));
  return router.add("DELETE", "/v1/tokens/{name}", withAuth(ctx, handleDeleteToken));
}

}  // namespace netledger::server
