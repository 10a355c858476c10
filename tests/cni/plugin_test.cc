// The IPAM result from an allocation answer (with and without address_networks) and the
// sandbox MAC reader's failure paths. The plugin against a real netledgerd is in
// tests/integration/cni_plugin_test.cc, driven by the reference plugins in tests/netns.
#include "cni/plugin.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "cni/sandbox_mac.h"

namespace netledger::cni {
namespace {

namespace json = boost::json;

NetConfig ipamConf(const std::string& version) {
  auto conf = parseNetConfig(R"({"cniVersion":")" + version +
                                 R"(","name":"n","type":"bridge","ipam":{"type":"netledger-cni",
      "server":"http://x","pools":["v4","v6"]}})",
                             Command::kAdd);
  EXPECT_TRUE(conf.isOk()) << conf.error().msg;
  return *conf;
}

json::object binding(std::string_view text) { return json::parse(text).as_object(); }

TEST(CniIpamResultTest, UsesTheAllocationsAddressNetworks) {
  // What netledgerd answers to POST /v1/bindings: no pool needs to be read.
  auto b = binding(R"({"addresses":["198.51.100.7","2001:db8:1::5"],
      "address_pools":[{"ip":"198.51.100.7","pool":"v4"},{"ip":"2001:db8:1::5","pool":"v6"}],
      "address_networks":[
        {"ip":"198.51.100.7","pool":"v4","prefix":"198.51.100.0/24","gateway":"198.51.100.1"},
        {"ip":"2001:db8:1::5","pool":"v6","prefix":"2001:db8:1::/64","gateway":null}]})");
  auto result = ipamResult(ipamConf("0.4.0"), b, {});
  ASSERT_TRUE(result.isOk()) << result.error().msg;
  EXPECT_EQ(json::serialize(result->at("ips")),
            R"([{"version":"4","address":"198.51.100.7/24","gateway":"198.51.100.1"},)"
            R"({"version":"6","address":"2001:db8:1::5/64"}])");
  auto v1 = ipamResult(ipamConf("1.0.0"), b, {});
  ASSERT_TRUE(v1.isOk()) << v1.error().msg;
  EXPECT_EQ(json::serialize(v1->at("ips").at(0)),
            R"({"address":"198.51.100.7/24","gateway":"198.51.100.1"})");
}

TEST(CniIpamResultTest, FallsBackToThePoolsWithoutAddressNetworks) {
  // A netledgerd older than address_networks: the plugin read each pool (GET /v1/pools/{name}).
  auto b = binding(R"({"addresses":["198.51.100.7","2001:db8:1::5"],
      "address_pools":[{"ip":"198.51.100.7","pool":"v4"},{"ip":"2001:db8:1::5","pool":"v6"}],
      "address_networks":[
        {"ip":"198.51.100.7","pool":"v4","prefix":"198.51.100.0/24","gateway":"198.51.100.1"}]})");
  std::map<std::string, json::object> pools;
  pools["v6"] = binding(R"({"name":"v6","cidrs":["2001:db8:1::/64"],"gateway":"2001:db8:1::1"})");
  auto result = ipamResult(ipamConf("1.0.0"), b, pools);
  ASSERT_TRUE(result.isOk()) << result.error().msg;
  EXPECT_EQ(json::serialize(result->at("ips")),
            R"([{"address":"198.51.100.7/24","gateway":"198.51.100.1"},)"
            R"({"address":"2001:db8:1::5/64","gateway":"2001:db8:1::1"}])");
  // Neither source knows the v6 address's prefix: a configuration error, not a guess.
  pools.clear();
  auto unknown = ipamResult(ipamConf("1.0.0"), b, pools);
  ASSERT_FALSE(unknown.isOk());
  EXPECT_EQ(unknown.error().code, kInvalidNetworkConfig);
  EXPECT_NE(unknown.error().msg.find("2001:db8:1::5"), std::string::npos);
}

TEST(CniIpamResultTest, IgnoresAnAnsweredPrefixThatDoesNotHoldTheAddress) {
  auto b = binding(R"({"addresses":["198.51.100.7"],
      "address_pools":[{"ip":"198.51.100.7","pool":"v4"}],
      "address_networks":[{"ip":"198.51.100.7","pool":"v4","prefix":"203.0.113.0/24",
                           "gateway":"203.0.113.1"}]})");
  std::map<std::string, json::object> pools;
  pools["v4"] = binding(R"({"name":"v4","cidrs":["198.51.100.0/25"],"gateway":"198.51.100.1"})");
  auto result = ipamResult(ipamConf("1.0.0"), b, pools);
  ASSERT_TRUE(result.isOk()) << result.error().msg;
  EXPECT_EQ(json::serialize(result->at("ips")),
            R"([{"address":"198.51.100.7/25","gateway":"198.51.100.1"}])");
}

TEST(CniSandboxMacTest, AnythingUnreadableIsNoMac) {
  EXPECT_FALSE(sandboxInterfaceMac("", "eth0"));
  EXPECT_FALSE(sandboxInterfaceMac("/nonexistent/netns", "eth0"));
  EXPECT_FALSE(sandboxInterfaceMac("/proc/self/ns/net", ""));
  EXPECT_FALSE(sandboxInterfaceMac("/proc/self/ns/net", "an-interface-name-too-long"));
  EXPECT_FALSE(sandboxInterfaceMac("/proc/self/ns/net", "no-such-if0"));
  // Not a network namespace: setns refuses it.
  EXPECT_FALSE(sandboxInterfaceMac("/proc/self/ns/uts", "lo"));
  // Loopback has no Ethernet address (and without privilege setns already fails).
  EXPECT_FALSE(sandboxInterfaceMac("/proc/self/ns/net", "lo"));
}

}  // namespace
}  // namespace netledger::cni
