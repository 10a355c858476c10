#pragma once
// Conflicts: disagreements between the wire, the ledger and configuration (SPEC.md), and the
// remediation policies that say what the engine may do about each kind.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "addr/network.h"
#include "common/status.h"
#include "ledger/model.h"

namespace netledger::engine {

using ledger::Millis;

enum class ConflictKind : std::uint8_t {
  kDuplicateIp,      // one IP claimed by two or more MACs within a window
  kBindingMismatch,  // a bound IP seen with another MAC (spoofing or a stale cache)
  kMacDrift,         // a bound MAC seen from another host (unrecorded migration)
  kMacFlapping,      // a MAC changing host/port faster than the threshold
  kUnknownStation,   // an address in a managed pool (or network) that the ledger never gave out
  kStaleBinding,     // expired yet still seen, or active yet never seen
  kPoolOverlap,      // pools of one network from different control planes overlap
  kPoolUtilization,  // a pool over its threshold, with an exhaustion forecast
  kDhcpDecline,      // a DHCP client declining address after address: over its budget, no offers
};
inline constexpr ConflictKind kAllConflictKinds[] = {
    ConflictKind::kDuplicateIp, ConflictKind::kBindingMismatch, ConflictKind::kMacDrift,
    ConflictKind::kMacFlapping, ConflictKind::kUnknownStation,  ConflictKind::kStaleBinding,
    ConflictKind::kPoolOverlap, ConflictKind::kPoolUtilization, ConflictKind::kDhcpDecline};

enum class Severity : std::uint8_t { kInfo, kWarning, kHigh, kCritical };
enum class ConflictStatus : std::uint8_t { kOpen, kAcknowledged, kResolved };

// What the engine does when a conflict of a kind opens.
enum class Policy : std::uint8_t {
  kNone,                   // record the conflict; notify no one
  kAlert,                  // record and notify (event stream, webhooks)
  kQuarantineAndReassign,  // duplicate_ip on a dynamic binding: new address, old one quarantined
  kRecordMigration,        // mac_drift confirmed by the new host: update the binding's host
};

std::string_view conflictKindName(ConflictKind k);
Result<ConflictKind> parseConflictKind(std::string_view text);
std::string_view severityName(Severity s);
Result<Severity> parseSeverity(std::string_view text);
std::string_view conflictStatusName(ConflictStatus s);
Result<ConflictStatus> parseConflictStatus(std::string_view text);
std::string_view policyName(Policy p);
Result<Policy> parsePolicy(std::string_view text);
// Whether `policy` makes sense for `kind` (repairs are kind-specific); the error says which
// kinds the policy applies to.
Status checkPolicy(ConflictKind kind, Policy policy);
Severity defaultSeverity(ConflictKind kind);

struct Remediation {
  std::string action;  // "" none taken; "quarantine_and_reassign", "record_migration"
  std::string result;  // what happened, for people
  Millis at = 0;
  bool ok = false;
};

struct Conflict {
  std::uint64_t id = 0;
  ConflictKind kind = ConflictKind::kDuplicateIp;
  Severity severity = Severity::kWarning;
  ConflictStatus status = ConflictStatus::kOpen;
  std::string network{addr::kDefaultNetwork};
  std::string subject;            // "ip:192.0.2.7", "mac:52:54:00:..", "binding:12", "pool:lab"
  std::string ip, mac;            // the addresses involved, when there is one ("" otherwise)
  std::vector<std::string> macs;  // every MAC seen claiming `ip` (duplicate_ip)
  std::optional<std::uint64_t> binding_id;
  std::string pool;
  std::string message;
  Millis first_seen = 0, last_seen = 0;
  std::uint64_t count = 0;
  boost::json::array evidence;  // observations (newest last), bounded
  boost::json::object details;  // kind-specific: forecast, hosts, pools, ...
  Policy policy = Policy::kAlert;
  Remediation remediation;
  std::string acknowledged_by, resolved_by, resolution;
  Millis acknowledged_at = 0, resolved_at = 0;
};

boost::json::object toJson(const Conflict& c);
Result<Conflict> conflictFromJson(const boost::json::value& v);

}  // namespace netledger::engine
