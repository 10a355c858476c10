#pragma once
// What pcap analysis reports: findings about a capture alone (capture_analyzer.h) and about a
// capture compared with the ledger (ledger_comparison.h), in one shape so the CLI prints and
// serializes them one way.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "addr/ip_address.h"
#include "addr/mac.h"

namespace netledger::wire {

enum class FindingKind : std::uint8_t {
  // The capture alone.
  kDuplicateIp,          // two or more MACs claim one IP within the window
  kMacFlapping,          // an IP's MAC changes more than N times within the window
  kDadConflict,          // a probe (DAD or RFC 5227) for an address another MAC claims or defends
  kArpPoisoning,         // gratuitous/unsolicited replies taking over IPs; one MAC, many IPs
  kEthernetArpMismatch,  // Ethernet source differs from the ARP sender hardware address
  // The capture against the ledger.
  kBindingMismatch,  // a bound IP claimed by a MAC other than the bound one
  kBoundMacOtherIp,  // a bound MAC claiming an address its binding does not hold
  kUnknownStation,   // an address inside a pool that no binding holds
  kRogueSegment,     // a VLAN or subnet where no pool is managed, with stations on it
  // Summary.
  kNewStation,  // first sightings of (IP, MAC) pairs
};
inline constexpr int kFindingKindCount = 10;

// How serious a finding of `netledger analyze-pcap` is. Its own scale, not a conflict's
// (engine::Severity: info, warning, high, critical): a capture report says "error".
enum class FindingSeverity : std::uint8_t { kInfo, kWarning, kError };

// "duplicate_ip", "mac_flapping", ...
std::string_view findingKindName(FindingKind kind);
// "info", "warning", "error".
std::string_view severityName(FindingSeverity severity);
FindingSeverity severityOf(FindingKind kind);

// The L2 segment a station lives on: the same IP on two VLANs is two stations.
struct Segment {
  std::uint16_t vlan = 0;        // innermost VLAN id, 0 untagged
  std::uint16_t outer_vlan = 0;  // outer tag of QinQ, 0 none
  friend constexpr bool operator==(Segment, Segment) = default;
  friend constexpr auto operator<=>(Segment, Segment) = default;
};

// One (IP, MAC) pair seen claimed in a capture.
struct Station {
  addr::IpAddress ip;
  addr::Mac mac;
  Segment segment;
  std::uint64_t first_us = 0;
  std::uint64_t last_us = 0;
  std::uint64_t frames = 0;
};

struct Finding {
  FindingKind kind = FindingKind::kNewStation;
  FindingSeverity severity = FindingSeverity::kInfo;
  Segment segment;
  std::optional<addr::IpAddress> ip;  // the address concerned, when there is one
  std::optional<addr::Mac> mac;       // the MAC concerned (arp_poisoning, mismatch, bound MAC)
  std::vector<addr::Mac> macs;        // the MACs involved (claimants, ARP sender addresses)
  std::vector<addr::IpAddress> ips;   // the addresses involved (arp_poisoning, bound MAC)
  std::vector<Station> stations;      // new_station: the first sightings, oldest first;
                                      // rogue_segment: the segment's stations
  std::uint64_t count = 0;            // events (switches, changes, frames, pairs: see detail)
  std::uint64_t first_us = 0;
  std::uint64_t last_us = 0;
  std::string detail;  // one sentence for people
};

// Deterministic report order: severity (errors first), kind, segment, IP, MAC.
bool findingOrder(const Finding& a, const Finding& b);

// "m1, m2, ...": the MACs of a finding for its detail sentence.
std::string macList(const std::vector<addr::Mac>& macs);

}  // namespace netledger::wire
