#pragma once
// Who is acting, and the one place that decides what they may do: the role check and the
// tenant scope check, with one message format, used by the Ledger and by every API handler.
//
//   NL_RETURN_IF_ERROR(requireRole(actor, Role::kOperator, "allocate"));
//   if (!actor.mayAccessTenant(pool.tenant)) return hiddenPool(pool.name);

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "ledger/model.h"

namespace netledger::ledger {

// Who is acting: the authenticated token. Every event records `name`.
struct Actor {
  std::string name;
  Role role = Role::kViewer;
  std::vector<std::string> tenants;  // empty: every tenant
  bool mayAccessTenant(std::string_view tenant) const;
  static Actor system(std::string name) { return {std::move(name), Role::kAdmin, {}}; }
};

// kForbidden unless `actor` has at least `role`:
// token "ci" (role viewer) may not allocate: needs role operator
Status requireRole(const Actor& actor, Role role, std::string_view what);

// kForbidden for a tenant-scoped token: `what` ("the audit log") spans every tenant.
Status requireUnscoped(const Actor& actor, std::string_view what);

// kForbidden unless `actor` may act for `tenant` (creating something that belongs to it):
// token "red" may not <what> for tenant "blue"
Status requireTenant(const Actor& actor, std::string_view tenant, std::string_view what);

// What a tenant-scoped token sees of a record outside its tenants: nothing. kNotFound with the
// same text as for a record that does not exist, so a scoped token cannot learn other tenants'
// names. `what` is e.g. "pool \"blue\"" or "binding 7".
Status hiddenOutsideTenants(const Actor& actor, std::string_view tenant, std::string_view what);

}  // namespace netledger::ledger
