#include "wire/ledger_comparison.h"

#include <algorithm>
#include <map>

#include <boost/unordered/unordered_flat_map.hpp>

namespace netledger::wire {

namespace {

using addr::IpAddress;
using addr::Mac;

bool isLinkLocal(const IpAddress& ip) {
  if (ip.isV4()) return (ip.v4().value() >> 16) == 0xa9fe;          // 169.254.0.0/16
  return (ip.v6().value() >> 118) == (addr::uint128{0xfe80} >> 6);  // fe80::/10
}

// Widens first/last/count of `f` by a station's sightings.
void absorb(Finding& f, const Station& s) {
  f.first_us = f.count == 0 ? s.first_us : std::min(f.first_us, s.first_us);
  f.last_us = std::max(f.last_us, s.last_us);
  f.count += s.frames;
}

std::string bindingName(const LedgerBinding& b) {
  return "binding " + b.id + (b.instance.empty() ? "" : " (" + b.instance + ")");
}

const LedgerPool* poolContaining(const LedgerView& ledger, const IpAddress& ip) {
  for (const LedgerPool& p : ledger.pools) {
    for (const addr::Prefix& c : p.cidrs) {
      if (c.contains(ip)) return &p;
    }
  }
  return nullptr;
}

bool exempt(const LedgerPool& pool, const IpAddress& ip) {
  if (pool.gateway && *pool.gateway == ip) return true;
  return std::any_of(pool.reserved.begin(), pool.reserved.end(),
                     [&](const addr::IpRange& r) { return r.contains(ip); });
}

// The ledger indexed for the station look-ups; one finding per IP (mismatch, unknown) or per
// bound MAC, in std::maps so the result does not depend on the stations' order.
struct Comparison {
  const LedgerView& ledger;
  boost::unordered_flat_map<IpAddress, const LedgerBinding*, addr::IpAddressHash> by_ip;
  boost::unordered_flat_map<Mac, const LedgerBinding*, addr::MacHash> by_mac;
  std::map<IpAddress, Finding> per_ip;
  std::map<Mac, Finding> per_mac;

  explicit Comparison(const LedgerView& view) : ledger(view) {
    for (const LedgerBinding& b : ledger.bindings) {
      for (const IpAddress& ip : b.addresses) by_ip.try_emplace(ip, &b);
      if (b.mac) by_mac.try_emplace(*b.mac, &b);
    }
  }

  // The station's IP: bound to another MAC, or inside a pool and bound to nobody.
  void checkIp(const Station& s) {
    if (auto it = by_ip.find(s.ip); it != by_ip.end()) {
      const LedgerBinding& b = *it->second;
      if (!b.mac || *b.mac == s.mac) return;
      Finding& f = per_ip[s.ip];
      if (f.macs.empty()) {
        f.kind = FindingKind::kBindingMismatch;
        f.segment = s.segment;
        f.ip = s.ip;
        f.mac = *b.mac;
        f.detail = "bound to " + b.mac->toString() + " by " + bindingName(b) + "; claimed by ";
      }
      f.macs.push_back(s.mac);
      absorb(f, s);
      return;
    }
    const LedgerPool* pool = poolContaining(ledger, s.ip);
    if (pool == nullptr || exempt(*pool, s.ip)) return;
    Finding& f = per_ip[s.ip];
    if (f.macs.empty()) {
      f.kind = FindingKind::kUnknownStation;
      f.segment = s.segment;
      f.ip = s.ip;
      f.detail = "inside pool " + pool->name + " but held by no binding; claimed by ";
    }
    f.macs.push_back(s.mac);
    absorb(f, s);
  }

  // The station's MAC: bound, and claiming an address of a family its binding holds but not
  // this one.
  void checkMac(const Station& s) {
    auto bound = by_mac.find(s.mac);
    if (bound == by_mac.end() || isLinkLocal(s.ip)) return;
    const LedgerBinding& b = *bound->second;
    bool holds = false, same_family = false;
    for (const IpAddress& a : b.addresses) {
      holds = holds || a == s.ip;
      same_family = same_family || a.family() == s.ip.family();
    }
    if (holds || !same_family) return;
    Finding& f = per_mac[s.mac];
    if (f.ips.empty()) {
      f.kind = FindingKind::kBoundMacOtherIp;
      f.segment = s.segment;
      f.mac = s.mac;
      f.detail = "bound by " + bindingName(b) + " but also claims ";
    }
    f.ips.push_back(s.ip);
    absorb(f, s);
  }

  std::vector<Finding> findings() {
    std::vector<Finding> out;
    for (auto& [ip, f] : per_ip) {
      // One MAC seen on two VLANs is listed once, at its first place.
      std::vector<Mac> unique;
      for (const Mac& m : f.macs) {
        if (std::find(unique.begin(), unique.end(), m) == unique.end()) unique.push_back(m);
      }
      f.macs = std::move(unique);
      f.detail += macList(f.macs);
      out.push_back(std::move(f));
    }
    for (auto& [mac, f] : per_mac) {
      std::sort(f.ips.begin(), f.ips.end());
      f.ips.erase(std::unique(f.ips.begin(), f.ips.end()), f.ips.end());
      for (std::size_t i = 0; i < f.ips.size(); ++i) {
        f.detail += (i == 0 ? "" : ", ") + f.ips[i].toString();
      }
      out.push_back(std::move(f));
    }
    for (Finding& f : out) f.severity = severityOf(f.kind);
    std::sort(out.begin(), out.end(), findingOrder);
    return out;
  }
};

// Whether a pool managed on `segment` holds `ip`: a pool of that VLAN, or of none.
bool managedOn(const LedgerView& ledger, Segment segment, const IpAddress& ip) {
  for (const LedgerPool& p : ledger.pools) {
    if (p.vlan && *p.vlan != segment.vlan) continue;
    for (const addr::Prefix& c : p.cidrs) {
      if (c.contains(ip)) return true;
    }
  }
  return false;
}

// Segments whose stations (link-local aside) are all outside every pool managed there.
std::vector<Finding> rogueSegments(std::span<const Station> stations, const LedgerView& ledger) {
  if (ledger.pools.empty()) return {};  // a ledger that manages nothing owns no segment either
  std::map<Segment, std::vector<const Station*>> by_segment;
  std::map<Segment, bool> managed;
  for (const Station& s : stations) {
    if (isLinkLocal(s.ip)) continue;
    by_segment[s.segment].push_back(&s);
    managed[s.segment] = managed[s.segment] || managedOn(ledger, s.segment, s.ip);
  }
  std::vector<Finding> out;
  for (const auto& [segment, members] : by_segment) {
    if (managed[segment]) continue;
    Finding f;
    f.kind = FindingKind::kRogueSegment;
    f.severity = severityOf(f.kind);
    f.segment = segment;
    for (const Station* s : members) {
      f.stations.push_back(*s);
      f.macs.push_back(s->mac);
      absorb(f, *s);
    }
    std::sort(f.macs.begin(), f.macs.end());
    f.macs.erase(std::unique(f.macs.begin(), f.macs.end()), f.macs.end());
    f.detail = std::to_string(members.size()) + " station(s) on " +
               (segment.vlan == 0 ? std::string("the untagged segment")
                                  : "VLAN " + std::to_string(segment.vlan)) +
               ", where no pool is managed (no pool of this VLAN holds their addresses)";
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace

std::vector<Finding> compareWithLedger(std::span<const Station> stations,
                                       const LedgerView& ledger) {
  Comparison comparison(ledger);
  for (const Station& s : stations) {
    comparison.checkIp(s);
    comparison.checkMac(s);
  }
  std::vector<Finding> out = comparison.findings();
  for (Finding& f : rogueSegments(stations, ledger)) out.push_back(std::move(f));
  std::sort(out.begin(), out.end(), findingOrder);
  return out;
}

}  // namespace netledger::wire
