#pragma once
// `netledger check` (GET /v1/check, POST /v1/check/fix): the ledger against the wire and
// against itself, in one report — what `calicoctl ipam check` does for Calico's IPAM, plus what
// only an address authority that watches the wire can say:
//
//   leaks              active bindings never seen on the wire since `since` (candidate leaks;
//                      only on hosts this replica's engine heard from all along since then,
//                      without a gap of kWatchGapMs: a host whose agent was down is listed
//                      under `unwatched`, its bindings not judged)
//   unbound_addresses  addresses of managed pools seen on the wire with no binding
//   lingering_leases   addresses whose binding ended, still used by its MAC
//   misplaced_macs     a binding's MAC seen on another host than the binding's
//   unswept_leases     leases past their end the sweeper has not expired
//   overdue_quarantine quarantine past its end still holding addresses
//   overlapping_pools  pools of different clusters overlapping in one network
//   allocator          allocator counts and marks against the bindings
//
// Fixes (applyFixes): a leak is released, a misplaced MAC is recorded as a migration to the
// host it is seen on, overdue quarantine is swept; each change an audited event by actor
// "check". Everything else needs a person and is only reported.

#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "engine/engine.h"
#include "ledger/ledger.h"

namespace netledger::server {

struct CheckOptions {
  ledger::Millis now = 0;
  ledger::Millis since = 0;       // leaks: not seen since; unbound: seen since
  ledger::Millis grace = 60'000;  // sweeps this late are not yet findings
};

struct CheckReport {
  boost::json::object json;  // the report as GET /v1/check answers it
  std::size_t findings = 0;
  // What a fix would change.
  struct Fix {
    std::string action;  // "release", "migrate", "sweep_quarantine"
    std::uint64_t binding_id = 0;
    std::uint64_t version = 0;  // the binding's version the check saw: applied only if still so
    std::string host;           // migrate: the host the MAC is seen on
    std::string reason;
  };
  std::vector<Fix> fixes;
};

// Builds the report from the ledger (read as an unscoped system actor) and the engine's view.
CheckReport runCheck(const ledger::Ledger& ledger, const engine::Engine::WireView& wire,
                     const CheckOptions& options);

// Applies report.fixes as actor "check" (dry_run: none); each fix's outcome in the returned
// array ({action, binding_id, ..., "applied": bool, "error"?}). `last_ticket` is raised to the
// newest change's ticket: answer once it is durable.
boost::json::array applyFixes(ledger::Ledger& ledger, const CheckReport& report, bool dry_run,
                              std::uint64_t* last_ticket);

}  // namespace netledger::server
