#include "addr/ip_address.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "addr/addr_test_util.h"
#include "addr/uint128.h"
#include "common/status.h"

namespace netledger::addr {
namespace {

using ::testing::HasSubstr;

using testing_util::ip;

TEST(IpAddressTest, DetectsFamilyFromText) {
  IpAddress v4 = ip("198.51.100.7");
  EXPECT_EQ(v4.family(), IpFamily::kV4);
  EXPECT_TRUE(v4.isV4());
  EXPECT_FALSE(v4.isV6());
  EXPECT_EQ(v4.width(), 32);
  EXPECT_TRUE(v4.bits() == 0xc6336407u);
  EXPECT_EQ(v4.v4().value(), 0xc6336407u);
  EXPECT_EQ(v4.toString(), "198.51.100.7");

  IpAddress v6 = ip("2001:db8::1");
  EXPECT_EQ(v6.family(), IpFamily::kV6);
  EXPECT_TRUE(v6.isV6());
  EXPECT_FALSE(v6.isV4());
  EXPECT_EQ(v6.width(), 128);
  EXPECT_TRUE(v6.bits() == ((static_cast<uint128>(0x20010db8u) << 96) | 1));
  EXPECT_EQ(v6.toString(), "2001:db8::1");

  // An IPv4-mapped IPv6 address stays IPv6.
  IpAddress mapped = ip("::ffff:192.0.2.1");
  EXPECT_TRUE(mapped.isV6());
  EXPECT_EQ(mapped.toString(), "::ffff:192.0.2.1");
  EXPECT_NE(mapped, ip("192.0.2.1"));
}

TEST(IpAddressTest, FamilyHelpers) {
  EXPECT_EQ(familyWidth(IpFamily::kV4), 32);
  EXPECT_EQ(familyWidth(IpFamily::kV6), 128);
  EXPECT_EQ(familyName(IpFamily::kV4), "IPv4");
  EXPECT_EQ(familyName(IpFamily::kV6), "IPv6");
}

TEST(IpAddressTest, DefaultIsIpv4Zero) {
  IpAddress a;
  EXPECT_TRUE(a.isV4());
  EXPECT_TRUE(a.bits() == 0);
  EXPECT_EQ(a.toString(), "0.0.0.0");
}

TEST(IpAddressTest, FromBitsMasksIpv4ToThirtyTwoBits) {
  IpAddress a = IpAddress::fromBits(IpFamily::kV4, (static_cast<uint128>(1) << 40) | 0x0a000001u);
  EXPECT_TRUE(a.bits() == 0x0a000001u);
  EXPECT_EQ(a.toString(), "10.0.0.1");
  IpAddress b = IpAddress::fromBits(IpFamily::kV6, kUint128Max);
  EXPECT_EQ(b.toString(), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

TEST(IpAddressTest, ParseErrorsNameTheFamilyTried) {
  auto v4 = IpAddress::parse("300.1.1.1");
  ASSERT_FALSE(v4.isOk());
  EXPECT_EQ(v4.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(v4.status().message(), HasSubstr("invalid IPv4 address \"300.1.1.1\""));

  auto v6 = IpAddress::parse("2001:db8::g");
  ASSERT_FALSE(v6.isOk());
  EXPECT_EQ(v6.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(v6.status().message(), HasSubstr("invalid IPv6 address \"2001:db8::g\""));

  auto empty = IpAddress::parse("");
  ASSERT_FALSE(empty.isOk());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);

  auto host = IpAddress::parse("example.com");
  ASSERT_FALSE(host.isOk());
  EXPECT_EQ(host.status().code(), StatusCode::kInvalidArgument);
}

TEST(IpAddressTest, Ipv4OrdersBeforeIpv6) {
  EXPECT_LT(ip("255.255.255.255"), ip("::"));
  EXPECT_GT(ip("::"), ip("255.255.255.255"));
  EXPECT_LT(ip("10.0.0.1"), ip("10.0.0.2"));
  EXPECT_LT(ip("9.255.255.255"), ip("10.0.0.0"));
  EXPECT_LT(ip("2001:db8::1"), ip("2001:db8::2"));
  EXPECT_LT(ip("::ffff:255.255.255.255"), ip("::1:0:0:0"));
  // Same bits, different family: not equal, and IPv4 first.
  IpAddress v4 = IpAddress::fromBits(IpFamily::kV4, 1);
  IpAddress v6 = IpAddress::fromBits(IpFamily::kV6, 1);
  EXPECT_NE(v4, v6);
  EXPECT_LT(v4, v6);

  std::vector<IpAddress> v = {ip("2001:db8::"), ip("10.0.0.2"), ip("::"),
                              ip("0.0.0.0"),    ip("10.0.0.1"), ip("::1")};
  std::sort(v.begin(), v.end());
  std::vector<std::string> texts;
  for (const auto& a : v) texts.push_back(a.toString());
  EXPECT_EQ(texts, (std::vector<std::string>{"0.0.0.0", "10.0.0.1", "10.0.0.2", "::", "::1",
                                             "2001:db8::"}));
}

TEST(IpAddressTest, NextAndPrev) {
  EXPECT_EQ(ip("10.0.0.1").next(), ip("10.0.0.2"));
  EXPECT_EQ(ip("10.0.0.255").next(), ip("10.0.1.0"));
  EXPECT_EQ(ip("10.0.1.0").prev(), ip("10.0.0.255"));
  EXPECT_EQ(ip("0.0.0.1").prev(), ip("0.0.0.0"));
  EXPECT_EQ(ip("255.255.255.254").next(), ip("255.255.255.255"));
  EXPECT_EQ(ip("2001:db8::ffff").next(), ip("2001:db8::1:0"));
  EXPECT_EQ(ip("2001:db8::1:0").prev(), ip("2001:db8::ffff"));
  EXPECT_EQ(ip("::").next(), ip("::1"));
  // The carry crosses the 64-bit halves.
  EXPECT_EQ(ip("::ffff:ffff:ffff:ffff").next(), ip("0:0:0:1::"));
  EXPECT_EQ(ip("0:0:0:1::").prev(), ip("::ffff:ffff:ffff:ffff"));
  // Next keeps the family.
  auto n = ip("10.0.0.1").next();
  ASSERT_TRUE(n.has_value());
  EXPECT_TRUE(n->isV4());
}

TEST(IpAddressTest, NextAndPrevStopAtTheEdgesOfTheSpace) {
  EXPECT_EQ(ip("255.255.255.255").next(), std::nullopt);
  EXPECT_EQ(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").next(), std::nullopt);
  EXPECT_EQ(ip("0.0.0.0").prev(), std::nullopt);
  EXPECT_EQ(ip("::").prev(), std::nullopt);
  EXPECT_EQ(ip("255.255.255.255").prev(), ip("255.255.255.254"));
  EXPECT_EQ(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").prev(),
            ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"));
  // The IPv4 space does not run on into IPv6 (or into bit 32).
  EXPECT_EQ(IpAddress::fromBits(IpFamily::kV4, 0xffffffffu).next(), std::nullopt);
}

TEST(IpAddressTest, Plus) {
  EXPECT_EQ(ip("10.0.0.0").plus(0), ip("10.0.0.0"));
  EXPECT_EQ(ip("10.0.0.0").plus(256), ip("10.0.1.0"));
  EXPECT_EQ(ip("0.0.0.0").plus(0xffffffffu), ip("255.255.255.255"));
  EXPECT_EQ(ip("0.0.0.1").plus(0xffffffffu), std::nullopt);
  EXPECT_EQ(ip("255.255.255.0").plus(255), ip("255.255.255.255"));
  EXPECT_EQ(ip("255.255.255.0").plus(256), std::nullopt);
  // An offset beyond 32 bits must not wrap around into the IPv4 space.
  EXPECT_EQ(ip("0.0.0.0").plus(static_cast<uint128>(1) << 32), std::nullopt);
  EXPECT_EQ(ip("10.0.0.0").plus((static_cast<uint128>(1) << 32) + 1), std::nullopt);

  EXPECT_EQ(ip("2001:db8::").plus(static_cast<uint128>(1) << 64), ip("2001:db8:0:1::"));
  EXPECT_EQ(ip("::").plus(kUint128Max), ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
  EXPECT_EQ(ip("::1").plus(kUint128Max), std::nullopt);
  EXPECT_EQ(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").plus(1), std::nullopt);
  EXPECT_EQ(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").plus(0),
            ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
}

TEST(IpAddressTest, HashDistinguishesFamilies) {
  std::unordered_set<IpAddress, IpAddressHash> set;
  set.insert(IpAddress::fromBits(IpFamily::kV4, 1));
  set.insert(IpAddress::fromBits(IpFamily::kV6, 1));
  set.insert(ip("0.0.0.1"));
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(set.count(ip("::1")), 1u);
  EXPECT_EQ(set.count(ip("::2")), 0u);
}

}  // namespace
}  // namespace netledger::addr
