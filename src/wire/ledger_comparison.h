#pragma once
// A capture's stations compared with what the ledger says (`netledger analyze-pcap --server`).
// The ledger arrives as plain records so this stays pure and testable; the CLI fills them
// from GET /v1/pools and GET /v1/bindings.
//
//   binding_mismatch    a bound IP claimed by a MAC other than its binding's MAC: spoofing, or
//                       a stale neighbour; macs = the other claimants, mac = the bound MAC.
//   bound_mac_other_ip  a bound MAC claiming an address its binding does not hold (same family
//                       as one it holds; link-local addresses are never in the ledger and are
//                       skipped); mac = the bound MAC, ips = the other addresses.
//   unknown_station     an address inside a pool's CIDR held by no binding, other than the
//                       pool's gateway and its reserved ranges; macs = its claimants.
//   rogue_segment       a segment (VLAN) none of whose stations is inside a pool managed there
//                       (a pool of that VLAN, or of none, whose CIDRs hold the address):
//                       someone else's network on our wire; stations = all of its stations.

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "addr/ip_address.h"
#include "addr/ip_range.h"
#include "addr/mac.h"
#include "addr/prefix.h"
#include "wire/finding.h"

namespace netledger::wire {

struct LedgerPool {
  std::string name;
  std::vector<addr::Prefix> cidrs;
  std::optional<addr::IpAddress> gateway;
  std::vector<addr::IpRange> reserved;
  std::optional<int> vlan;  // the VLAN the pool is on; unset: not tied to one
};

// A binding that holds its addresses (state reserved or active).
struct LedgerBinding {
  std::string id;
  std::string instance;
  std::optional<addr::Mac> mac;
  std::vector<addr::IpAddress> addresses;
};

struct LedgerView {
  std::vector<LedgerPool> pools;
  std::vector<LedgerBinding> bindings;
};

// The ledger findings for `stations` (CaptureAnalyzer::stations()), sorted by findingOrder.
// Addresses are compared across VLANs (a pool names a network, not a segment); segments are
// compared with the pools' VLANs (rogue_segment).
std::vector<Finding> compareWithLedger(std::span<const Station> stations, const LedgerView& ledger);

}  // namespace netledger::wire
