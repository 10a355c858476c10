#include "engine/conflict.h"

#include <array>
#include <utility>

#include "common/enum_names.h"
#include "ledger/codec.h"

namespace netledger::engine {
namespace json = boost::json;

namespace {

using detail::nameOf;
using detail::Names;
using detail::parseOf;

constexpr Names<ConflictKind, 9> kKinds = {{
    {ConflictKind::kDuplicateIp, "duplicate_ip"},
    {ConflictKind::kBindingMismatch, "binding_mismatch"},
    {ConflictKind::kMacDrift, "mac_drift"},
    {ConflictKind::kMacFlapping, "mac_flapping"},
    {ConflictKind::kUnknownStation, "unknown_station"},
    {ConflictKind::kStaleBinding, "stale_binding"},
    {ConflictKind::kPoolOverlap, "pool_overlap"},
    {ConflictKind::kPoolUtilization, "pool_utilization"},
    {ConflictKind::kDhcpDecline, "dhcp_decline"},
}};
constexpr Names<Severity, 4> kSeverities = {{
    {Severity::kInfo, "info"},
    {Severity::kWarning, "warning"},
    {Severity::kHigh, "high"},
    {Severity::kCritical, "critical"},
}};
constexpr Names<ConflictStatus, 3> kStatuses = {{
    {ConflictStatus::kOpen, "open"},
    {ConflictStatus::kAcknowledged, "acknowledged"},
    {ConflictStatus::kResolved, "resolved"},
}};
constexpr Names<Policy, 4> kPolicies = {{
    {Policy::kNone, "none"},
    {Policy::kAlert, "alert"},
    {Policy::kQuarantineAndReassign, "quarantine_and_reassign"},
    {Policy::kRecordMigration, "record_migration"},
}};

std::string str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

Millis timeOf(const json::object& o, std::string_view key) {
  auto text = str(o, key);
  if (text.empty()) return 0;
  auto t = ledger::parseTime(text);
  return t ? *t : 0;
}

}  // namespace

std::string_view conflictKindName(ConflictKind k) { return nameOf(kKinds, k); }
Result<ConflictKind> parseConflictKind(std::string_view text) {
  return parseOf(kKinds, text, "kind");
}
std::string_view severityName(Severity s) { return nameOf(kSeverities, s); }
Result<Severity> parseSeverity(std::string_view text) {
  return parseOf(kSeverities, text, "severity");
}
std::string_view conflictStatusName(ConflictStatus s) { return nameOf(kStatuses, s); }
Result<ConflictStatus> parseConflictStatus(std::string_view text) {
  return parseOf(kStatuses, text, "status");
}
std::string_view policyName(Policy p) { return nameOf(kPolicies, p); }
Result<Policy> parsePolicy(std::string_view text) { return parseOf(kPolicies, text, "policy"); }

Status checkPolicy(ConflictKind kind, Policy policy) {
  if (policy == Policy::kQuarantineAndReassign && kind != ConflictKind::kDuplicateIp) {
    return Status::invalidArgument(std::string(conflictKindName(kind)) +
                                   ": quarantine_and_reassign applies to duplicate_ip only");
  }
  if (policy == Policy::kRecordMigration && kind != ConflictKind::kMacDrift) {
    return Status::invalidArgument(std::string(conflictKindName(kind)) +
                                   ": record_migration applies to mac_drift only");
  }
  return Status::ok();
}

Severity defaultSeverity(ConflictKind kind) {
  switch (kind) {
    case ConflictKind::kDuplicateIp:
      return Severity::kCritical;
    case ConflictKind::kBindingMismatch:
    case ConflictKind::kMacFlapping:
    case ConflictKind::kDhcpDecline:
    case ConflictKind::kPoolOverlap:
      return Severity::kHigh;
    case ConflictKind::kMacDrift:
    case ConflictKind::kUnknownStation:
    case ConflictKind::kPoolUtilization:
      return Severity::kWarning;
    case ConflictKind::kStaleBinding:
      return Severity::kInfo;
  }
  return Severity::kWarning;
}

json::object toJson(const Conflict& c) {
  json::object j;
  j["id"] = c.id;
  j["kind"] = conflictKindName(c.kind);
  j["severity"] = severityName(c.severity);
  j["status"] = conflictStatusName(c.status);
  j["network"] = c.network;
  j["subject"] = c.subject;
  if (!c.ip.empty()) j["ip"] = c.ip;
  if (!c.mac.empty()) j["mac"] = c.mac;
  if (!c.macs.empty()) {
    json::array macs;
    for (const auto& m : c.macs) macs.emplace_back(m);
    j["macs"] = std::move(macs);
  }
  if (c.binding_id) j["binding_id"] = *c.binding_id;
  if (!c.pool.empty()) j["pool"] = c.pool;
  j["message"] = c.message;
  j["first_seen"] = ledger::formatTime(c.first_seen);
  j["last_seen"] = ledger::formatTime(c.last_seen);
  j["count"] = c.count;
  j["evidence"] = c.evidence;
  if (!c.details.empty()) j["details"] = c.details;
  json::object r;
  r["policy"] = policyName(c.policy);
  if (!c.remediation.action.empty()) {
    r["action"] = c.remediation.action;
    r["result"] = c.remediation.result;
    r["ok"] = c.remediation.ok;
    r["at"] = ledger::formatTime(c.remediation.at);
  }
  j["remediation"] = std::move(r);
  if (!c.acknowledged_by.empty()) {
    j["acknowledged_by"] = c.acknowledged_by;
    j["acknowledged_at"] = ledger::formatTime(c.acknowledged_at);
  }
  if (!c.resolved_by.empty()) {
    j["resolved_by"] = c.resolved_by;
    j["resolved_at"] = ledger::formatTime(c.resolved_at);
    j["resolution"] = c.resolution;
  }
  return j;
}

Result<Conflict> conflictFromJson(const json::value& v) {
  if (!v.is_object()) return Status::invalidArgument("conflict: not an object");
  const json::object& o = v.get_object();
  Conflict c;
  const json::value* id = o.if_contains("id");
  if (id == nullptr || !id->is_number()) return Status::invalidArgument("conflict: no id");
  c.id = id->to_number<std::uint64_t>();
  auto kind = parseConflictKind(str(o, "kind"));
  if (!kind) return kind.status();
  c.kind = *kind;
  auto severity = parseSeverity(str(o, "severity"));
  if (!severity) return severity.status();
  c.severity = *severity;
  auto status = parseConflictStatus(str(o, "status"));
  if (!status) return status.status();
  c.status = *status;
  c.network = str(o, "network");
  c.subject = str(o, "subject");
  c.ip = str(o, "ip");
  c.mac = str(o, "mac");
  if (const json::value* macs = o.if_contains("macs"); macs != nullptr && macs->is_array()) {
    for (const auto& m : macs->get_array()) {
      if (m.is_string()) c.macs.emplace_back(m.get_string());
    }
  }
  if (const json::value* b = o.if_contains("binding_id"); b != nullptr && b->is_number()) {
    c.binding_id = b->to_number<std::uint64_t>();
  }
  c.pool = str(o, "pool");
  c.message = str(o, "message");
  c.first_seen = timeOf(o, "first_seen");
  c.last_seen = timeOf(o, "last_seen");
  if (const json::value* n = o.if_contains("count"); n != nullptr && n->is_number()) {
    c.count = n->to_number<std::uint64_t>();
  }
  if (const json::value* e = o.if_contains("evidence"); e != nullptr && e->is_array()) {
    c.evidence = e->get_array();
  }
  if (const json::value* d = o.if_contains("details"); d != nullptr && d->is_object()) {
    c.details = d->get_object();
  }
  if (const json::value* r = o.if_contains("remediation"); r != nullptr && r->is_object()) {
    const json::object& ro = r->get_object();
    auto policy = parsePolicy(str(ro, "policy"));
    if (!policy) return policy.status();
    c.policy = *policy;
    c.remediation.action = str(ro, "action");
    c.remediation.result = str(ro, "result");
    c.remediation.at = timeOf(ro, "at");
    if (const json::value* ok = ro.if_contains("ok"); ok != nullptr && ok->is_bool()) {
      c.remediation.ok = ok->get_bool();
    }
  }
  c.acknowledged_by = str(o, "acknowledged_by");
  c.acknowledged_at = timeOf(o, "acknowledged_at");
  c.resolved_by = str(o, "resolved_by");
  c.resolved_at = timeOf(o, "resolved_at");
  c.resolution = str(o, "resolution");
  return c;
}

}  // namespace netledger::engine
