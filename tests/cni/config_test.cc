#include "cni/config.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "cni/plugin.h"

namespace netledger::cni {
namespace {

CniResult<CniEnv> envOf(std::map<std::string, std::string> vars) {
  return parseEnv([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

TEST(CniEnvTest, AddNeedsContainerNetnsAndIfname) {
  auto env = envOf({{"CNI_COMMAND", "ADD"}, {"CNI_CONTAINERID", "c1"}, {"CNI_IFNAME", "eth0"}});
  ASSERT_FALSE(env.isOk());
  EXPECT_EQ(env.error().code, kInvalidEnvironment);
  EXPECT_NE(env.error().msg.find("CNI_NETNS"), std::string::npos);
  EXPECT_EQ(envOf({{"CNI_COMMAND", "BOGUS"}}).error().code, kInvalidEnvironment);
  EXPECT_TRUE(envOf({{"CNI_COMMAND", "DEL"}, {"CNI_CONTAINERID", "c"}, {"CNI_IFNAME", "e"}}));
}

TEST(CniConfigTest, IpamConfigErrorsNameTheField) {
  auto bad = parseNetConfig(R"({"cniVersion":"1.0.0","type":"bridge","ipam":{"type":"netledger-cni",
      "server":"http://x","pools":"p"}})",
                            Command::kAdd);
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.error().code, kInvalidNetworkConfig);
  EXPECT_NE(bad.error().msg.find("ipam.pools"), std::string::npos);
  EXPECT_EQ(parseNetConfig("{not json", Command::kAdd).error().code, kDecodeFailure);
  EXPECT_EQ(parseNetConfig(R"({"cniVersion":"0.2.0"})", Command::kAdd).error().code,
            kIncompatibleVersion);
  auto range = parseNetConfig(R"({"cniVersion":"1.0.0","name":"n","type":"bridge","ipam":{
      "type":"netledger-cni","server":"http://x","subnet":"192.0.2.0/24",
      "rangeStart":"198.51.100.9"}})",
                              Command::kAdd);
  ASSERT_FALSE(range.isOk());
  EXPECT_NE(range.error().msg.find("ipam.rangeStart"), std::string::npos);
}

TEST(CniConfigTest, HostLocalRangesAndChainedMode) {
  auto conf = parseNetConfig(R"({"cniVersion":"0.4.0","name":"Pod Net","type":"bridge","ipam":{
      "type":"netledger-cni","server":"http://x","ranges":[[{"subnet":"192.0.2.0/24"}],
      [{"subnet":"2001:db8::/64","gateway":"2001:db8::1"}]]}})",
                             Command::kAdd);
  ASSERT_TRUE(conf.isOk()) << conf.error().msg;
  ASSERT_EQ(conf->ipam.range_sets.size(), 2u);
  EXPECT_EQ(hostLocalPoolName(conf->name, conf->ipam.range_sets[1][0].subnet),
            "pod-net-2001-db8---64");
  auto chained = parseNetConfig(
      R"({"cniVersion":"1.0.0","type":"netledger-cni","server":"http://x","prevResult":{}})",
      Command::kAdd);
  ASSERT_TRUE(chained.isOk()) << chained.error().msg;
  EXPECT_TRUE(chained->chained);
}

TEST(CniResultTest, ErrorAndVersionJson) {
  EXPECT_EQ(errorJson("0.4.0", {11, "away", ""}),
            R"({"cniVersion":"0.4.0","code":11,"msg":"away"})");
  EXPECT_EQ(versionJson("1.0.0"),
            R"({"cniVersion":"1.0.0","supportedVersions":["0.3.1","0.4.0","1.0.0"]})");
}

}  // namespace
}  // namespace netledger::cni
