// What the enforcer decides before nftables sees it: which bindings a page holds, which port
// each is behind, what a learned port is worth. The table itself is judged on a real kernel in
// tests/enforce/nftables_test.cc and by tests/netns/enforce_netns_test.py.
#include "agent/enforcer.h"

#include <gtest/gtest.h>

#include "addr/addr_test_util.h"
#include "wire/frames.h"

namespace netledger::agent {
namespace {

using addr::testing_util::ip;
using addr::testing_util::mac;
using enforce::EnforceMode;

const char* kPage = R"({"items":[
  {"id":"1","state":"active","mac":"02:00:00:00:00:01","addresses":["192.0.2.1","2001:db8::1"],
   "labels":{"port":"tap1"}},
  {"id":"2","state":"reserved","mac":"02:00:00:00:00:02","addresses":["192.0.2.2"],"labels":{}},
  {"id":"3","state":"released","mac":"02:00:00:00:00:03","addresses":["192.0.2.3"]},
  {"id":"4","state":"active","mac":null,"addresses":["192.0.2.4"]},
  {"id":"5","state":"active","mac":"02:00:00:00:00:05","addresses":["not-an-ip"]},
  "garbage"],
  "next_cursor":"c2"})";

TEST(NodeBindingsTest, APageKeepsTheBindingsThatHavePairs) {
  auto page = nodeBindingsFromJson(kPage);
  ASSERT_TRUE(page.isOk()) << page.status().message();
  ASSERT_EQ(page->bindings.size(), 2u);  // released, MAC-less and malformed ones are left out
  EXPECT_EQ(page->bindings[0].id, 1u);
  EXPECT_EQ(page->bindings[0].port, "tap1");
  EXPECT_EQ(page->bindings[0].addresses.size(), 2u);
  EXPECT_EQ(page->bindings[1].id, 2u);
  EXPECT_EQ(page->bindings[1].port, "");
  EXPECT_EQ(page->next_cursor, "c2");
  auto last = nodeBindingsFromJson(R"({"items":[],"next_cursor":null})");
  ASSERT_TRUE(last.isOk());
  EXPECT_EQ(last->next_cursor, "");
}

TEST(NodeBindingsTest, NotAPageIsAnError) {
  for (const char* bad : {"", "{", "[]", "{\"items\":{}}", "null", "{\"next_cursor\":\"x\"}"}) {
    auto r = nodeBindingsFromJson(bad);
    ASSERT_FALSE(r.isOk()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(PortForwardsTest, ARunIsExpandedPortByPortAndDeadMappingsAreLeftOut) {
  auto f = portForwardsFromJson(R"({"items":[
    {"protocol":"tcp","host_address":null,"host_port":8080,"host_port_end":8080,"port":80,
     "address":"192.0.2.1"},
    {"protocol":"udp","host_address":"203.0.113.7","host_port":5000,"host_port_end":5002,
     "port":6000,"address":"2001:db8::1"},
    {"protocol":"tcp","host_address":null,"host_port":9000,"host_port_end":9000,"port":90,
     "address":null},
    {"protocol":"tcp","host_port":0,"host_port_end":0,"port":80,"address":"192.0.2.1"},
    {"protocol":"tcp","host_port":65535,"host_port_end":65535,"port":65535,"address":"192.0.2.1",
     "host_address":"bad"},
    {"protocol":"tcp","host_port":100,"host_port_end":99,"port":80,"address":"192.0.2.1"},
    {"protocol":"tcp","host_port":10,"host_port_end":12,"port":65534,"address":"192.0.2.1"},
    {"protocol":"icmp","host_port":1,"host_port_end":1,"port":1,"address":"192.0.2.1"},
    {"protocol":"tcp","host_port":1,"host_port_end":2000,"port":1,"address":"192.0.2.1"},
    7]})");
  ASSERT_TRUE(f.isOk()) << f.status().message();
  ASSERT_EQ(f->size(), 4u);
  EXPECT_EQ((*f)[0].host_port, 8080);
  EXPECT_EQ((*f)[0].target_port, 80);
  EXPECT_FALSE((*f)[0].host_address.has_value());
  EXPECT_EQ((*f)[3].protocol, "udp");
  EXPECT_EQ((*f)[3].host_port, 5002);
  EXPECT_EQ((*f)[3].target_port, 6002);
  EXPECT_EQ((*f)[3].host_address, ip("203.0.113.7"));
  EXPECT_EQ((*f)[3].target, ip("2001:db8::1"));
  for (const char* bad : {"", "[]", "{\"items\":1}"}) {
    EXPECT_EQ(portForwardsFromJson(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

wire::Frame frameFrom(addr::Mac src) {
  wire::Frame f;
  f.eth_src = src;
  return f;
}

TEST(PortLearnerTest, TheFirstPortHeardKeepsTheMacUntilForgotten) {
  std::vector<addr::Mac> told;
  PortLearner learner({}, [&](addr::Mac m) { told.push_back(m); });
  learner.onFrame(frameFrom(mac("02:00:00:00:00:02")), "veth2");
  learner.onFrame(frameFrom(mac("02:00:00:00:00:02")), "veth9");  // a spoofer, later: ignored
  EXPECT_EQ(learner.portOf(mac("02:00:00:00:00:02")), "veth2");
  EXPECT_EQ(told.size(), 1u);
  EXPECT_FALSE(learner.portOf(mac("02:00:00:00:00:03")).has_value());
  learner.retain({mac("02:00:00:00:00:02")}, {"veth1"});  // veth2 is gone
  EXPECT_FALSE(learner.portOf(mac("02:00:00:00:00:02")).has_value());
  learner.onFrame(frameFrom(mac("02:00:00:00:00:02")), "veth9");
  EXPECT_EQ(learner.portOf(mac("02:00:00:00:00:02")), "veth9");
  learner.retain({}, {"veth9"});  // the binding left the node
  EXPECT_FALSE(learner.portOf(mac("02:00:00:00:00:02")).has_value());
}

TEST(SpecForTest, LabelsWinLearnedPortsFillInOthersAreHeld) {
  auto page = nodeBindingsFromJson(kPage).value();
  PortLearner learned;
  learned.onFrame(frameFrom(mac("02:00:00:00:00:02")), "tap2");
  learned.onFrame(frameFrom(mac("02:00:00:00:00:01")), "tap2");  // the label says tap1
  auto spec = specFor(EnforceMode::kEnforce, {"tap1", "tap2", "uplink", "bad name"}, {"uplink"},
                      page.bindings, learned);
  EXPECT_EQ(spec.guarded_ports, (std::vector<std::string>{"tap1", "tap2"}));
  ASSERT_EQ(spec.bindings.size(), 2u);
  EXPECT_EQ(spec.bindings[0].port, "tap1");
  EXPECT_EQ(spec.bindings[1].port, "tap2");
  EXPECT_EQ(spec.bindings[1].addresses, std::vector<addr::IpAddress>{ip("192.0.2.2")});
  EXPECT_TRUE(spec.held_macs.empty());
  EXPECT_TRUE(enforce::renderRuleset(spec).isOk());
}

TEST(SpecForTest, ABindingWithNoKnownPortOrBehindATrustedOneIsHeld) {
  auto page = nodeBindingsFromJson(kPage).value();
  PortLearner nothing;
  auto spec = specFor(EnforceMode::kMonitor, {"tap1", "tap2"}, {"tap1"}, page.bindings, nothing);
  EXPECT_EQ(spec.guarded_ports, std::vector<std::string>{"tap2"});
  EXPECT_TRUE(spec.bindings.empty());  // 1 is behind a trusted port, 2 was never heard
  EXPECT_EQ(spec.held_macs,
            (std::vector<addr::Mac>{mac("02:00:00:00:00:01"), mac("02:00:00:00:00:02")}));
  EXPECT_EQ(spec.mode, EnforceMode::kMonitor);
}

TEST(SpecForTest, APortTakesTheStrictestModeOfItsBindingsPools) {
  auto page = nodeBindingsFromJson(R"({"items":[
    {"id":"1","state":"active","mac":"02:00:00:00:00:01","addresses":["192.0.2.1","192.0.2.9"],
     "address_pools":[{"ip":"192.0.2.1","pool":"lax"},{"ip":"192.0.2.9","pool":"strict"}],
     "labels":{"port":"tap1"}},
    {"id":"2","state":"active","mac":"02:00:00:00:00:02","addresses":["192.0.2.2"],
     "address_pools":[{"ip":"192.0.2.2","pool":"lax"}],"labels":{"port":"tap2"}},
    {"id":"3","state":"active","mac":"02:00:00:00:00:03","addresses":["192.0.2.3"],
     "address_pools":[{"ip":"192.0.2.3","pool":"plain"}],"labels":{"port":"tap3"}}]})")
                  .value();
  ASSERT_EQ(page.bindings[0].pools, (std::vector<std::string>{"lax", "strict"}));
  auto modes = poolModesFromJson(R"({"items":[{"name":"lax","enforcement":"off"},
    {"name":"strict","enforcement":"enforce"},{"name":"plain","enforcement":null},
    {"name":"odd","enforcement":"sometimes"}]})")
                   .value();
  EXPECT_EQ(modes.size(), 2u);  // null and unknown modes leave it to the agent
  PortLearner nothing;
  auto spec = specFor(EnforceMode::kMonitor, {"tap1", "tap2", "tap3", "tap4"}, {}, page.bindings,
                      nothing, modes);
  EXPECT_EQ(spec.port_modes.at("tap1"), EnforceMode::kEnforce);  // strict beats lax
  EXPECT_EQ(spec.port_modes.at("tap2"), EnforceMode::kOff);
  EXPECT_EQ(spec.port_modes.at("tap3"), EnforceMode::kMonitor);  // the agent's own
  EXPECT_FALSE(spec.port_modes.contains("tap4"));                // no binding: the agent's
  auto script = enforce::renderRuleset(spec).value();
  EXPECT_NE(script.find("goto check_enforce"), std::string::npos);
  EXPECT_EQ(poolModesFromJson("[]").status().code(), StatusCode::kInvalidArgument);
  // Carved pools take their nearest ancestor's mode; a loop of parents ends.
  auto inherited = poolModesFromJson(R"({"items":[{"name":"top","enforcement":"monitor"},
    {"name":"mid","parent":"top","enforcement":null},{"name":"leaf","parent":"mid"},
    {"name":"own","parent":"top","enforcement":"off"},
    {"name":"a","parent":"b"},{"name":"b","parent":"a"}]})")
                       .value();
  EXPECT_EQ(inherited.at("leaf"), EnforceMode::kMonitor);
  EXPECT_EQ(inherited.at("mid"), EnforceMode::kMonitor);
  EXPECT_EQ(inherited.at("own"), EnforceMode::kOff);
  EXPECT_FALSE(inherited.contains("a"));
}

TEST(PortLearnerTest, OnlyWantedFramesAreLearned) {
  int told = 0;
  PortLearner learner(
      [](addr::Mac m, const std::string& port) {
        return m == mac("02:00:00:00:00:02") && port != "uplink";
      },
      [&](addr::Mac) { ++told; });
  learner.onFrame(frameFrom(mac("02:00:00:00:00:02")), "uplink");  // a migrating VM, via uplink
  learner.onFrame(frameFrom(mac("02:00:00:00:00:77")), "tap7");    // nobody waits for it
  EXPECT_FALSE(learner.portOf(mac("02:00:00:00:00:02")).has_value());
  EXPECT_FALSE(learner.portOf(mac("02:00:00:00:00:77")).has_value());
  learner.onFrame(frameFrom(mac("02:00:00:00:00:02")), "tap2");
  EXPECT_EQ(learner.portOf(mac("02:00:00:00:00:02")), "tap2");
  EXPECT_EQ(told, 1);
}

}  // namespace
}  // namespace netledger::agent
