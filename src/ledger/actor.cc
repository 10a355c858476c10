#include "ledger/actor.h"

#include <algorithm>

namespace netledger::ledger {

bool Actor::mayAccessTenant(std::string_view tenant) const {
  return tenants.empty() || std::find(tenants.begin(), tenants.end(), tenant) != tenants.end();
}

Status requireRole(const Actor& actor, Role role, std::string_view what) {
  if (actor.role >= role) return Status::ok();
  return Status::forbidden("token \"" + actor.name + "\" (role " +
                           std::string(roleName(actor.role)) + ") may not " + std::string(what) +
                           ": needs role " + std::string(roleName(role)));
}

Status requireUnscoped(const Actor& actor, std::string_view what) {
  if (actor.tenants.empty()) return Status::ok();
  return Status::forbidden(std::string(what) + " needs a token without tenant scope");
}

Status requireTenant(const Actor& actor, std::string_view tenant, std::string_view what) {
  if (actor.mayAccessTenant(tenant)) return Status::ok();
  return Status::forbidden("token \"" + actor.name + "\" may not " + std::string(what) +
                           " for tenant \"" + std::string(tenant) + "\"");
}

Status hiddenOutsideTenants(const Actor& actor, std::string_view tenant, std::string_view what) {
  if (actor.mayAccessTenant(tenant)) return Status::ok();
  return Status::notFound(std::string(what) + " not found");
}

}  // namespace netledger::ledger
