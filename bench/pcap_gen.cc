// pcap_gen: writes the benchmark capture for `netledger analyze-pcap` (and arpwatch): ARP and
// NDP background traffic of ~2,000 stations behind three IPv4 gateways and one IPv6 router,
// with seeded anomalies at fixed times. Deterministic for a given seed.
//
//   pcap_gen FILE [FRAMES (1000000)] [SEED (1)]
//
// Seeded anomalies (stderr lists them with their times):
//   - duplicate IP:      192.0.2.50 claimed by a second MAC for a few seconds;
//   - flip-flopping IP:  198.51.100.77 alternating between two MACs every second for 20 s;
//   - ARP spoofing:      a MAC sending gratuitous and unsolicited replies for the gateway
//                        203.0.113.1, and ARP frames whose sender address is another station's;
//   - DAD conflict:      a new MAC probing (DAD) for an IPv6 address a station holds, which
//                        defends it;
//   - new stations:      everybody (the capture starts cold), and five late joiners that probe
//                        (RFC 5227) and announce.
// Only documentation prefixes (RFC 5737, RFC 3849) appear.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "addr/ipv4.h"
#include "addr/ipv6.h"
#include "addr/mac.h"
#include "wire/frames.h"
#include "wire/pcap_file.h"

namespace {

using netledger::addr::Ipv4;
using netledger::addr::Ipv6;
using netledger::addr::Mac;
using netledger::addr::uint128;
namespace wire = netledger::wire;

constexpr std::uint64_t kStartUs = 1'795'341'600'000'000ull;  // 2026-11-22T10:00:00Z
constexpr std::uint64_t kSecond = 1'000'000;

struct Station {
  Mac mac;
  std::optional<Ipv4> v4;
  std::optional<Ipv6> v6;
  int gateway = 0;  // index into the IPv4 gateways
};

struct Net {
  Ipv4 gateway_ip;
  Mac gateway_mac;
};

Ipv4 v4(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
  return Ipv4((a << 24) | (b << 16) | (c << 8) | d);
}
Ipv6 v6(std::uint64_t interface_id) {
  return Ipv6((uint128{0x20010db800010000ull} << 64) | interface_id);  // 2001:db8:1::/64
}

class Generator {
 public:
  Generator(wire::PcapWriter& out, std::uint64_t frames, std::uint64_t seed)
      : out_(out), target_(frames), rng_(seed) {
    nets_ = {{v4(192, 0, 2, 1), Mac(0x525400000001ull)},
             {v4(198, 51, 100, 1), Mac(0x525400000002ull)},
             {v4(203, 0, 113, 1), Mac(0x525400000003ull)}};
    router_mac_ = Mac(0x525400000006ull);
    router_ip_ = v6(1);
    // Dual-stack stations on the three /24s (.2-.249; .250-.254 are for late joiners), the
    // rest IPv6 only: ~2,000 in all.
    std::uint64_t next_mac = 0x020000100000ull;
    for (int n = 0; n < 3; ++n) {
      for (std::uint32_t host = 2; host < 250; ++host) {
        Station s;
        s.mac = Mac(next_mac++);
        s.v4 = Ipv4(nets_[n].gateway_ip.value() - 1 + host);
        s.v6 = v6(0x1000 + stations_.size());
        s.gateway = n;
        stations_.push_back(s);
      }
    }
    while (stations_.size() < 2000) {
      Station s;
      s.mac = Mac(next_mac++);
      s.v6 = v6(0x1000 + stations_.size());
      stations_.push_back(s);
    }
  }

  void run() {
    scheduleAnomalies();
    std::uint64_t t = kStartUs;
    std::size_t pending = 0;
    while (written_ < target_) {
      t += 1000 + rng_() % 11000;  // ~280 frames/s: 1 M frames span an hour
      while (pending < anomalies_.size() && anomalies_[pending].first <= t && written_ < target_) {
        write(anomalies_[pending].first, anomalies_[pending].second);
        ++pending;
      }
      background(t);
    }
    std::fprintf(stderr, "pcap_gen: %llu frames, %zu stations, %zu seeded anomaly frames\n",
                 static_cast<unsigned long long>(written_), stations_.size(), pending);
  }

 private:
  void write(std::uint64_t t, const wire::FrameBytes& f) {
    if (written_ >= target_) return;
    out_.write(f.bytes(), t);
    ++written_;
  }

  void background(std::uint64_t t) {
    const Station& s = stations_[rng_() % stations_.size()];
    unsigned pick = rng_() % 100;
    if (s.v4 && pick < 60) {
      const Net& net = nets_[s.gateway];
      if (pick < 30) {  // the station resolves its gateway
        write(t, wire::buildArpRequest(s.mac, *s.v4, net.gateway_ip));
        write(t + 150, wire::buildArpReply(net.gateway_mac, net.gateway_ip, s.mac, *s.v4));
      } else if (pick < 55) {  // the gateway resolves the station
        write(t, wire::buildArpRequest(net.gateway_mac, net.gateway_ip, *s.v4));
        write(t + 150, wire::buildArpReply(s.mac, *s.v4, net.gateway_mac, net.gateway_ip));
      } else {  // an announcement (after a link change)
        write(t, wire::buildArpAnnouncement(s.mac, *s.v4));
      }
      return;
    }
    if (pick < 80) {  // the station resolves the router
      write(t, wire::buildNeighborSolicitation(s.mac, *s.v6, router_ip_));
      write(t + 150, wire::buildNeighborAdvertisement(router_mac_, router_ip_,
                                                      wire::kNaRouter | wire::kNaSolicited,
                                                      wire::NeighborAddress{s.mac, *s.v6}));
    } else {  // the router checks the station
      write(t, wire::buildNeighborSolicitation(router_mac_, router_ip_, *s.v6));
      write(t + 150,
            wire::buildNeighborAdvertisement(s.mac, *s.v6, wire::kNaSolicited,
                                             wire::NeighborAddress{router_mac_, router_ip_}));
    }
  }

  void at(double seconds, const wire::FrameBytes& f) {
    anomalies_.emplace_back(kStartUs + static_cast<std::uint64_t>(seconds * kSecond), f);
  }

  const Station& stationWith(Ipv4 ip) const {
    for (const auto& s : stations_) {
      if (s.v4 == ip) return s;
    }
    std::abort();
  }

  void scheduleAnomalies() {
    // Duplicate IP: a second MAC uses 192.0.2.50 while its owner is active.
    // Anomalies sit at sixths of the capture's span (3.6 ms a frame): 600 s, 1200 s, ... for
    // 1 M frames.
    double sixth = static_cast<double>(target_) * 0.0036 / 6;
    const Station& owner = stationWith(v4(192, 0, 2, 50));
    Mac dup(0x02dd00000001ull);
    Ipv4 gw = nets_[0].gateway_ip;
    double t = sixth;
    std::fprintf(stderr, "pcap_gen: duplicate IP 192.0.2.50 (%s and %s) at %.0f s\n",
                 owner.mac.toString().c_str(), dup.toString().c_str(), t);
    at(t, wire::buildArpRequest(owner.mac, *owner.v4, gw));
    at(t + 1, wire::buildArpRequest(dup, *owner.v4, gw));
    at(t + 4, wire::buildArpRequest(owner.mac, *owner.v4, gw));
    at(t + 6, wire::buildArpRequest(dup, *owner.v4, gw));

    // Flip-flop: 198.51.100.77 alternates every second for 20 s.
    const Station& flip = stationWith(v4(198, 51, 100, 77));
    Mac flop(0x02ff00000001ull);
    t = 2 * sixth;
    std::fprintf(stderr, "pcap_gen: flip-flop 198.51.100.77 (%s and %s) for 20 s at %.0f s\n",
                 flip.mac.toString().c_str(), flop.toString().c_str(), t);
    for (int i = 0; i <= 20; ++i) {
      at(t + i, wire::buildArpAnnouncement(i % 2 ? flop : flip.mac, *flip.v4));
    }

    // ARP spoofing of the gateway 203.0.113.1: gratuitous replies every 2 s for 30 s, a few
    // unsolicited replies to victims, and frames claiming to come from another station.
    Mac attacker(0x02aa00000001ull);
    const Net& victim_net = nets_[2];
    const Station& victim = stationWith(v4(203, 0, 113, 20));
    t = 3 * sixth;
    std::fprintf(stderr, "pcap_gen: ARP spoofing of 203.0.113.1 by %s for 30 s at %.0f s\n",
                 attacker.toString().c_str(), t);
    at(t - 1, wire::buildArpRequest(victim.mac, *victim.v4, victim_net.gateway_ip));
    at(t - 0.9998,
       wire::buildArpReply(victim_net.gateway_mac, victim_net.gateway_ip, victim.mac, *victim.v4));
    for (int i = 0; i < 15; ++i) {
      at(t + 2 * i, wire::buildArpAnnouncement(attacker, victim_net.gateway_ip,
                                               wire::AnnouncementForm::kReply));
      at(t + 0.5 + 2 * i,
         wire::buildArpRequest(victim_net.gateway_mac, victim_net.gateway_ip, *victim.v4));
    }
    for (int i = 0; i < 3; ++i) {
      at(t + 31 + i, wire::buildArpReply(attacker, victim_net.gateway_ip, victim.mac, *victim.v4));
      wire::ArpFields forged;
      forged.op = 1;
      forged.eth_src = attacker;
      forged.eth_dst = Mac(Mac::kMask);
      forged.sender_mac = victim.mac;
      forged.sender_ip = *victim.v4;
      forged.target_ip = victim_net.gateway_ip;
      at(t + 31.5 + i, wire::buildArp(forged));
    }

    // DAD conflict: a new MAC probes for a station's IPv6 address; the station defends it.
    const Station& holder = stations_[1500];
    Mac newcomer(0x02bb00000001ull);
    t = 4 * sixth;
    std::fprintf(stderr, "pcap_gen: DAD conflict for %s (%s defends against %s) at %.0f s\n",
                 holder.v6->toString().c_str(), holder.mac.toString().c_str(),
                 newcomer.toString().c_str(), t);
    at(t - 1, wire::buildNeighborAdvertisement(holder.mac, *holder.v6, wire::kNaOverride));
    at(t, wire::buildDadProbe(newcomer, *holder.v6));
    at(t + 0.3, wire::buildNeighborAdvertisement(holder.mac, *holder.v6, wire::kNaOverride));

    // Late joiners: RFC 5227 probe then announcement, on the free .250-.254.
    for (std::uint32_t i = 0; i < 5; ++i) {
      Mac joiner(0x02cc00000001ull + i);
      Ipv4 address = v4(198, 51, 100, 250 + i);
      at(5 * sixth + i, wire::buildArpProbe(joiner, address));
      at(5 * sixth + 2 + i, wire::buildArpAnnouncement(joiner, address));
    }
    std::sort(anomalies_.begin(), anomalies_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
  }

  wire::PcapWriter& out_;
  std::uint64_t target_;
  std::uint64_t written_ = 0;
  std::mt19937_64 rng_;
  std::vector<Net> nets_;
  Mac router_mac_;
  Ipv6 router_ip_;
  std::vector<Station> stations_;
  std::vector<std::pair<std::uint64_t, wire::FrameBytes>> anomalies_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: pcap_gen FILE [FRAMES] [SEED]\n");
    return 2;
  }
  std::uint64_t frames = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1'000'000;
  std::uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1;
  auto writer = wire::PcapWriter::create(argv[1]);
  if (!writer) {
    std::fprintf(stderr, "pcap_gen: %s\n", writer.status().message().c_str());
    return 1;
  }
  Generator(**writer, frames, seed).run();
  if (auto s = (*writer)->close(); !s) {
    std::fprintf(stderr, "pcap_gen: %s\n", s.message().c_str());
    return 1;
  }
  return 0;
}
