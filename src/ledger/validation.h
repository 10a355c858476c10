#pragma once
// The Ledger's input rules, in one place: each command checks its input here before it takes
// the lock, and pool creation and pool updates check the resulting record with the same
// validator, so what one refuses the other cannot store. Every error is kInvalidArgument and
// starts with the field's name.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "addr/mac.h"
#include "common/status.h"
#include "ledger/commands.h"
#include "ledger/model.h"

namespace netledger::ledger {

// Pool, MAC pool, token, tenant and network names: 1 to 63 of [A-Za-z0-9._-].
Status validateName(std::string_view field, std::string_view name);
// Free text: at most `max` bytes, no control characters; "" only when not `required`.
Status validatePrintable(std::string_view field, std::string_view value, std::size_t max,
                         bool required);
// A lease length in seconds: 0 (none) to ten years.
Status validateTtl(std::string_view field, std::optional<std::int64_t> ttl_s);
// A station's own MAC: unicast and not all zeros.
Status validateStationMac(std::string_view field, const std::optional<addr::Mac>& mac);

// Everything a pool record must satisfy on its own: names, text, numeric ranges and the
// combinations of parent, external and auto_expand. Creation and updates both run it.
Status validatePool(const PoolRecord& pool);
// The gateway, ranges and reserved ranges lie inside the pool's CIDRs (which must be known:
// after carving, for a child pool).
Status validatePoolLayout(const PoolRecord& pool);

Status validateMacPool(const MacPoolRecord& pool);
Status validateAllocateRequest(const AllocateRequest& request);
Status validateBindingUpdate(const BindingUpdate& update);

}  // namespace netledger::ledger
