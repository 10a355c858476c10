// The host-port rules (server/portmaps/port_map.h): when two mappings collide, how a free run is
// found (including a property check against brute force), and the stored form's round trip.
#include "server/portmaps/port_map.h"

#include <gtest/gtest.h>

#include <random>

#include <boost/json.hpp>

#include "addr/addr_test_util.h"

namespace netledger::server {
namespace {

using addr::testing_util::ip;

PortMap mapping(std::string id, std::string node, std::uint16_t first, std::uint16_t last,
                std::optional<addr::IpAddress> host = std::nullopt) {
  PortMap m;
  m.id = std::move(id);
  m.node = std::move(node);
  m.host_address = host;
  m.family = host ? host->family() : addr::IpFamily::kV4;
  m.host_ports = {first, last};
  m.binding_id = 7;
  m.port = 80;
  return m;
}

TEST(PortMapTest, CollisionsFollowNodeAddressProtocolAndFamily) {
  const PortMap any_a = mapping("a", "node-a", 8080, 8089);
  EXPECT_TRUE(collide(any_a, mapping("b", "node-a", 8089, 8089)));
  EXPECT_FALSE(collide(any_a, mapping("b", "node-a", 8090, 8095)));  // next to it
  EXPECT_FALSE(collide(any_a, mapping("b", "node-b", 8080, 8080)));  // another node
  EXPECT_TRUE(collide(any_a, mapping("b", "node-a", 8080, 8080, ip("203.0.113.7"))));
  PortMap udp = mapping("b", "node-a", 8080, 8080);
  udp.protocol = PortProtocol::kUdp;
  EXPECT_FALSE(collide(any_a, udp));
  PortMap v6 = mapping("b", "node-a", 8080, 8080);
  v6.family = addr::IpFamily::kV6;
  EXPECT_FALSE(collide(any_a, v6));
  // Two host addresses of one node do not share ports; one address shared by nodes does.
  const PortMap at7 = mapping("c", "node-a", 5000, 5000, ip("203.0.113.7"));
  EXPECT_FALSE(collide(at7, mapping("d", "node-a", 5000, 5000, ip("203.0.113.8"))));
  EXPECT_TRUE(collide(at7, mapping("d", "node-b", 5000, 5000, ip("203.0.113.7"))));
  EXPECT_FALSE(collide(at7, mapping("d", "node-b", 5000, 5000)));
}

TEST(PortMapTest, TheFirstFreeRunSkipsHoldersAndStopsAtTheRangesEnd) {
  std::vector<PortMap> held{mapping("a", "n", 100, 101), mapping("b", "n", 103, 103)};
  PortMap want = mapping("", "n", 0, 0);
  EXPECT_EQ(findFreeRun({100, 110}, 1, want, held)->first, 102);
  auto two = findFreeRun({100, 110}, 2, want, held);
  ASSERT_TRUE(two);
  EXPECT_EQ(two->first, 104);
  EXPECT_EQ(two->last, 105);
  EXPECT_FALSE(findFreeRun({100, 103}, 1, mapping("", "n", 0, 0), {mapping("a", "n", 100, 103)}));
  EXPECT_FALSE(findFreeRun({100, 101}, 3, want, {}));
  EXPECT_FALSE(findFreeRun({100, 101}, 0, want, {}));
  EXPECT_EQ(findFreeRun({65535, 65535}, 1, want, {})->first, 65535);  // no overflow at the top
  EXPECT_EQ(findFreeRun({100, 110}, 1, mapping("", "other", 0, 0), held)->first, 100);
}

// Property: whatever is held, the run found is inside the range, collides with nothing, and
// no lower start would have fit (brute force over the same range).
TEST(PortMapTest, FreeRunsAgreeWithBruteForce) {
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    const PortRun range{static_cast<std::uint16_t>(1000 + rng() % 10),
                        static_cast<std::uint16_t>(1040 + rng() % 10)};
    std::vector<PortMap> held;
    for (int i = 0, n = static_cast<int>(rng() % 12); i < n; ++i) {
      auto first = static_cast<std::uint16_t>(995 + rng() % 60);
      held.push_back(mapping("h" + std::to_string(i), rng() % 4 ? "n" : "m", first,
                             static_cast<std::uint16_t>(first + rng() % 4)));
    }
    const std::uint32_t count = 1 + rng() % 5;
    PortMap want = mapping("", "n", 0, 0);
    auto run = findFreeRun(range, count, want, held);
    std::optional<std::uint32_t> expected;
    for (std::uint32_t s = range.first; s + count - 1 <= range.last && !expected; ++s) {
      want.host_ports = {static_cast<std::uint16_t>(s), static_cast<std::uint16_t>(s + count - 1)};
      if (firstCollision(want, held) == nullptr) expected = s;
    }
    ASSERT_EQ(run.has_value(), expected.has_value()) << "round " << round;
    if (run) {
      EXPECT_EQ(run->first, *expected) << "round " << round;
      EXPECT_EQ(run->size(), count);
    }
  }
}

TEST(PortMapTest, TheStoredFormRoundTripsAndDamageIsInternal) {
  PortMap m = mapping("pm-1", "node-a", 5000, 5009, ip("2001:db8::7"));
  m.protocol = PortProtocol::kSctp;
  m.instance = "vm-1";
  auto back = portMapFromDocument(boost::json::serialize(toJson(m)));
  ASSERT_TRUE(back.isOk()) << back.status().message();
  EXPECT_EQ(back->id, "pm-1");
  EXPECT_EQ(back->host_address, ip("2001:db8::7"));
  EXPECT_EQ(back->family, addr::IpFamily::kV6);
  EXPECT_EQ(back->protocol, PortProtocol::kSctp);
  EXPECT_EQ(back->host_ports.last, 5009);
  EXPECT_EQ(back->instance, "vm-1");
  for (const char* bad : {"", "[]", "{\"id\":\"x\"}",
                          "{\"id\":\"x\",\"node\":\"n\",\"family\":\"ipv4\",\"protocol\":\"tcp\","
                          "\"host_port\":9,\"host_port_end\":8,\"binding_id\":1,\"port\":1,"
                          "\"instance\":\"\",\"created_by\":\"\",\"created_at\":\"\"}"}) {
    EXPECT_EQ(portMapFromDocument(bad).status().code(), StatusCode::kInternal) << bad;
  }
  auto range = portRangeFromDocument(
      boost::json::serialize(toJson(NodePortRange{"n", {10, 20}, {{22, 22}, {8080, 8089}}})));
  ASSERT_TRUE(range.isOk());
  EXPECT_EQ(range->range.last, 20);
  ASSERT_EQ(range->reserved.size(), 2u);
  EXPECT_EQ(range->reserved[1].last, 8089);
}

TEST(PortMapTest, ReservedPortsHoldAgainstEveryProtocolAndAddress) {
  PortMap want = mapping("", "n", 0, 0, ip("203.0.113.7"));
  want.protocol = PortProtocol::kUdp;
  auto held = reservedHolders(want, {{22, 22}, {8080, 8089}});
  ASSERT_EQ(held.size(), 2u);
  want.host_ports = {8085, 8085};
  EXPECT_NE(firstCollision(want, held), nullptr);
  EXPECT_EQ(findFreeRun({8080, 8099}, 2, want, held)->first, 8090);
  EXPECT_EQ(parsePortRun("8080-8089")->last, 8089);
  for (const char* bad : {"", "0", "65536", "9-8", "1-", "-1", "a", "1-2-3", "123456"}) {
    EXPECT_FALSE(parsePortRun(bad).has_value()) << bad;
  }
}

TEST(PortMapTest, ProtocolsByNameAnyCase) {
  EXPECT_EQ(parseProtocol("UDP").value(), PortProtocol::kUdp);
  auto bad = parseProtocol("icmp");
  ASSERT_FALSE(bad.isOk());
  EXPECT_NE(bad.status().message().find("protocol"), std::string::npos);
}

}  // namespace
}  // namespace netledger::server
