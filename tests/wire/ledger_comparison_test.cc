// A capture's stations against a ledger: mismatched bindings, unknown stations inside pools
// (gateway and reserved ranges exempt), and bound MACs claiming other addresses.
#include "wire/ledger_comparison.h"

#include <gtest/gtest.h>

#include "wire/wire_test_util.h"

namespace netledger::wire {
namespace {

using testing_util::at;
using testing_util::ip;
using testing_util::mac;

Station station(std::string_view address, std::string_view m, double first, double last,
                std::uint64_t frames) {
  return Station{ip(address), mac(m), Segment{}, at(first), at(last), frames};
}

LedgerView ledger() {
  LedgerView v;
  LedgerPool p;
  p.name = "lan";
  p.cidrs = {addr::Prefix::parse("192.0.2.0/24").value(),
             addr::Prefix::parse("2001:db8::/64").value()};
  p.gateway = ip("192.0.2.1");
  p.reserved = {addr::IpRange::parse("192.0.2.200-192.0.2.210").value()};
  v.pools.push_back(p);
  v.bindings.push_back({"7", "web-1", mac("52:54:00:00:00:0a"), {ip("192.0.2.10")}});
  v.bindings.push_back(
      {"8", "db-1", mac("52:54:00:00:00:0b"), {ip("192.0.2.11"), ip("2001:db8::b")}});
  v.bindings.push_back({"9", "no-mac", std::nullopt, {ip("192.0.2.12")}});
  return v;
}

std::string line(const Finding& f) {
  std::string s =
      std::string(severityName(f.severity)) + " " + std::string(findingKindName(f.kind));
  if (f.ip) s += " ip=" + f.ip->toString();
  if (f.mac) s += " mac=" + f.mac->toString();
  for (const auto& m : f.macs) s += " +" + m.toString();
  for (const auto& a : f.ips) s += " +" + a.toString();
  return s + " count=" + std::to_string(f.count);
}

std::vector<std::string> lines(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  for (const auto& f : findings) out.push_back(line(f));
  return out;
}

TEST(LedgerComparisonTest, AgreeingCaptureHasNoFindings) {
  std::vector<Station> stations = {
      station("192.0.2.1", "52:54:00:00:00:01", 0, 1, 4),  // gateway: exempt
      station("192.0.2.10", "52:54:00:00:00:0a", 0, 9, 3),
      station("192.0.2.11", "52:54:00:00:00:0b", 1, 2, 2),
      station("2001:db8::b", "52:54:00:00:00:0b", 1, 2, 1),
      station("fe80::5054:ff:fe00:b", "52:54:00:00:00:0b", 1, 2, 1),  // link-local: skipped
      station("192.0.2.12", "52:54:00:00:00:0c", 0, 1, 1),            // binding without MAC
      station("192.0.2.205", "52:54:00:00:00:0d", 0, 1, 1),           // reserved range
      station("198.51.100.7", "52:54:00:00:00:0e", 0, 1, 1),          // outside every pool
  };
  EXPECT_EQ(lines(compareWithLedger(stations, ledger())), std::vector<std::string>{});
}

TEST(LedgerComparisonTest, MismatchUnknownAndBoundMacElsewhere) {
  std::vector<Station> stations = {
      station("192.0.2.10", "52:54:00:00:00:0a", 0, 9, 3),
      station("192.0.2.10", "02:00:00:00:00:99", 4, 5, 2),   // spoofing the bound address
      station("192.0.2.50", "52:54:00:00:00:0e", 3, 8, 6),   // in the pool, nobody's
      station("192.0.2.51", "52:54:00:00:00:0a", 7, 7, 1),   // web-1's MAC on another IP
      station("2001:db8::a", "52:54:00:00:00:0a", 7, 7, 1),  // web-1 holds no IPv6: skipped
      station("2001:db8::c", "52:54:00:00:00:0b", 2, 3, 5),  // db-1's MAC, other IPv6
  };
  auto findings = compareWithLedger(stations, ledger());
  EXPECT_EQ(lines(findings),
            (std::vector<std::string>{
                "error binding_mismatch ip=192.0.2.10 mac=52:54:00:00:00:0a +02:00:00:00:00:99 "
                "count=2",
                "warning bound_mac_other_ip mac=52:54:00:00:00:0a +192.0.2.51 count=1",
                "warning bound_mac_other_ip mac=52:54:00:00:00:0b +2001:db8::c count=5",
                "warning unknown_station ip=192.0.2.50 +52:54:00:00:00:0e count=6",
                "warning unknown_station ip=192.0.2.51 +52:54:00:00:00:0a count=1",
                "warning unknown_station ip=2001:db8::a +52:54:00:00:00:0a count=1",
                "warning unknown_station ip=2001:db8::c +52:54:00:00:00:0b count=5"}));
  EXPECT_EQ(findings[0].first_us, at(4));
  EXPECT_EQ(findings[0].last_us, at(5));
  EXPECT_NE(findings[0].detail.find("binding 7 (web-1)"), std::string::npos) << findings[0].detail;
  EXPECT_NE(findings[3].detail.find("pool lan"), std::string::npos) << findings[3].detail;
}

Station on(Segment segment, Station s) {
  s.segment = segment;
  return s;
}

// A segment none of whose stations is in a pool managed there is someone else's network.
TEST(LedgerComparisonTest, RogueSegments) {
  LedgerView v = ledger();
  LedgerPool voice;
  voice.name = "voice";
  voice.cidrs = {addr::Prefix::parse("203.0.113.0/24").value()};
  voice.vlan = 7;
  v.pools.push_back(voice);
  std::vector<Station> stations = {
      station("192.0.2.10", "52:54:00:00:00:0a", 0, 9, 3),  // untagged, lan: managed
      on(Segment{42}, station("198.51.100.5", "02:00:00:00:00:42", 1, 2, 4)),  // nobody's
      on(Segment{42}, station("198.51.100.6", "02:00:00:00:00:43", 2, 3, 1)),
      on(Segment{42}, station("fe80::1", "02:00:00:00:00:44", 2, 3, 9)),      // link-local: ignored
      on(Segment{7}, station("203.0.113.9", "02:00:00:00:00:07", 1, 1, 1)),   // voice's VLAN
      on(Segment{9}, station("203.0.113.10", "02:00:00:00:00:09", 1, 1, 1)),  // voice, wrong VLAN
      on(Segment{5}, station("192.0.2.99", "02:00:00:00:00:05", 1, 1, 1)),    // lan has no VLAN
  };
  std::vector<std::string> rogue;
  for (const auto& f : compareWithLedger(stations, v)) {
    if (f.kind != FindingKind::kRogueSegment) continue;
    rogue.push_back(line(f) + " vlan=" + std::to_string(f.segment.vlan) +
                    " stations=" + std::to_string(f.stations.size()));
    EXPECT_NE(f.detail.find("VLAN " + std::to_string(f.segment.vlan)), std::string::npos);
  }
  EXPECT_EQ(rogue, (std::vector<std::string>{
                       "warning rogue_segment +02:00:00:00:00:09 count=1 vlan=9 stations=1",
                       "warning rogue_segment +02:00:00:00:00:42 +02:00:00:00:00:43 count=5 "
                       "vlan=42 stations=2"}));
}

TEST(LedgerComparisonTest, EmptyLedgerJudgesNothing) {
  std::vector<Station> stations = {station("192.0.2.10", "52:54:00:00:00:0a", 0, 9, 3)};
  EXPECT_TRUE(compareWithLedger(stations, LedgerView{}).empty());
}

}  // namespace
}  // namespace netledger::wire
