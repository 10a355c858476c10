// The rendered table: what it lets through is proven on a real kernel in nftables_test.cc; these
// pin what the renderer promises without one (names, refusals, one element per pair, modes).
#include "enforce/ruleset.h"

#include "enforce/drop_log.h"

#include <gtest/gtest.h>

#include <random>

#include "addr/addr_test_util.h"

namespace netledger::enforce {
namespace {

using addr::testing_util::ip;
using addr::testing_util::mac;

RulesetSpec twoPorts(EnforceMode mode) {
  RulesetSpec spec;
  spec.mode = mode;
  spec.guarded_ports = {"vm1p", "vm2p"};
  spec.bindings.push_back({"vm1p", mac("02:00:00:00:00:01"), {ip("192.0.2.1"), ip("2001:db8::1")}});
  spec.bindings.push_back({"vm2p", mac("02:00:00:00:00:02"), {ip("192.0.2.2")}});
  return spec;
}

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1))
    ++n;
  return n;
}

TEST(RulesetTest, ReplacesOnlyItsOwnTableInOneScript) {
  auto script = renderRuleset(twoPorts(EnforceMode::kEnforce));
  ASSERT_TRUE(script.isOk()) << script.status().message();
  EXPECT_EQ(script->rfind("add table bridge netledger\ndelete table bridge netledger\n", 0), 0u);
  EXPECT_EQ(count(*script, "table bridge netledger"), 3u);  // add, delete, define
  // No forwards asked for and no plain host interface guarded: those tables are removed (add +
  // delete), nothing else named.
  EXPECT_EQ(count(*script, "table inet netledger"), 2u);
  EXPECT_EQ(count(*script, "table netdev netledger"), 2u);
  EXPECT_EQ(count(*script, "table "), 7u);
  EXPECT_EQ(script->find("flush ruleset"), std::string::npos);
}

TEST(RulesetTest, ForwardsAreMapElementsOfTheirFamilyAndAddress) {
  RulesetSpec spec = twoPorts(EnforceMode::kOff);
  spec.forwards = std::vector<PortForward>{
      {"tcp", std::nullopt, 8080, ip("192.0.2.1"), 80},
      {"udp", ip("203.0.113.7"), 5000, ip("192.0.2.2"), 5001},
      {"tcp", std::nullopt, 8443, ip("2001:db8::1"), 443},
      {"tcp", ip("203.0.113.7"), 9000, ip("2001:db8::1"), 90},  // families differ: skipped
  };
  auto script = renderRuleset(spec).value();
  EXPECT_EQ(script.find("table bridge netledger {"), std::string::npos);  // mode off
  EXPECT_EQ(count(script, "table inet netledger {"), 1u);
  EXPECT_NE(script.find("tcp . 8080 : 192.0.2.1 . 80"), std::string::npos);
  EXPECT_NE(script.find("203.0.113.7 . udp . 5000 : 192.0.2.2 . 5001"), std::string::npos);
  EXPECT_NE(script.find("tcp . 8443 : 2001:db8::1 . 443"), std::string::npos);
  EXPECT_EQ(script.find("9000"), std::string::npos);
  EXPECT_NE(script.find("192.0.2.1 . tcp . 80"), std::string::npos);  // masqueraded target
  EXPECT_NE(script.find("masquerade"), std::string::npos);
  // Only traffic for the node itself is forwarded, never what it routes or bridges.
  EXPECT_EQ(count(script, "fib daddr type local dnat"), 8u);  // 2 families x 2 chains x 2 maps
  EXPECT_EQ(count(script, "dnat ip to ") + count(script, "dnat ip6 to "), 8u);
  spec.forwards->push_back({"icmp", std::nullopt, 1, ip("192.0.2.1"), 1});
  EXPECT_EQ(renderRuleset(spec).status().code(), StatusCode::kInvalidArgument);
}

TEST(RulesetTest, PortModesPickTheirChecksAndOnlyTheChainsInUseAreRendered) {
  RulesetSpec spec = twoPorts(EnforceMode::kEnforce);
  spec.port_modes = {{"vm2p", EnforceMode::kMonitor}};
  auto mixed = renderRuleset(spec).value();
  EXPECT_NE(mixed.find("iifname @monitored_ports goto check_monitor"), std::string::npos);
  EXPECT_NE(mixed.find("goto check_enforce"), std::string::npos);
  EXPECT_NE(mixed.find("chain check_monitor"), std::string::npos);
  EXPECT_NE(mixed.find("chain check_enforce"), std::string::npos);
  spec.port_modes = {{"vm1p", EnforceMode::kOff}, {"vm2p", EnforceMode::kOff}};
  auto none = renderRuleset(spec).value();
  EXPECT_NE(none.find("set guarded_ports {\n    type ifname;\n  }"), std::string::npos) << none;
  EXPECT_EQ(none.find("chain check_"), std::string::npos);  // nothing guarded: no checks
  // One mode in use: its checks are the guard chain itself (no jump per frame).
  auto one = renderRuleset(twoPorts(EnforceMode::kEnforce)).value();
  EXPECT_EQ(one.find("check_"), std::string::npos);
  EXPECT_EQ(one.find("goto"), std::string::npos);
}

TEST(RulesetTest, EveryRefusedFrameIsLoggedToTheGroupWithItsClass) {
  RulesetSpec spec = twoPorts(EnforceMode::kEnforce);
  EXPECT_EQ(renderRuleset(spec).value().find("log group"), std::string::npos);
  spec.log_group = 7421;
  auto script = renderRuleset(spec).value();
  for (DropClass c : kDropClasses) {
    const std::string name(dropClassName(c));
    EXPECT_NE(script.find("log group 7421 prefix \"" + name + "\" drop"), std::string::npos)
        << name;
  }
  spec.mode = EnforceMode::kMonitor;  // counted, logged and let through
  EXPECT_NE(renderRuleset(spec).value().find("prefix \"ipv4_spoof\" accept"), std::string::npos);
}

TEST(LoggedDropTest, HeadersAreReadOrRefusedNeverPastTheirEnd) {
  const std::vector<std::uint8_t> eth{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 9, 8, 0};
  std::vector<std::uint8_t> v4(20, 0);
  v4[0] = 0x45;
  v4[12] = 192, v4[13] = 0, v4[14] = 2, v4[15] = 7;
  auto d = parseLoggedDrop("ipv4_spoof", "tap1", eth, v4);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->cls, DropClass::kIpv4Spoof);
  EXPECT_EQ(d->mac, mac("02:00:00:00:00:09"));
  EXPECT_EQ(d->ip, ip("192.0.2.7"));
  EXPECT_FALSE(parseLoggedDrop("ipv4_spoof", "tap1", eth, std::span(v4).first(19))->ip);
  EXPECT_FALSE(parseLoggedDrop("something", "tap1", eth, v4).has_value());
  EXPECT_FALSE(parseLoggedDrop("mac_spoof", "tap1", std::span(eth).first(11), v4).has_value());
}

TEST(RulesetTest, EachPairIsAnElementOfItsFamilysSet) {
  auto script = renderRuleset(twoPorts(EnforceMode::kEnforce)).value();
  EXPECT_NE(script.find("\"vm1p\" . 02:00:00:00:00:01 . 192.0.2.1"), std::string::npos);
  EXPECT_NE(script.find("\"vm2p\" . 02:00:00:00:00:02 . 192.0.2.2"), std::string::npos);
  EXPECT_NE(script.find("\"vm1p\" . 02:00:00:00:00:01 . 2001:db8::1"), std::string::npos);
  EXPECT_NE(script.find("\"vm1p\" . 02:00:00:00:00:01 . 0x20010db8000000000000000000000001"),
            std::string::npos);
  EXPECT_EQ(count(script, "\"vm2p\" . 02:00:00:00:00:02"), 2u);  // port_macs and v4_pairs
}

TEST(RulesetTest, EnforceDropsAndMonitorOnlyCounts) {
  auto enforce = renderRuleset(twoPorts(EnforceMode::kEnforce)).value();
  auto monitor = renderRuleset(twoPorts(EnforceMode::kMonitor)).value();
  for (DropClass c : kDropClasses) {
    std::string counted = "counter name \"" + std::string(dropClassName(c)) + "\"";
    EXPECT_GE(count(enforce, counted + " drop"), 1u) << dropClassName(c);
    EXPECT_EQ(count(monitor, counted + " drop"), 0u) << dropClassName(c);
    EXPECT_GE(count(monitor, counted + " accept"), 1u) << dropClassName(c);
  }
  EXPECT_EQ(count(monitor, " drop"), 0u);
}

TEST(RulesetTest, OffRemovesTheTable) {
  auto off = renderRuleset(twoPorts(EnforceMode::kOff)).value();
  EXPECT_EQ(off, renderRemoval());
  EXPECT_EQ(off,
            "add table bridge netledger\ndelete table bridge netledger\n"
            "add table netdev netledger\ndelete table netdev netledger\n"
            "add table inet netledger\ndelete table inet netledger\n");
}

TEST(RulesetTest, BadPortNamesAreRefusedByName) {
  for (std::string bad : {"", "0123456789abcdef", "vm1\" accept", "a b", "x;y", "br0@if3"}) {
    for (int where = 0; where < 2; ++where) {
      RulesetSpec spec = twoPorts(EnforceMode::kEnforce);
      if (where == 0) spec.guarded_ports.push_back(bad);
      if (where == 1) spec.bindings.push_back({bad, mac("02:00:00:00:00:09"), {}});
      auto r = renderRuleset(spec);
      ASSERT_FALSE(r.isOk()) << bad << " " << where;
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find("\"" + bad + "\": not an interface name"),
                std::string::npos);
    }
  }
}

TEST(RulesetTest, HeldMacsAreBoundButPassNothing) {
  RulesetSpec spec = twoPorts(EnforceMode::kEnforce);
  spec.held_macs.push_back(mac("02:00:00:00:00:07"));
  auto script = renderRuleset(spec).value();
  const auto bound = script.find("set bound_macs");
  ASSERT_NE(bound, std::string::npos);
  EXPECT_NE(script.find("02:00:00:00:00:07", bound), std::string::npos);
  EXPECT_EQ(count(script, "02:00:00:00:00:07"), 1u);  // in no pair set
}

TEST(RulesetTest, ModesParseAndNameEachOther) {
  for (auto m : {EnforceMode::kOff, EnforceMode::kMonitor, EnforceMode::kEnforce}) {
    EXPECT_EQ(parseEnforceMode(enforceModeName(m)).value(), m);
  }
  auto bad = parseEnforceMode("block");
  ASSERT_FALSE(bad.isOk());
  EXPECT_NE(bad.status().message().find("\"block\""), std::string::npos);
}

// Property: any valid name is used quoted exactly once per set it appears in, and any name with
// a character outside the kernel's safe set is refused (so no input can change the script).
TEST(RulesetTest, PortNamesAreAcceptedExactlyWhenSafe) {
  std::mt19937 rng(7);
  const std::string alphabet = "abcXYZ019-_.\" ;{}@/\\\n";
  for (int i = 0; i < 2000; ++i) {
    std::string name(std::uniform_int_distribution<int>(0, 17)(rng), 'a');
    for (char& c : name)
      c = alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
    bool safe = !name.empty() && name.size() <= 15 &&
                name.find_first_not_of("abcXYZ019-_.") == std::string::npos;
    EXPECT_EQ(validPortName(name), safe) << name;
    RulesetSpec spec;
    spec.mode = EnforceMode::kEnforce;
    spec.guarded_ports = {name};
    spec.bindings.push_back({name, mac("02:00:00:00:00:01"), {ip("192.0.2.1")}});
    auto r = renderRuleset(spec);
    ASSERT_EQ(r.isOk(), safe) << name;
    if (safe) {
      EXPECT_EQ(count(*r, "\"" + name + "\" . 02:00:00:00:00:01 . 192.0.2.1"), 1u);
    }
  }
}

}  // namespace
}  // namespace netledger::enforce
