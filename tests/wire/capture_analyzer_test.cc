// CaptureAnalyzer on captures written with PcapWriter and read back with PcapReader: each
// scenario seeds one kind of anomaly and the test asserts the exact list of findings (kind,
// addresses, MACs, counts, first/last times); a clean capture has nothing above info.
#include "wire/capture_analyzer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "wire/pcap_file.h"
#include "wire/wire_test_util.h"

namespace netledger::wire {
namespace {

using testing_util::at;
using testing_util::CaptureFile;
using testing_util::ip;
using testing_util::mac;
using testing_util::ScratchDir;
using testing_util::v4;
using testing_util::v6;

const addr::Mac G = mac("52:54:00:00:00:01");  // the gateway, 192.0.2.1
const addr::Mac A = mac("52:54:00:00:00:0a");  // 192.0.2.10
const addr::Mac B = mac("52:54:00:00:00:0b");  // 192.0.2.11
const addr::Mac X = mac("02:00:00:00:00:99");  // the intruder

std::string seconds(std::uint64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(us - CaptureFile::kStartUs) / 1e6);
  return buf;
}

// One line per finding: what the assertions compare.
std::string describe(const Finding& f) {
  std::ostringstream s;
  s << severityName(f.severity) << " " << findingKindName(f.kind);
  if (f.segment.vlan != 0) s << " vlan=" << f.segment.vlan;
  if (f.ip) s << " ip=" << f.ip->toString();
  if (f.mac) s << " mac=" << f.mac->toString();
  auto join = [](const auto& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ",") + i.toString();
    return out;
  };
  if (!f.macs.empty()) s << " macs=" << join(f.macs);
  if (!f.ips.empty()) s << " ips=" << join(f.ips);
  s << " count=" << f.count << " t=" << seconds(f.first_us) << ".." << seconds(f.last_us);
  return s.str();
}

std::vector<std::string> describeAll(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  for (const auto& f : findings) out.push_back(describe(f));
  return out;
}

// A capture under construction; analyze() writes it, reads it back and judges it.
class Scenario {
 public:
  Scenario() : capture_(dir_.file("scenario.pcap")) {}
  void add(double t, const FrameBytes& f) { capture_.add(t, f); }
  void add(double t, std::span<const std::uint8_t> bytes) { capture_.add(t, bytes); }

  CaptureAnalyzer analyze(AnalyzerOptions options = {}) {
    std::string path = capture_.close();
    CaptureAnalyzer analyzer(options);
    auto reader = PcapReader::open(path);
    EXPECT_TRUE(reader.isOk()) << reader.status().message();
    if (!reader) return analyzer;
    PcapFrame frame;
    while (true) {
      auto more = (*reader)->next(frame);
      EXPECT_TRUE(more.isOk()) << more.status().message();
      if (!more || !*more) break;
      analyzer.addFrame(frame.bytes, frame.time_us);
    }
    return analyzer;
  }

 private:
  ScratchDir dir_;
  CaptureFile capture_;
};

FrameBytes announce(addr::Mac m, std::string_view address, Vlan vlan = {}) {
  return buildArpAnnouncement(m, v4(address), AnnouncementForm::kRequest, vlan);
}

std::size_t kindCount(const CaptureAnalyzer& a, FrameKind k) {
  return a.counts().by_kind[static_cast<std::size_t>(k)];
}

TEST(CaptureAnalyzerTest, CleanCaptureHasOnlyNewStations) {
  Scenario s;
  s.add(0, buildArpRequest(A, v4("192.0.2.10"), v4("192.0.2.1")));
  s.add(0.001, buildArpReply(G, v4("192.0.2.1"), A, v4("192.0.2.10")));
  s.add(1, buildArpRequest(B, v4("192.0.2.11"), v4("192.0.2.1")));
  s.add(1.001, buildArpReply(G, v4("192.0.2.1"), B, v4("192.0.2.11")));
  s.add(2, announce(A, "192.0.2.10"));
  s.add(3, buildNeighborSolicitation(A, v6("2001:db8::a"), v6("2001:db8::1")));
  s.add(3.001, buildNeighborAdvertisement(G, v6("2001:db8::1"), kNaSolicited | kNaRouter,
                                          NeighborAddress{A, v6("2001:db8::a")}));
  // Successful DAD and RFC 5227 probing: the prober then claims its own address.
  s.add(4, buildDadProbe(B, v6("2001:db8::b")));
  s.add(5, buildNeighborAdvertisement(B, v6("2001:db8::b"), kNaOverride));
  s.add(6, buildArpProbe(X, v4("192.0.2.50")));
  s.add(8, announce(X, "192.0.2.50"));
  s.add(20, buildArpRequest(A, v4("192.0.2.10"), v4("192.0.2.1")));
  CaptureAnalyzer a = s.analyze();

  auto findings = a.findings();
  ASSERT_EQ(describeAll(findings), std::vector<std::string>{"info new_station count=7 t=0..8"});
  const auto& examples = findings[0].stations;
  std::vector<std::string> pairs;
  for (const auto& st : examples) pairs.push_back(st.ip.toString() + "=" + st.mac.toString());
  EXPECT_EQ(pairs, (std::vector<std::string>{
                       "192.0.2.10=52:54:00:00:00:0a", "192.0.2.1=52:54:00:00:00:01",
                       "192.0.2.11=52:54:00:00:00:0b", "2001:db8::a=52:54:00:00:00:0a",
                       "2001:db8::1=52:54:00:00:00:01", "2001:db8::b=52:54:00:00:00:0b",
                       "192.0.2.50=02:00:00:00:00:99"}));
  EXPECT_EQ(a.counts().frames, 12u);
  EXPECT_EQ(kindCount(a, FrameKind::kArpRequest), 3u);
  EXPECT_EQ(kindCount(a, FrameKind::kArpReply), 2u);
  EXPECT_EQ(kindCount(a, FrameKind::kArpAnnouncement), 2u);
  EXPECT_EQ(kindCount(a, FrameKind::kArpProbe), 1u);
  EXPECT_EQ(kindCount(a, FrameKind::kNeighborSolicitation), 1u);
  EXPECT_EQ(kindCount(a, FrameKind::kNeighborAdvertisement), 2u);
  EXPECT_EQ(kindCount(a, FrameKind::kDadProbe), 1u);

  // stations(): every pair, by IP, with its frame count and times.
  auto stations = a.stations();
  ASSERT_EQ(stations.size(), 7u);
  EXPECT_EQ(stations[0].ip, ip("192.0.2.1"));
  EXPECT_EQ(stations[0].frames, 2u);
  EXPECT_EQ(stations[1].ip, ip("192.0.2.10"));
  EXPECT_EQ(stations[1].frames, 3u);
  EXPECT_EQ(stations[1].first_us, at(0));
  EXPECT_EQ(stations[1].last_us, at(20));
}

// 192.0.2.10 claimed by A at 0 s, B at 1 s, A at 5 s, B at 30 s and A at 31 s.
void addAlternatingClaims(Scenario& s) {
  auto from = [](addr::Mac m) { return buildArpRequest(m, v4("192.0.2.10"), v4("192.0.2.1")); };
  s.add(0, announce(A, "192.0.2.10"));
  s.add(1, from(B));   // A claimed 1 s ago: a switch
  s.add(5, from(A));   // B 4 s ago: a switch
  s.add(30, from(B));  // A 25 s ago: a change of address, not a conflict
  s.add(31, from(A));  // B 1 s ago: a switch
}

TEST(CaptureAnalyzerTest, DuplicateIpCountsSwitchesWithinTheWindow) {
  Scenario s;
  addAlternatingClaims(s);
  EXPECT_EQ(describeAll(s.analyze().findings()),
            (std::vector<std::string>{
                "error duplicate_ip ip=192.0.2.10 macs=52:54:00:00:00:0a,52:54:00:00:00:0b "
                "count=3 t=1..31",
                "info new_station count=2 t=0..1"}));
}

TEST(CaptureAnalyzerTest, WindowOptionNarrowsDuplicates) {
  Scenario s;
  addAlternatingClaims(s);
  AnalyzerOptions options;
  options.window_us = 2'000'000;
  auto findings = s.analyze(options).findings();
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(describe(findings[0]),
            "error duplicate_ip ip=192.0.2.10 macs=52:54:00:00:00:0a,52:54:00:00:00:0b "
            "count=2 t=1..31");
}

TEST(CaptureAnalyzerTest, FlappingIsMoreThanThreeChangesInTenSeconds) {
  Scenario s;
  for (int i = 0; i <= 6; ++i) s.add(i, announce(i % 2 ? B : A, "192.0.2.20"));
  // Slow alternation elsewhere: four changes, but spread over 40 s.
  for (int i = 0; i <= 4; ++i) s.add(100 + 10 * i, announce(i % 2 ? B : A, "192.0.2.21"));
  EXPECT_EQ(describeAll(s.analyze().findings()),
            (std::vector<std::string>{
                "error duplicate_ip ip=192.0.2.20 macs=52:54:00:00:00:0a,52:54:00:00:00:0b "
                "count=6 t=1..6",
                "error duplicate_ip ip=192.0.2.21 macs=52:54:00:00:00:0a,52:54:00:00:00:0b "
                "count=4 t=110..140",
                "warning mac_flapping ip=192.0.2.20 macs=52:54:00:00:00:0a,52:54:00:00:00:0b "
                "count=3 t=4..6",
                "info new_station count=4 t=0..110"}));
}

TEST(CaptureAnalyzerTest, DadConflicts) {
  Scenario s;
  // (a) DAD for an address another MAC claims.
  s.add(0, buildNeighborAdvertisement(G, v6("2001:db8::1"), kNaOverride | kNaRouter));
  s.add(0.2, announce(G, "192.0.2.1"));
  s.add(1, buildDadProbe(X, v6("2001:db8::1")));
  // (b) DAD answered (defended) by another MAC within the window.
  s.add(2, buildDadProbe(X, v6("2001:db8::2")));
  s.add(2.5, buildNeighborAdvertisement(A, v6("2001:db8::2"), kNaOverride));
  // (c) RFC 5227: three ARP probes for an address the gateway holds; one count each.
  s.add(3, buildArpProbe(X, v4("192.0.2.1")));
  s.add(4, buildArpProbe(X, v4("192.0.2.1")));
  s.add(5, buildArpProbe(X, v4("192.0.2.1")));
  // (d) A defence that comes too late is not a DAD conflict.
  s.add(10, buildDadProbe(X, v6("2001:db8::3")));
  s.add(25, buildNeighborAdvertisement(A, v6("2001:db8::3"), kNaOverride));
  EXPECT_EQ(describeAll(s.analyze().findings()),
            (std::vector<std::string>{
                "error dad_conflict ip=192.0.2.1 macs=02:00:00:00:00:99,52:54:00:00:00:01 "
                "count=3 t=3..5",
                "error dad_conflict ip=2001:db8::1 macs=02:00:00:00:00:99,52:54:00:00:00:01 "
                "count=1 t=1..1",
                "error dad_conflict ip=2001:db8::2 macs=02:00:00:00:00:99,52:54:00:00:00:0a "
                "count=1 t=2.5..2.5",
                "info new_station count=4 t=0..25"}));
}

TEST(CaptureAnalyzerTest, SimultaneousProbesConflict) {
  Scenario s;
  s.add(0, buildArpProbe(A, v4("198.51.100.5")));
  s.add(0.5, buildArpProbe(B, v4("198.51.100.5")));
  EXPECT_EQ(describeAll(s.analyze().findings()),
            (std::vector<std::string>{
                "error dad_conflict ip=198.51.100.5 macs=52:54:00:00:00:0a,52:54:00:00:00:0b "
                "count=1 t=0.5..0.5"}));
}

TEST(CaptureAnalyzerTest, SpoofingSigns) {
  Scenario s;
  s.add(0, buildArpRequest(A, v4("192.0.2.10"), v4("192.0.2.1")));
  s.add(0.001, buildArpReply(G, v4("192.0.2.1"), A, v4("192.0.2.10")));
  // A gratuitous reply takes the gateway's address over.
  s.add(1, buildArpAnnouncement(X, v4("192.0.2.1"), AnnouncementForm::kReply));
  // The gateway announces itself again (request form: not a poisoning sign).
  s.add(30, announce(G, "192.0.2.1"));
  // An unsolicited reply: nobody asked for 192.0.2.1 in the last 10 s.
  s.add(60, buildArpReply(X, v4("192.0.2.1"), A, v4("192.0.2.10")));
  // A solicited reply switching back is no poisoning sign (but a duplicate: X claimed 1 s ago).
  s.add(61, buildArpRequest(A, v4("192.0.2.10"), v4("192.0.2.1")));
  s.add(61.001, buildArpReply(G, v4("192.0.2.1"), A, v4("192.0.2.10")));
  // Ethernet source differs from the ARP sender hardware address.
  ArpFields forged;
  forged.op = 1;
  forged.eth_src = X;
  forged.eth_dst = addr::Mac(addr::Mac::kMask);
  forged.sender_mac = B;
  forged.sender_ip = v4("192.0.2.11");
  forged.target_ip = v4("192.0.2.1");
  s.add(70, buildArp(forged));
  s.add(71, buildArp(forged));
  EXPECT_EQ(describeAll(s.analyze().findings()),
            (std::vector<std::string>{
                "error duplicate_ip ip=192.0.2.1 macs=52:54:00:00:00:01,02:00:00:00:00:99 "
                "count=2 t=1..61.001",
                "error arp_poisoning mac=02:00:00:00:00:99 macs=52:54:00:00:00:01 "
                "ips=192.0.2.1 count=2 t=1..60",
                "warning ethernet_arp_mismatch ip=192.0.2.11 mac=02:00:00:00:00:99 "
                "macs=52:54:00:00:00:0b count=2 t=70..71",
                "info new_station count=4 t=0..70"}));
}

TEST(CaptureAnalyzerTest, OneMacClaimingManyAddresses) {
  Scenario s;
  for (int i = 0; i < 10; ++i) s.add(i, announce(X, "203.0.113." + std::to_string(100 + i)));
  for (int i = 0; i < 8; ++i) s.add(i, announce(A, "198.51.100." + std::to_string(100 + i)));
  auto findings = s.analyze().findings();
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(describe(findings[0]),
            "error arp_poisoning mac=02:00:00:00:00:99 ips=203.0.113.100,203.0.113.101,"
            "203.0.113.102,203.0.113.103,203.0.113.104,203.0.113.105,203.0.113.106,"
            "203.0.113.107,203.0.113.108,203.0.113.109 count=2 t=8..9");
  EXPECT_NE(findings[0].detail.find("claims more than 8 IPv4 addresses"), std::string::npos)
      << findings[0].detail;
  EXPECT_EQ(describe(findings[1]), "info new_station count=18 t=0..9");
}

TEST(CaptureAnalyzerTest, VlansAreSeparateSegments) {
  Scenario s;
  s.add(0, announce(A, "192.0.2.10", 10));
  s.add(1, announce(B, "192.0.2.10", 20));  // same address, other VLAN: no conflict
  s.add(2, announce(B, "192.0.2.10", 10));
  EXPECT_EQ(
      describeAll(s.analyze().findings()),
      (std::vector<std::string>{"error duplicate_ip vlan=10 ip=192.0.2.10 macs=52:54:00:00:00:0a,"
                                "52:54:00:00:00:0b count=1 t=2..2",
                                "info new_station count=3 t=0..2"}));
}

TEST(CaptureAnalyzerTest, CountsMalformedAndOtherTraffic) {
  Scenario s;
  auto ns = buildNeighborSolicitation(A, v6("2001:db8::a"), v6("2001:db8::1"));
  auto bad = ns;
  bad.data[70] ^= 0xff;  // inside the target: checksum no longer verifies
  s.add(0, bad);
  std::vector<std::uint8_t> ipv4(60, 0);
  ipv4[12] = 0x08;
  s.add(1, ipv4);
  std::vector<std::uint8_t> runt(10, 0xab);
  s.add(2, runt);
  s.add(3, ns);
  CaptureAnalyzer a = s.analyze();
  const auto& c = a.counts();
  EXPECT_EQ(c.frames, 4u);
  EXPECT_EQ(c.by_error[static_cast<std::size_t>(ParseError::kBadChecksum)], 1u);
  EXPECT_EQ(c.by_error[static_cast<std::size_t>(ParseError::kNotArpOrNdp)], 1u);
  EXPECT_EQ(c.by_error[static_cast<std::size_t>(ParseError::kTruncated)], 1u);
  EXPECT_EQ(kindCount(a, FrameKind::kNeighborSolicitation), 1u);
}

TEST(CaptureAnalyzerTest, NewStationExamplesAreTheFirstN) {
  Scenario s;
  for (int i = 0; i < 30; ++i) {
    s.add(30 - i, announce(addr::Mac(0x020000000100ull + i), "198.51.100." + std::to_string(i)));
  }
  AnalyzerOptions options;
  options.examples = 3;
  auto findings = s.analyze(options).findings();
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].count, 30u);
  ASSERT_EQ(findings[0].stations.size(), 3u);
  // Written in reverse time order: the earliest sightings are the last frames written.
  EXPECT_EQ(findings[0].stations[0].ip, ip("198.51.100.29"));
  EXPECT_EQ(findings[0].stations[1].ip, ip("198.51.100.28"));
  EXPECT_EQ(findings[0].stations[2].ip, ip("198.51.100.27"));
}

TEST(CaptureAnalyzerTest, PropertyRandomFramesNeverCrashAndReportDeterministically) {
  // Random claims among few addresses and MACs (so conflicts happen), plus random garbage;
  // the same frames give the same report, sorted, and counts add up.
  std::mt19937_64 rng(77);
  std::vector<std::pair<std::uint64_t, FrameBytes>> frames;
  std::uint64_t t = at(0);
  std::vector<addr::Mac> macs = {A, B, G, X};
  for (int i = 0; i < 20'000; ++i) {
    t += rng() % 3'000'000;
    addr::Mac m = macs[rng() % macs.size()];
    addr::Ipv4 a(0xc0000200u + static_cast<std::uint32_t>(rng() % 6));
    addr::Ipv6 b((addr::uint128{0x20010db8ull << 32} << 64) | (rng() % 6));
    FrameBytes f;
    switch (rng() % 8) {
      case 0:
        f = buildArpRequest(m, a, addr::Ipv4(0xc0000201u));
        break;
      case 1:
        f = buildArpReply(m, a, macs[rng() % 4], addr::Ipv4(0xc0000201u));
        break;
      case 2:
        f = buildArpProbe(m, a);
        break;
      case 3:
        f = buildArpAnnouncement(m, a,
                                 rng() % 2 ? AnnouncementForm::kReply : AnnouncementForm::kRequest);
        break;
      case 4:
        f = buildDadProbe(m, b);
        break;
      case 5:
        f = buildNeighborAdvertisement(m, b, kNaOverride);
        break;
      case 6:
        f = buildNeighborSolicitation(m, b, v6("2001:db8::1"));
        break;
      default:
        f.size = rng() % 80;
        for (std::size_t j = 0; j < f.size; ++j) f.data[j] = static_cast<std::uint8_t>(rng());
    }
    frames.emplace_back(t, f);
  }
  auto run = [&] {
    CaptureAnalyzer analyzer;
    for (const auto& [time, f] : frames) analyzer.addFrame(f.bytes(), time);
    return analyzer;
  };
  CaptureAnalyzer first = run();
  auto findings = first.findings();
  EXPECT_EQ(describeAll(findings), describeAll(run().findings()));
  EXPECT_TRUE(std::is_sorted(findings.begin(), findings.end(), findingOrder));
  std::uint64_t sum = 0;
  for (auto n : first.counts().by_kind) sum += n;
  for (auto n : first.counts().by_error) sum += n;
  EXPECT_EQ(sum, first.counts().frames);
  EXPECT_EQ(first.counts().frames, frames.size());
  std::set<FindingKind> kinds;
  for (const auto& f : findings) kinds.insert(f.kind);
  EXPECT_TRUE(kinds.count(FindingKind::kDuplicateIp));
  EXPECT_TRUE(kinds.count(FindingKind::kDadConflict));
  EXPECT_TRUE(kinds.count(FindingKind::kArpPoisoning));
  for (const auto& f : findings) {
    EXPECT_LE(f.first_us, f.last_us) << describe(f);
    EXPECT_GT(f.count, 0u) << describe(f);
  }
}

}  // namespace
}  // namespace netledger::wire
