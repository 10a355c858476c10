#include "wire/capture_analyzer.h"

#include <algorithm>
#include <string>

#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

namespace netledger::wire {

namespace {

using addr::IpAddress;
using addr::IpFamily;
using addr::Mac;
using addr::uint128;

constexpr std::uint32_t kMaxFlapChanges = 7;
constexpr std::size_t kChangeRing = kMaxFlapChanges + 1;
constexpr std::size_t kInlineMacs = 4;

inline std::uint64_t elapsed(std::uint64_t now, std::uint64_t then) {
  return now > then ? now - then : 0;
}

inline std::size_t mix(std::uint64_t a, std::uint64_t b) {
  return static_cast<std::size_t>((a * 0x9E3779B97F4A7C15ull) ^ (b + 0x632BE59BD9B4E019ull) ^
                                  ((a >> 29) * 0xBF58476D1CE4E5B9ull));
}

// An address on a segment: the identity of a station's IP.
// Two 64-bit halves rather than a uint128: 8-byte alignment keeps the key at 24 bytes.
struct IpKey {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  Segment segment;
  IpFamily family = IpFamily::kV4;
  IpKey() = default;
  IpKey(uint128 bits, Segment seg, IpFamily fam)
      : hi(static_cast<std::uint64_t>(bits >> 64)),
        lo(static_cast<std::uint64_t>(bits)),
        segment(seg),
        family(fam) {}
  friend bool operator==(const IpKey&, const IpKey&) = default;
  IpAddress address() const { return IpAddress::fromBits(family, (uint128{hi} << 64) | lo); }
  std::uint64_t meta() const {
    return (std::uint64_t{segment.vlan} << 24) | (std::uint64_t{segment.outer_vlan} << 8) |
           static_cast<std::uint8_t>(family);
  }
};
struct IpKeyHash {
  std::size_t operator()(const IpKey& k) const noexcept { return mix(k.lo ^ k.meta(), k.hi); }
};

struct PairKey {
  IpKey ip;
  std::uint64_t mac = 0;
  friend bool operator==(const PairKey&, const PairKey&) = default;
};
struct PairKeyHash {
  std::size_t operator()(const PairKey& k) const noexcept {
    return IpKeyHash{}(k.ip) ^ (k.mac * 0xD6E8FEB86659FD93ull);
  }
};

struct MacKey {
  std::uint64_t mac = 0;
  Segment segment;
  friend bool operator==(const MacKey&, const MacKey&) = default;
};
struct MacKeyHash {
  std::size_t operator()(const MacKey& k) const noexcept {
    return mix(k.mac, (std::uint64_t{k.segment.vlan} << 16) | k.segment.outer_vlan);
  }
};

// What is known about one address on one segment.
// What is known about one address on one segment. 40 bytes, so key and value share one cache
// line: the repeated claim of the current claimant (most frames) touches nothing else.
struct IpState {
  Mac current;                         // the latest claimant
  std::uint64_t current_last_us = 0;   // its latest claim
  std::uint64_t last_request_us = 0;   // the latest ARP request asking for this address
  std::uint32_t change_total = 0;      // claimant changes (their times: State::changes)
  std::uint32_t current_pair = 0;      // index of (this address, current) in pair_states
  std::uint32_t unsettled_frames = 0;  // claims by current not yet added to its PairState
  bool claimed = false;
  bool requested = false;
  bool probe_pending = false;  // details in State::probes
};

// A probe (DAD or ARP) waiting for a defence.
struct Probe {
  std::uint64_t us = 0;
  Mac mac;
};

struct PairState {
  std::uint64_t first_us = 0;
  std::uint64_t last_us = 0;
  std::uint64_t frames = 0;
};

// One open finding while frames are read; turned into a Finding by findings().
struct FindingKey {
  IpKey ip;  // zero address for per-MAC findings
  std::uint64_t mac = 0;
  std::uint64_t mac2 = 0;
  FindingKind kind = FindingKind::kDuplicateIp;
  friend bool operator==(const FindingKey&, const FindingKey&) = default;
};
struct FindingKeyHash {
  std::size_t operator()(const FindingKey& k) const noexcept {
    return IpKeyHash{}(k.ip) ^
           mix(k.mac ^ (std::uint64_t{static_cast<std::uint8_t>(k.kind)} << 56), k.mac2);
  }
};
struct Evidence {
  std::uint64_t count = 0;
  std::uint64_t first_us = 0;
  std::uint64_t last_us = 0;
  std::array<Mac, kInlineMacs> macs{};  // the MACs involved, in order of appearance
  std::uint8_t mac_count = 0;
  bool more_macs = false;
  std::uint64_t takeovers = 0;       // arp_poisoning
  std::uint64_t ips_over_limit = 0;  // arp_poisoning
  addr::Ipv4 sender_ip;              // ethernet_arp_mismatch: the first frame's

  void addMac(Mac m) {
    for (std::uint8_t i = 0; i < mac_count; ++i) {
      if (macs[i] == m) return;
    }
    if (mac_count < kInlineMacs) {
      macs[mac_count++] = m;
    } else {
      more_macs = true;
    }
  }
};

// How a claim arrived: ARP replies can be judged as takeovers.
enum class Via : std::uint8_t { kOther, kArpReply, kGratuitousReply };

std::string seconds(std::uint64_t us) {
  std::uint64_t whole = us / 1'000'000;
  std::uint64_t frac = us % 1'000'000;
  std::string s = std::to_string(whole);
  if (frac != 0) {
    std::string f = std::to_string(frac + 1'000'000).substr(1);
    while (!f.empty() && f.back() == '0') f.pop_back();
    s += "." + f;
  }
  return s + " s";
}

}  // namespace

struct CaptureAnalyzer::State {
  AnalyzerOptions options;
  FrameCounts counts;
  Frame scratch;
  boost::unordered_flat_map<IpKey, IpState, IpKeyHash> ips;
  // (address, MAC) -> index into pair_states. The indirection lets a repeated claim by the
  // current claimant (most frames) skip the pair lookup: IpState keeps the index.
  boost::unordered_flat_map<PairKey, std::uint32_t, PairKeyHash> pairs;
  std::vector<PairState> pair_states;
  // Times of the latest claimant changes, only for addresses that ever changed (few): kept
  // out of IpState so the common entry stays small and cache-friendly.
  boost::unordered_flat_map<IpKey, std::array<std::uint64_t, kChangeRing>, IpKeyHash> changes;
  boost::unordered_flat_map<IpKey, Probe, IpKeyHash> probes;
  boost::unordered_flat_map<MacKey, std::uint32_t, MacKeyHash> ipv4_per_mac;
  boost::unordered_flat_map<FindingKey, Evidence, FindingKeyHash> open;

  Evidence& hit(FindingKind kind, const IpKey& ip, std::uint64_t mac, std::uint64_t mac2,
                std::uint64_t t) {
    auto [it, fresh] = open.try_emplace(FindingKey{ip, mac, mac2, kind});
    Evidence& e = it->second;
    if (fresh) e.first_us = t;
    e.last_us = t;
    return e;
  }
  void hitPair(FindingKind kind, const IpKey& ip, Mac a, Mac b, std::uint64_t t) {
    Evidence& e = hit(kind, ip, 0, 0, t);
    ++e.count;
    e.addMac(a);
    e.addMac(b);
  }
  static IpKey perMac(Segment segment) { return IpKey{0, segment, IpFamily::kV4}; }

  void add(const Frame& f, std::uint64_t t);
  void claim(const IpKey& k, Mac mac, std::uint64_t t, Via via);
  void probe(const IpKey& k, Mac mac, std::uint64_t t);
  void request(const IpKey& k, std::uint64_t t);
  void newPair(const IpKey& k, Mac mac, std::uint64_t t);
  // Adds the current claimant's unsettled claims to its PairState.
  void settle(IpState& s) {
    PairState& p = pair_states[s.current_pair];
    p.frames += s.unsettled_frames;
    p.last_us = std::max(p.last_us, s.current_last_us);
    s.unsettled_frames = 0;
  }
  // pair_states with every unsettled claim added: what reports read.
  std::vector<PairState> settledPairs() const {
    std::vector<PairState> out = pair_states;
    for (const auto& [k, s] : ips) {
      if (!s.claimed) continue;
      out[s.current_pair].frames += s.unsettled_frames;
      out[s.current_pair].last_us = std::max(out[s.current_pair].last_us, s.current_last_us);
    }
    return out;
  }

  std::vector<Finding> report() const;
  // `claimants`: every MAC that claimed the address, for per-address findings.
  Finding toFinding(const FindingKey& key, const Evidence& e,
                    const std::vector<Mac>* claimants) const;
  Finding newStations() const;
};

void CaptureAnalyzer::State::add(const Frame& f, std::uint64_t t) {
  ++counts.frames;
  ++counts.by_kind[static_cast<std::size_t>(f.kind)];
  Segment seg{f.vlan, f.outer_vlan};
  auto v4 = [&](addr::Ipv4 a) { return IpKey{a.value(), seg, IpFamily::kV4}; };
  auto v6 = [&](addr::Ipv6 a) { return IpKey{a.value(), seg, IpFamily::kV6}; };
  switch (f.kind) {
    case FrameKind::kArpRequest:
    case FrameKind::kArpReply:
    case FrameKind::kArpAnnouncement:
    case FrameKind::kArpProbe: {
      if (f.eth_src != f.sender_mac) {
        Evidence& e = hit(FindingKind::kEthernetArpMismatch, perMac(seg), f.eth_src.value(),
                          f.sender_mac.value(), t);
        if (e.count++ == 0) e.sender_ip = f.sender_ip;
      }
      if (f.kind == FrameKind::kArpRequest) request(v4(f.target_ip), t);
      if (f.kind == FrameKind::kArpProbe) {
        probe(v4(f.target_ip), f.sender_mac, t);
      } else if (f.sender_ip.value() != 0) {
        Via via = f.arp_op != 2                           ? Via::kOther
                  : f.kind == FrameKind::kArpAnnouncement ? Via::kGratuitousReply
                                                          : Via::kArpReply;
        claim(v4(f.sender_ip), f.sender_mac, t, via);
      }
      break;
    }
    case FrameKind::kNeighborSolicitation:
      claim(v6(f.ip_src), f.has_link_addr ? f.link_addr : f.eth_src, t, Via::kOther);
      break;
    case FrameKind::kNeighborAdvertisement:
      claim(v6(f.target), f.has_link_addr ? f.link_addr : f.eth_src, t, Via::kOther);
      break;
    case FrameKind::kDadProbe:
      probe(v6(f.target), f.eth_src, t);
      break;
    case FrameKind::kUnknown:  // not a parsed frame's kind
      break;
  }
}

void CaptureAnalyzer::State::request(const IpKey& k, std::uint64_t t) {
  IpState& s = ips[k];
  s.requested = true;
  s.last_request_us = t;
}

void CaptureAnalyzer::State::newPair(const IpKey& k, Mac mac, std::uint64_t t) {
  if (k.family != IpFamily::kV4) return;
  std::uint32_t n = ++ipv4_per_mac[MacKey{mac.value(), k.segment}];
  if (n > options.max_ips_per_mac) {
    Evidence& e = hit(FindingKind::kArpPoisoning, perMac(k.segment), mac.value(), 0, t);
    ++e.count;
    ++e.ips_over_limit;
  }
}

void CaptureAnalyzer::State::claim(const IpKey& k, Mac mac, std::uint64_t t, Via via) {
  IpState& s = ips[k];
  if (s.claimed && s.current == mac && !s.probe_pending) {
    ++s.unsettled_frames;
    s.current_last_us = t;
    return;
  }
  if (s.claimed) settle(s);
  auto [pair, fresh] =
      pairs.try_emplace(PairKey{k, mac.value()}, static_cast<std::uint32_t>(pair_states.size()));
  if (fresh) {
    pair_states.push_back(PairState{t, t, 0});
    newPair(k, mac, t);
  }
  std::uint32_t index = pair->second;
  pair_states[index].last_us = t;
  ++pair_states[index].frames;

  if (s.probe_pending) {
    const Probe& p = probes[k];
    if (p.mac != mac && elapsed(t, p.us) <= options.window_us) {
      hitPair(FindingKind::kDadConflict, k, p.mac, mac, t);
    }
    s.probe_pending = false;
  }
  if (!s.claimed || s.current == mac) {
    s.claimed = true;
    s.current = mac;
    s.current_pair = index;
    s.current_last_us = t;
    return;
  }

  // The claimant changed.
  if (elapsed(t, s.current_last_us) <= options.window_us) {
    hitPair(FindingKind::kDuplicateIp, k, s.current, mac, t);
  }
  if (via != Via::kOther) {
    bool solicited = s.requested && elapsed(t, s.last_request_us) <= options.window_us;
    if (via == Via::kGratuitousReply || !solicited) {
      Evidence& e = hit(FindingKind::kArpPoisoning, perMac(k.segment), mac.value(), 0, t);
      ++e.count;
      ++e.takeovers;
      e.addMac(s.current);
    }
  }
  std::uint32_t n = s.change_total++;
  auto& ring = changes[k];
  ring[n % kChangeRing] = t;
  std::uint32_t burst = options.flap_changes;
  if (n >= burst && elapsed(t, ring[(n - burst) % kChangeRing]) <= options.window_us) {
    hitPair(FindingKind::kMacFlapping, k, s.current, mac, t);
  }
  s.current = mac;
  s.current_pair = index;
  s.current_last_us = t;
}

void CaptureAnalyzer::State::probe(const IpKey& k, Mac mac, std::uint64_t t) {
  IpState& s = ips[k];
  if (s.claimed && s.current != mac) {
    hitPair(FindingKind::kDadConflict, k, mac, s.current, t);
    s.probe_pending = false;
    return;
  }
  Probe& p = probes[k];
  if (s.probe_pending && p.mac != mac && elapsed(t, p.us) <= options.window_us) {
    hitPair(FindingKind::kDadConflict, k, p.mac, mac, t);
    s.probe_pending = false;
    return;
  }
  s.probe_pending = true;
  p = Probe{t, mac};
}

Finding CaptureAnalyzer::State::toFinding(const FindingKey& key, const Evidence& e,
                                          const std::vector<Mac>* claimants) const {
  Finding f;
  f.kind = key.kind;
  f.severity = severityOf(key.kind);
  f.segment = key.ip.segment;
  f.count = e.count;
  f.first_us = e.first_us;
  f.last_us = e.last_us;
  f.macs.assign(e.macs.begin(), e.macs.begin() + e.mac_count);
  std::string more = e.more_macs ? " and more" : "";
  if (claimants != nullptr) {
    f.macs = *claimants;
    more.clear();
  }
  std::string window = seconds(options.window_us);
  switch (key.kind) {
    case FindingKind::kDuplicateIp:
      f.ip = key.ip.address();
      f.detail = std::to_string(e.count) + " switch(es) between " + macList(f.macs) + more +
                 ", each within " + window + " of the other MAC's claim";
      break;
    case FindingKind::kMacFlapping:
      f.ip = key.ip.address();
      f.detail = "MAC changed more than " + std::to_string(options.flap_changes) +
                 " times within " + window + " (" + std::to_string(e.count) +
                 " such change(s)) between " + macList(f.macs) + more;
      break;
    case FindingKind::kDadConflict:
      f.ip = key.ip.address();
      f.detail = std::to_string(e.count) + " probe(s) for an address claimed or defended by " +
                 "another MAC: " + macList(f.macs) + more;
      break;
    case FindingKind::kArpPoisoning:
      f.mac = Mac(key.mac);
      f.detail = f.mac->toString() + ": ";
      if (e.takeovers > 0) {
        f.detail += std::to_string(e.takeovers) +
                    " gratuitous or unsolicited ARP reply(ies) took an IP over from " +
                    macList(f.macs) + more;
      }
      if (e.ips_over_limit > 0) {
        f.detail += std::string(e.takeovers > 0 ? "; " : "") + "claims more than " +
                    std::to_string(options.max_ips_per_mac) + " IPv4 addresses";
      }
      break;
    case FindingKind::kEthernetArpMismatch:
      f.mac = Mac(key.mac);
      f.macs = {Mac(key.mac2)};
      f.ip = IpAddress(e.sender_ip);
      f.detail = std::to_string(e.count) + " ARP frame(s) from Ethernet source " +
                 f.mac->toString() + " with sender hardware address " + f.macs[0].toString();
      break;
    default:
      break;
  }
  return f;
}

Finding CaptureAnalyzer::State::newStations() const {
  Finding f;
  f.kind = FindingKind::kNewStation;
  f.severity = severityOf(f.kind);
  f.count = pairs.size();
  std::vector<Station> all;
  all.reserve(pairs.size());
  std::vector<PairState> settled = settledPairs();
  for (const auto& [k, index] : pairs) {
    const PairState& p = settled[index];
    all.push_back({k.ip.address(), Mac(k.mac), k.ip.segment, p.first_us, p.last_us, p.frames});
  }
  auto older = [](const Station& a, const Station& b) {
    return std::tie(a.first_us, a.segment, a.ip, a.mac) <
           std::tie(b.first_us, b.segment, b.ip, b.mac);
  };
  std::size_t n = std::min(options.examples, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(), older);
  all.resize(n);
  f.stations = std::move(all);
  if (!f.stations.empty()) {
    f.first_us = f.stations.front().first_us;
  }
  for (const PairState& p : pair_states) f.last_us = std::max(f.last_us, p.first_us);
  f.detail = std::to_string(f.count) + " (IP, MAC) pair(s) first seen in this capture";
  return f;
}

std::vector<Finding> CaptureAnalyzer::State::report() const {
  std::vector<Finding> out;
  out.reserve(open.size() + 1);
  // Per-IP findings list every MAC that claimed the IP, in order of first sighting; per-MAC
  // arp_poisoning lists the IPv4 addresses the MAC claimed. One pass over the pairs collects
  // both for the keys that need them.
  boost::unordered_flat_map<IpKey, std::vector<std::pair<std::uint64_t, Mac>>, IpKeyHash> claimants;
  boost::unordered_flat_map<MacKey, std::vector<IpAddress>, MacKeyHash> claimed_by;
  for (const auto& [key, e] : open) {
    if (key.kind == FindingKind::kDuplicateIp || key.kind == FindingKind::kMacFlapping) {
      claimants.try_emplace(key.ip);
    } else if (key.kind == FindingKind::kArpPoisoning) {
      claimed_by.try_emplace(MacKey{key.mac, key.ip.segment});
    }
  }
  if (!claimants.empty() || !claimed_by.empty()) {
    for (const auto& [k, index] : pairs) {
      if (auto it = claimants.find(k.ip); it != claimants.end()) {
        it->second.emplace_back(pair_states[index].first_us, Mac(k.mac));
      }
      if (k.ip.family != IpFamily::kV4) continue;
      if (auto it = claimed_by.find(MacKey{k.mac, k.ip.segment}); it != claimed_by.end()) {
        it->second.push_back(k.ip.address());
      }
    }
  }
  for (const auto& [key, e] : open) {
    std::vector<Mac> macs;
    bool per_ip = key.kind == FindingKind::kDuplicateIp || key.kind == FindingKind::kMacFlapping;
    if (auto it = claimants.find(key.ip); per_ip && it != claimants.end()) {
      auto list = it->second;
      std::sort(list.begin(), list.end());
      for (const auto& [first, mac] : list) macs.push_back(mac);
    }
    Finding f = toFinding(key, e, per_ip ? &macs : nullptr);
    if (key.kind == FindingKind::kArpPoisoning) {
      if (auto it = claimed_by.find(MacKey{key.mac, key.ip.segment}); it != claimed_by.end()) {
        f.ips = it->second;
        std::sort(f.ips.begin(), f.ips.end());
      }
    }
    out.push_back(std::move(f));
  }
  if (!pairs.empty()) out.push_back(newStations());
  std::sort(out.begin(), out.end(), findingOrder);
  return out;
}

CaptureAnalyzer::CaptureAnalyzer(AnalyzerOptions options) : state_(std::make_unique<State>()) {
  options.flap_changes = std::clamp<std::uint32_t>(options.flap_changes, 1, kMaxFlapChanges);
  state_->options = options;
}
CaptureAnalyzer::~CaptureAnalyzer() = default;
CaptureAnalyzer::CaptureAnalyzer(CaptureAnalyzer&&) noexcept = default;
CaptureAnalyzer& CaptureAnalyzer::operator=(CaptureAnalyzer&&) noexcept = default;

ParseError CaptureAnalyzer::addFrame(std::span<const std::uint8_t> bytes, std::uint64_t time_us) {
  Frame& frame = state_->scratch;  // reused: no per-frame initialization
  ParseError e = parseFrame(bytes, frame);
  if (e != ParseError::kOk) {
    ++state_->counts.frames;
    ++state_->counts.by_error[static_cast<std::size_t>(e)];
    return e;
  }
  state_->add(frame, time_us);
  return e;
}

void CaptureAnalyzer::add(const Frame& frame, std::uint64_t time_us) {
  state_->add(frame, time_us);
}

const FrameCounts& CaptureAnalyzer::counts() const { return state_->counts; }
const AnalyzerOptions& CaptureAnalyzer::options() const { return state_->options; }

std::vector<Finding> CaptureAnalyzer::findings() const { return state_->report(); }

std::vector<Station> CaptureAnalyzer::stations() const {
  std::vector<Station> out;
  out.reserve(state_->pairs.size());
  std::vector<PairState> settled = state_->settledPairs();
  for (const auto& [k, index] : state_->pairs) {
    const PairState& p = settled[index];
    out.push_back({k.ip.address(), Mac(k.mac), k.ip.segment, p.first_us, p.last_us, p.frames});
  }
  std::sort(out.begin(), out.end(), [](const Station& a, const Station& b) {
    return std::tie(a.segment, a.ip, a.first_us, a.mac) <
           std::tie(b.segment, b.ip, b.first_us, b.mac);
  });
  return out;
}

}  // namespace netledger::wire
