#include "wire/finding.h"

#include <tuple>

namespace netledger::wire {

std::string_view findingKindName(FindingKind kind) {
  switch (kind) {
    case FindingKind::kDuplicateIp:
      return "duplicate_ip";
    case FindingKind::kMacFlapping:
      return "mac_flapping";
    case FindingKind::kDadConflict:
      return "dad_conflict";
    case FindingKind::kArpPoisoning:
      return "arp_poisoning";
    case FindingKind::kEthernetArpMismatch:
      return "ethernet_arp_mismatch";
    case FindingKind::kBindingMismatch:
      return "binding_mismatch";
    case FindingKind::kBoundMacOtherIp:
      return "bound_mac_other_ip";
    case FindingKind::kUnknownStation:
      return "unknown_station";
    case FindingKind::kRogueSegment:
      return "rogue_segment";
    case FindingKind::kNewStation:
      return "new_station";
  }
  return "unknown";
}

std::string_view severityName(FindingSeverity severity) {
  switch (severity) {
    case FindingSeverity::kInfo:
      return "info";
    case FindingSeverity::kWarning:
      return "warning";
    case FindingSeverity::kError:
      return "error";
  }
  return "unknown";
}

FindingSeverity severityOf(FindingKind kind) {
  switch (kind) {
    case FindingKind::kDuplicateIp:
    case FindingKind::kDadConflict:
    case FindingKind::kArpPoisoning:
    case FindingKind::kBindingMismatch:
      return FindingSeverity::kError;
    case FindingKind::kMacFlapping:
    case FindingKind::kEthernetArpMismatch:
    case FindingKind::kBoundMacOtherIp:
    case FindingKind::kUnknownStation:
    case FindingKind::kRogueSegment:
      return FindingSeverity::kWarning;
    case FindingKind::kNewStation:
      return FindingSeverity::kInfo;
  }
  return FindingSeverity::kInfo;
}

bool findingOrder(const Finding& a, const Finding& b) {
  if (a.severity != b.severity) return a.severity > b.severity;
  // optional<> orders "none" first, which keeps MAC-only findings ahead within their kind.
  return std::tie(a.kind, a.segment, a.ip, a.mac) < std::tie(b.kind, b.segment, b.ip, b.mac);
}

std::string macList(const std::vector<addr::Mac>& macs) {
  std::string s;
  for (const addr::Mac& m : macs) s += (s.empty() ? "" : ", ") + m.toString();
  return s;
}

}  // namespace netledger::wire
