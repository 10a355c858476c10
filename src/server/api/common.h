#pragma once
// What every handler does the same way: authenticate the bearer token, answer with JSON or a
// problem, and acknowledge a write only once the ledger says it is durable.

#include <functional>
#include <memory>
#include <string>

#include <boost/json/value.hpp>

#include "http/message.h"
#include "http/problem.h"
#include "http/responder.h"
#include "ledger/ledger.h"
#include "server/api/api.h"

namespace netledger::server {

// The actor behind `Authorization: Bearer <token>`; kUnauthorized when missing or unknown.
Result<ledger::Actor> authenticate(const ApiContext& ctx, const http::Request& req);

void respondJson(http::Responder& res, unsigned status, const boost::json::value& body);
void respondError(http::Responder& res, const Status& status);

// Sends `response` once `ticket` is durable; a failed commit becomes a 503 problem instead.
void respondWhenDurable(ApiContext& ctx, std::uint64_t ticket, http::Responder res,
                        http::Response response);

// A route's handler: a named function per route, registered with withAuth (route files list
// `router.add(method, path, withAuth(ctx, handleX, access))`).
using ApiHandler = void (*)(ApiContext& ctx, http::Request& req, http::Responder res,
                            const ledger::Actor& actor);
// The handler of a route that needs no token (health, readiness, metrics, the OpenAPI document).
using PublicHandler = void (*)(ApiContext& ctx, http::Request& req, http::Responder res);

// What a route asks of its token beyond being valid. withAuth checks it with ledger/actor.h's
// requireRole / requireUnscoped (one message format: token "ci" (role viewer) may not list
// webhooks: needs role admin) before the handler runs. Checks that depend on the record (its
// tenant) belong to the ledger's commands and reads.
struct Access {
  ledger::Role role = ledger::Role::kViewer;
  std::string action;    // what `role` is needed for: "list webhooks"
  std::string unscoped;  // non-empty: what spans every tenant ("the audit log"), refused to
                         // tenant-scoped tokens
};
Access needsRole(ledger::Role role, std::string action);
Access needsUnscoped(std::string what);
// OK when `actor` may call a route that asks for `access`; kForbidden otherwise.
Status authorize(const ledger::Actor& actor, const Access& access);

// Authenticates, authorizes (`access`), then runs `handler`; answers the problem otherwise.
http::Handler withAuth(ApiContext& ctx, ApiHandler handler, Access access = {});
// Runs `handler` without asking for a token.
http::Handler withoutAuth(ApiContext& ctx, PublicHandler handler);

// A binding as the API shows it: the ledger's record plus `mac_vendor` (IEEE registry
// organization, virtual-NIC platform, locally administered flag) when it has a MAC.
boost::json::object bindingJson(const ledger::BindingRecord& b);
// The same for a binding already serialized (the allocation path reuses its audit JSON).
std::string withMacVendor(std::string binding_json, const std::optional<addr::Mac>& mac);
// {"aa:bb:..": {vendor}, ...} for each distinct MAC, for conflicts and observations.
boost::json::object vendorsOf(const std::vector<std::string>& macs);

// Parses a path or query parameter that must be a binding id.
Result<std::uint64_t> parseId(std::string_view field, std::string_view text);

// limit=1..max (default `fallback`).
Result<std::size_t> parseLimit(const http::Request& req, std::size_t fallback, std::size_t max);

}  // namespace netledger::server
