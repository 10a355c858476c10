// Drives `netledger calc` in-process through runCli, as a user would type it.
#include <gtest/gtest.h>

#include <sstream>

#include <boost/json.hpp>

#include "cli/cli.h"
#include "cli/cli_run.h"

namespace netledger::cli {
namespace {

boost::json::object runJson(std::vector<std::string> args) {
  args.push_back("-o");
  args.push_back("json");
  CliRun r = run(args);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  return boost::json::parse(r.out).as_object();
}

TEST(CalcTest, PrefixIpv4) {
  auto o = runJson({"calc", "prefix", "198.51.100.0/24"});
  EXPECT_EQ(o["network"], "198.51.100.0");
  EXPECT_EQ(o["broadcast"], "198.51.100.255");
  EXPECT_EQ(o["netmask"], "255.255.255.0");
  EXPECT_EQ(o["first_usable"], "198.51.100.1");
  EXPECT_EQ(o["last_usable"], "198.51.100.254");
  EXPECT_EQ(o["usable"], "254");
}

TEST(CalcTest, PrefixIpv6) {
  auto o = runJson({"calc", "prefix", "2001:db8::/64"});
  EXPECT_EQ(o["network"], "2001:db8::");
  EXPECT_EQ(o["last"], "2001:db8::ffff:ffff:ffff:ffff");
  EXPECT_EQ(o["usable"], "18446744073709551616");
}

TEST(CalcTest, PrefixTableOutputIsAlignedRows) {
  CliRun r = run({"calc", "prefix", "192.0.2.0/31"});
  ASSERT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("usable         2\n"), std::string::npos) << r.out;
}

TEST(CalcTest, Mac) {
  auto o = runJson({"calc", "mac", "00-1A-2B-3C-4D-5E"});
  EXPECT_EQ(o["mac"], "00:1a:2b:3c:4d:5e");
  EXPECT_EQ(o["oui"], "00:1a:2b");
  EXPECT_EQ(o["cast"], "unicast");
  EXPECT_EQ(o["administration"], "universal");
  EXPECT_EQ(o["eui64_interface_id"], "021a:2bff:fe3c:4d5e");
}

// Vendors come from the installed ieee-data (scripts/install-deps installs it).
TEST(CalcTest, MacVendorAndVirtualPlatform) {
  auto vmware = runJson({"calc", "mac", "00:50:56:aa:bb:cc"});
  EXPECT_EQ(vmware["vendor"], "VMware, Inc.");
  EXPECT_EQ(vmware["registry"], "MA-L");
  EXPECT_EQ(vmware["virtual_platform"], "VMware");
  EXPECT_EQ(vmware["locally_administered"], false);

  auto qemu = runJson({"calc", "mac", "52:54:00:12:34:56"});
  EXPECT_TRUE(qemu["vendor"].is_null());
  EXPECT_TRUE(qemu["registry"].is_null());
  EXPECT_EQ(qemu["virtual_platform"], "QEMU/KVM");
  EXPECT_EQ(qemu["locally_administered"], true);
  EXPECT_EQ(qemu["administration"], "local");

  auto mas = runJson({"calc", "mac", "70:b3:d5:f2:f0:01"});
  EXPECT_EQ(mas["vendor"], "TELEPLATFORMS");
  EXPECT_EQ(mas["registry"], "MA-S");
  EXPECT_TRUE(mas["virtual_platform"].is_null());

  CliRun table = run({"calc", "mac", "00:16:3e:00:00:01"});
  ASSERT_EQ(table.code, kExitOk) << table.err;
  EXPECT_NE(table.out.find("vendor                Xensource, Inc.\n"), std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("virtual_platform      Xen\n"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("locally_administered  no\n"), std::string::npos) << table.out;
}

TEST(CalcTest, Eui64) {
  auto o = runJson({"calc", "eui64", "00:1a:2b:3c:4d:5e", "--prefix", "2001:db8::/64"});
  EXPECT_EQ(o["address"], "2001:db8::21a:2bff:fe3c:4d5e");
}

TEST(CalcTest, OverlapSplitSummarize) {
  EXPECT_EQ(runJson({"calc", "overlap", "10.0.0.0/8", "10.1.0.0/16"})["overlap"], true);
  EXPECT_EQ(runJson({"calc", "overlap", "10.0.0.0/16", "10.1.0.0/16"})["overlap"], false);

  CliRun split = run({"calc", "split", "10.0.0.0/16", "--into", "18", "-o", "json"});
  ASSERT_EQ(split.code, kExitOk);
  EXPECT_EQ(
      boost::json::parse(split.out),
      boost::json::parse(R"(["10.0.0.0/18","10.0.64.0/18","10.0.128.0/18","10.0.192.0/18"])"));

  CliRun sum = run({"calc", "summarize", "198.51.100.3", "198.51.100.77"});
  ASSERT_EQ(sum.code, kExitOk);
  EXPECT_EQ(sum.out,
            "198.51.100.3/32\n198.51.100.4/30\n198.51.100.8/29\n198.51.100.16/28\n"
            "198.51.100.32/27\n198.51.100.64/29\n198.51.100.72/30\n198.51.100.76/31\n");
}

TEST(CalcTest, BadInputIsExitTwoWithAMessageOnStderr) {
  struct Case {
    std::vector<std::string> args;
    std::string fragment;
  };
  std::vector<Case> cases = {
      {{"calc", "prefix", "198.51.100.0/33"}, "out of range"},
      {{"calc", "split", "198.51.100.7/24", "--into", "26"}, "did you mean 198.51.100.0/24?"},
      {{"calc", "mac", "00:1a:2b:3c:4d"}, "wrong length"},
      {{"calc", "eui64", "00:1a:2b:3c:4d:5e", "--prefix", "2001:db8::/48"}, "/64"},
      {{"calc", "summarize", "10.0.0.9", "10.0.0.1"}, "after"},
      {{"calc", "split", "10.0.0.0/8", "--into", "32"}, "limit"},
      {{"calc", "nonsense"}, ""},
      {{"calc", "prefix"}, "prefix is required"},
      {{"-o", "yaml", "calc", "prefix", "10.0.0.0/8"}, "yaml"},
  };
  for (const auto& c : cases) {
    CliRun r = run(c.args);
    EXPECT_EQ(r.code, kExitUsage) << c.args.back();
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_NE(r.err.find(c.fragment), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace netledger::cli
