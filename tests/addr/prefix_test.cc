#include "addr/prefix.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "addr/addr_test_util.h"
#include "addr/ip_address.h"
#include "addr/uint128.h"
#include "common/status.h"

namespace netledger::addr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using testing_util::cidr;
using testing_util::expectFragmentAndPosition;
using testing_util::ip;
using testing_util::Rejection;
using testing_util::texts;

constexpr uint128 kTwoTo64 = static_cast<uint128>(1) << 64;

// ---------------------------------------------------------------------------------------------
// Parsing

TEST(PrefixTest, ParsesNetworkForm) {
  Prefix p = cidr("198.51.100.0/24");
  EXPECT_EQ(p.network(), ip("198.51.100.0"));
  EXPECT_EQ(p.length(), 24);
  EXPECT_EQ(p.family(), IpFamily::kV4);
  EXPECT_EQ(p.hostBits(), 8);
  EXPECT_EQ(p.toString(), "198.51.100.0/24");

  Prefix q = cidr("2001:db8::/32");
  EXPECT_EQ(q.network(), ip("2001:db8::"));
  EXPECT_EQ(q.length(), 32);
  EXPECT_EQ(q.family(), IpFamily::kV6);
  EXPECT_EQ(q.hostBits(), 96);
  EXPECT_EQ(q.toString(), "2001:db8::/32");

  EXPECT_EQ(cidr("0.0.0.0/0").toString(), "0.0.0.0/0");
  EXPECT_EQ(cidr("::/0").toString(), "::/0");
  EXPECT_EQ(cidr("10.0.0.1/32").toString(), "10.0.0.1/32");
  EXPECT_EQ(cidr("2001:db8::1/128").toString(), "2001:db8::1/128");
  // Non-canonical IPv6 input is printed canonically.
  EXPECT_EQ(cidr("2001:0DB8:0000::/48").toString(), "2001:db8::/48");
}

TEST(PrefixTest, DefaultIsIpv4Everything) {
  Prefix p;
  EXPECT_EQ(p.toString(), "0.0.0.0/0");
  EXPECT_EQ(p.family(), IpFamily::kV4);
}

TEST(PrefixTest, StrictParseRejectsHostBitsWithHint) {
  auto r = Prefix::parse("198.51.100.7/24");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("host bits set; did you mean 198.51.100.0/24?"));
  EXPECT_THAT(r.status().message(), HasSubstr("\"198.51.100.7/24\""));

  auto v6 = Prefix::parse("2001:db8::1/32");
  ASSERT_FALSE(v6.isOk());
  EXPECT_EQ(v6.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(v6.status().message(), HasSubstr("host bits set; did you mean 2001:db8::/32?"));

  auto zero = Prefix::parse("10.0.0.1/0");
  ASSERT_FALSE(zero.isOk());
  EXPECT_THAT(zero.status().message(), HasSubstr("did you mean 0.0.0.0/0?"));
}

TEST(PrefixTest, LooseParseClearsHostBits) {
  auto r = Prefix::parseLoose("198.51.100.7/24");
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_EQ(r->toString(), "198.51.100.0/24");
  EXPECT_EQ(r->network(), ip("198.51.100.0"));

  auto v6 = Prefix::parseLoose("2001:db8::21a:2bff:fe3c:4d5e/64");
  ASSERT_TRUE(v6.isOk()) << v6.status().message();
  EXPECT_EQ(v6->toString(), "2001:db8::/64");

  auto exact = Prefix::parseLoose("10.0.0.0/8");
  ASSERT_TRUE(exact.isOk());
  EXPECT_EQ(exact->toString(), "10.0.0.0/8");

  // Loose is only loose about host bits.
  EXPECT_FALSE(Prefix::parseLoose("10.0.0.0/33").isOk());
  EXPECT_FALSE(Prefix::parseLoose("10.0.0.0").isOk());
  EXPECT_FALSE(Prefix::parseLoose("10.0.0.0/024").isOk());
  EXPECT_FALSE(Prefix::parseLoose("10.0.0.256/8").isOk());
}

class PrefixRejectionTest : public ::testing::TestWithParam<Rejection> {};

TEST_P(PrefixRejectionTest, RejectsWithInvalidArgument) {
  const Rejection& c = GetParam();
  for (bool strict : {true, false}) {
    SCOPED_TRACE(strict ? "parse" : "parseLoose");
    auto r = strict ? Prefix::parse(c.text) : Prefix::parseLoose(c.text);
    ASSERT_FALSE(r.isOk()) << "accepted \"" << c.text << "\"";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    expectFragmentAndPosition(r.status().message(), c);
  }
}

INSTANTIATE_TEST_SUITE_P(
    BadInputs, PrefixRejectionTest,
    ::testing::Values(
        Rejection{"10.0.0.0/33", "length 33 is out of range 0..32 for IPv4", 9},
        Rejection{"2001:db8::/129", "length 129 is out of range 0..128 for IPv6", 11},
        Rejection{"10.0.0.0/-1", "out of range", 9}, Rejection{"10.0.0.0", "missing '/length'", -1},
        Rejection{"2001:db8::", "missing '/length'", -1}, Rejection{"", "missing '/length'", -1},
        Rejection{"10.0.0.0/024", "length must be a decimal number", 9},
        Rejection{"10.0.0.0/00", "length must be a decimal number", 9},
        Rejection{"10.0.0.0/", "length must be a decimal number", 9},
        Rejection{"10.0.0.0/abc", "length must be a decimal number", 9},
        Rejection{"10.0.0.0/24 ", "length must be a decimal number", 9},
        Rejection{"10.0.0.0/ 24", "length must be a decimal number", 9},
        Rejection{"10.0.0.0/+24", "length must be a decimal number", 9},
        Rejection{"10.0.0.0/24/24", "length must be a decimal number", 9},
        Rejection{"10.0.0.0/99999999999999999999", "length must be a decimal number", 9},
        Rejection{"2001:db8::/0x20", "length must be a decimal number", 11},
        Rejection{"10.0.0.256/24", "prefix address: invalid IPv4 address \"10.0.0.256\"", -1},
        Rejection{"/24", "prefix address: invalid IPv4 address \"\": empty", -1},
        Rejection{"2001:db8:::/48", "prefix address: invalid IPv6 address", -1}));

// ---------------------------------------------------------------------------------------------
// Addresses and counts

TEST(PrefixTest, Ipv4Slash24) {
  Prefix p = cidr("198.51.100.0/24");
  EXPECT_EQ(p.first(), ip("198.51.100.0"));
  EXPECT_EQ(p.last(), ip("198.51.100.255"));  // the broadcast address
  EXPECT_EQ(p.netmask(), ip("255.255.255.0"));
  EXPECT_TRUE(p.hasNetworkAndBroadcast());
  EXPECT_EQ(p.firstUsable(), ip("198.51.100.1"));
  EXPECT_EQ(p.lastUsable(), ip("198.51.100.254"));
  EXPECT_EQ(p.size().toString(), "256");
  EXPECT_EQ(p.usableCount().toString(), "254");
  EXPECT_TRUE(p.usableCount() == AddressCount(254));
}

TEST(PrefixTest, NetmasksForOddLengths) {
  EXPECT_EQ(cidr("10.0.0.0/8").netmask(), ip("255.0.0.0"));
  EXPECT_EQ(cidr("172.16.0.0/12").netmask(), ip("255.240.0.0"));
  EXPECT_EQ(cidr("192.168.0.0/23").netmask(), ip("255.255.254.0"));
  EXPECT_EQ(cidr("192.0.2.0/27").netmask(), ip("255.255.255.224"));
  EXPECT_EQ(cidr("10.0.0.1/32").netmask(), ip("255.255.255.255"));
  EXPECT_EQ(cidr("0.0.0.0/0").netmask(), ip("0.0.0.0"));
  EXPECT_EQ(cidr("2001:db8::/64").netmask(), ip("ffff:ffff:ffff:ffff::"));
  EXPECT_EQ(cidr("2001:db8::/33").netmask(), ip("ffff:ffff:8000::"));
  EXPECT_EQ(cidr("::/0").netmask(), ip("::"));
  EXPECT_EQ(cidr("::1/128").netmask(), ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
  EXPECT_EQ(cidr("172.16.0.0/12").last(), ip("172.31.255.255"));
  EXPECT_EQ(cidr("192.0.2.64/27").last(), ip("192.0.2.95"));
}

TEST(PrefixTest, Ipv4Slash31HasTwoUsableAddressesPerRfc3021) {
  Prefix p = cidr("198.51.100.6/31");
  EXPECT_FALSE(p.hasNetworkAndBroadcast());
  EXPECT_EQ(p.firstUsable(), ip("198.51.100.6"));
  EXPECT_EQ(p.lastUsable(), ip("198.51.100.7"));
  EXPECT_EQ(p.usableCount().toString(), "2");
  EXPECT_EQ(p.size().toString(), "2");
  EXPECT_EQ(p.netmask(), ip("255.255.255.254"));
}

TEST(PrefixTest, Ipv4Slash32IsOneHost) {
  Prefix p = cidr("198.51.100.7/32");
  EXPECT_FALSE(p.hasNetworkAndBroadcast());
  EXPECT_EQ(p.first(), ip("198.51.100.7"));
  EXPECT_EQ(p.last(), ip("198.51.100.7"));
  EXPECT_EQ(p.firstUsable(), ip("198.51.100.7"));
  EXPECT_EQ(p.lastUsable(), ip("198.51.100.7"));
  EXPECT_EQ(p.usableCount().toString(), "1");
  EXPECT_EQ(p.size().toString(), "1");
}

TEST(PrefixTest, Ipv4Slash30AndSlashZero) {
  Prefix p30 = cidr("192.0.2.4/30");
  EXPECT_EQ(p30.usableCount().toString(), "2");
  EXPECT_EQ(p30.firstUsable(), ip("192.0.2.5"));
  EXPECT_EQ(p30.lastUsable(), ip("192.0.2.6"));

  Prefix all = cidr("0.0.0.0/0");
  EXPECT_EQ(all.size().toString(), "4294967296");
  EXPECT_EQ(all.usableCount().toString(), "4294967294");
  EXPECT_EQ(all.last(), ip("255.255.255.255"));
  EXPECT_EQ(all.lastUsable(), ip("255.255.255.254"));
}

TEST(PrefixTest, Ipv6Slash64HasTwoToThe64UsableAddresses) {
  Prefix p = cidr("2001:db8::/64");
  EXPECT_FALSE(p.hasNetworkAndBroadcast());
  EXPECT_EQ(p.first(), ip("2001:db8::"));
  EXPECT_EQ(p.last(), ip("2001:db8::ffff:ffff:ffff:ffff"));
  EXPECT_EQ(p.firstUsable(), ip("2001:db8::"));
  EXPECT_EQ(p.lastUsable(), ip("2001:db8::ffff:ffff:ffff:ffff"));
  EXPECT_EQ(p.size().toString(), "18446744073709551616");
  EXPECT_EQ(p.usableCount().toString(), "18446744073709551616");
  EXPECT_TRUE(p.usableCount() == AddressCount(kTwoTo64));
  EXPECT_FALSE(p.size().isTwoTo128());
}

TEST(PrefixTest, SizeOfWholeIpv6SpaceIsExactlyTwoTo128) {
  Prefix p = cidr("::/0");
  AddressCount n = p.size();
  EXPECT_TRUE(n.isTwoTo128());
  EXPECT_EQ(n.toString(), "340282366920938463463374607431768211456");
  EXPECT_TRUE(n.saturated() == kUint128Max);
  EXPECT_EQ(n.toDouble(), 340282366920938463463374607431768211456.0);
  EXPECT_TRUE(n > AddressCount(kUint128Max));
  EXPECT_FALSE(n == AddressCount(0));  // must not wrap to 0
  EXPECT_TRUE(p.usableCount().isTwoTo128());
  EXPECT_EQ(p.last(), ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));

  AddressCount half = cidr("8000::/1").size();
  EXPECT_FALSE(half.isTwoTo128());
  EXPECT_EQ(half.toString(), "170141183460469231731687303715884105728");
  EXPECT_TRUE(half < n);
}

TEST(PrefixTest, AddressCountBasics) {
  EXPECT_EQ(AddressCount().toString(), "0");
  EXPECT_EQ(AddressCount::twoToThe(0).toString(), "1");
  EXPECT_EQ(AddressCount::twoToThe(32).toString(), "4294967296");
  EXPECT_EQ(AddressCount(kUint128Max).toString(), "340282366920938463463374607431768211455");
  EXPECT_FALSE(AddressCount(kUint128Max).isTwoTo128());
  EXPECT_TRUE(AddressCount::twoToThe(128) == AddressCount::twoToThe(128));
  EXPECT_TRUE(AddressCount(3) < AddressCount(4));
  EXPECT_EQ(toDecimal(0), "0");
  EXPECT_EQ(toDecimal(kTwoTo64), "18446744073709551616");
}

TEST(PrefixTest, HostMask) {
  EXPECT_TRUE(hostMask(IpFamily::kV4, 24) == 0xffu);
  EXPECT_TRUE(hostMask(IpFamily::kV4, 32) == 0);
  EXPECT_TRUE(hostMask(IpFamily::kV4, 0) == 0xffffffffu);
  EXPECT_TRUE(hostMask(IpFamily::kV6, 64) == kTwoTo64 - 1);
  EXPECT_TRUE(hostMask(IpFamily::kV6, 128) == 0);
  EXPECT_TRUE(hostMask(IpFamily::kV6, 0) == kUint128Max);
}

TEST(PrefixTest, ContainingClearsHostBits) {
  EXPECT_EQ(Prefix::containing(ip("198.51.100.7"), 24), cidr("198.51.100.0/24"));
  EXPECT_EQ(Prefix::containing(ip("198.51.100.7"), 32), cidr("198.51.100.7/32"));
  EXPECT_EQ(Prefix::containing(ip("198.51.100.7"), 0), cidr("0.0.0.0/0"));
  EXPECT_EQ(Prefix::containing(ip("2001:db8::ff"), 120), cidr("2001:db8::/120"));
  EXPECT_EQ(Prefix::containing(ip("ffff::1"), 0), cidr("::/0"));
}

// ---------------------------------------------------------------------------------------------
// Relations

TEST(PrefixTest, ContainsAddresses) {
  Prefix p = cidr("10.0.0.0/8");
  EXPECT_TRUE(p.contains(ip("10.0.0.0")));
  EXPECT_TRUE(p.contains(ip("10.255.255.255")));
  EXPECT_FALSE(p.contains(ip("11.0.0.0")));
  EXPECT_FALSE(p.contains(ip("9.255.255.255")));
  Prefix q = cidr("2001:db8::/32");
  EXPECT_TRUE(q.contains(ip("2001:db8:ffff::1")));
  EXPECT_FALSE(q.contains(ip("2001:db9::")));
  EXPECT_TRUE(cidr("0.0.0.0/0").contains(ip("255.255.255.255")));
  EXPECT_TRUE(cidr("192.0.2.1/32").contains(ip("192.0.2.1")));
  EXPECT_FALSE(cidr("192.0.2.1/32").contains(ip("192.0.2.0")));
}

TEST(PrefixTest, ContainsAndOverlapsPrefixes) {
  Prefix a = cidr("10.0.0.0/8"), b = cidr("10.1.0.0/16"), c = cidr("10.2.0.0/16");
  EXPECT_TRUE(a.contains(b));
  EXPECT_FALSE(b.contains(a));
  EXPECT_TRUE(a.contains(a));
  EXPECT_TRUE(a.overlaps(b));
  EXPECT_TRUE(b.overlaps(a));
  EXPECT_TRUE(b.overlaps(b));
  EXPECT_FALSE(b.overlaps(c));
  EXPECT_FALSE(c.overlaps(b));
  EXPECT_FALSE(b.contains(c));
  // Adjacent prefixes do not overlap.
  EXPECT_FALSE(cidr("192.0.2.0/25").overlaps(cidr("192.0.2.128/25")));
  EXPECT_TRUE(cidr("192.0.2.0/24").overlaps(cidr("192.0.2.128/25")));
  EXPECT_TRUE(cidr("2001:db8::/32").contains(cidr("2001:db8:1::/48")));
  EXPECT_FALSE(cidr("2001:db8:1::/48").contains(cidr("2001:db8::/32")));
  EXPECT_TRUE(cidr("::/0").contains(cidr("2001:db8::/32")));
}

TEST(PrefixTest, NeverContainsOrOverlapsAcrossFamilies) {
  Prefix all4 = cidr("0.0.0.0/0"), all6 = cidr("::/0");
  EXPECT_FALSE(all4.contains(ip("::")));
  EXPECT_FALSE(all4.contains(ip("::1")));
  EXPECT_FALSE(all6.contains(ip("0.0.0.0")));
  EXPECT_FALSE(all6.contains(ip("192.0.2.1")));
  EXPECT_FALSE(all4.contains(all6));
  EXPECT_FALSE(all6.contains(all4));
  EXPECT_FALSE(all4.overlaps(all6));
  EXPECT_FALSE(all6.overlaps(all4));
  // Same bits in the other family.
  EXPECT_FALSE(cidr("10.0.0.0/8").contains(IpAddress::fromBits(IpFamily::kV6, 0x0a000001u)));
  EXPECT_FALSE(cidr("::/96").contains(ip("10.0.0.1")));
  EXPECT_FALSE(cidr("::/96").overlaps(cidr("10.0.0.0/8")));
  EXPECT_FALSE(cidr("::ffff:0:0/96").contains(ip("192.0.2.1")));
  EXPECT_FALSE(cidr("192.0.2.0/24").overlaps(cidr("::ffff:192.0.2.0/120")));
}

TEST(PrefixTest, OrderingByNetworkThenLength) {
  EXPECT_LT(cidr("10.0.0.0/8"), cidr("10.0.0.0/16"));
  EXPECT_LT(cidr("10.0.0.0/16"), cidr("10.1.0.0/16"));
  EXPECT_LT(cidr("255.255.255.255/32"), cidr("::/0"));
  EXPECT_EQ(cidr("10.0.0.0/8"), Prefix::parseLoose("10.1.2.3/8").value());
  EXPECT_NE(cidr("10.0.0.0/8"), cidr("10.0.0.0/9"));
}

// ---------------------------------------------------------------------------------------------
// split

TEST(PrefixTest, SplitIntoQuarters) {
  auto r = cidr("10.0.0.0/16").split(18);
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_THAT(texts(*r),
              ElementsAre("10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18", "10.0.192.0/18"));

  auto v6 = cidr("2001:db8::/32").split(34);
  ASSERT_TRUE(v6.isOk()) << v6.status().message();
  EXPECT_THAT(texts(*v6), ElementsAre("2001:db8::/34", "2001:db8:4000::/34", "2001:db8:8000::/34",
                                      "2001:db8:c000::/34"));

  auto halves = cidr("::/0").split(1);
  ASSERT_TRUE(halves.isOk());
  EXPECT_THAT(texts(*halves), ElementsAre("::/1", "8000::/1"));

  auto hosts = cidr("192.0.2.252/30").split(32);
  ASSERT_TRUE(hosts.isOk());
  EXPECT_THAT(texts(*hosts),
              ElementsAre("192.0.2.252/32", "192.0.2.253/32", "192.0.2.254/32", "192.0.2.255/32"));

  auto ipv6_hosts = cidr("2001:db8::fffe/127").split(128);
  ASSERT_TRUE(ipv6_hosts.isOk());
  EXPECT_THAT(texts(*ipv6_hosts), ElementsAre("2001:db8::fffe/128", "2001:db8::ffff/128"));
}

TEST(PrefixTest, SplitIntoSameLengthGivesItself) {
  for (const char* text : {"10.0.0.0/16", "0.0.0.0/0", "::/0", "2001:db8::1/128"}) {
    SCOPED_TRACE(text);
    auto r = cidr(text).split(cidr(text).length());
    ASSERT_TRUE(r.isOk()) << r.status().message();
    EXPECT_THAT(texts(*r), ElementsAre(text));
  }
}

TEST(PrefixTest, SplitRefusesShorterAndTooLongLengths) {
  auto shorter = cidr("10.0.0.0/16").split(15);
  ASSERT_FALSE(shorter.isOk());
  EXPECT_EQ(shorter.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(shorter.status().message(), HasSubstr("cannot split 10.0.0.0/16 into /15"));
  EXPECT_THAT(shorter.status().message(), HasSubstr("16..32"));

  auto too_long = cidr("10.0.0.0/16").split(33);
  ASSERT_FALSE(too_long.isOk());
  EXPECT_EQ(too_long.status().code(), StatusCode::kInvalidArgument);

  auto too_long6 = cidr("2001:db8::/64").split(129);
  ASSERT_FALSE(too_long6.isOk());
  EXPECT_THAT(too_long6.status().message(), HasSubstr("64..128"));

  EXPECT_FALSE(cidr("10.0.0.0/16").split(-1).isOk());
}

TEST(PrefixTest, SplitRefusesMoreThanMaxCount) {
  auto r = cidr("10.0.0.0/8").split(32);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("2^24 prefixes"));
  EXPECT_THAT(r.status().message(), HasSubstr("limit of 65536"));

  // Exactly at the default limit is allowed.
  auto at_limit = cidr("10.0.0.0/8").split(24);
  ASSERT_TRUE(at_limit.isOk()) << at_limit.status().message();
  ASSERT_EQ(at_limit->size(), 65536u);
  EXPECT_EQ(at_limit->front().toString(), "10.0.0.0/24");
  EXPECT_EQ((*at_limit)[1].toString(), "10.0.1.0/24");
  EXPECT_EQ((*at_limit)[256].toString(), "10.1.0.0/24");
  EXPECT_EQ(at_limit->back().toString(), "10.255.255.0/24");

  // An explicit max_count.
  auto three = cidr("10.0.0.0/16").split(18, 3);
  ASSERT_FALSE(three.isOk());
  EXPECT_THAT(three.status().message(), HasSubstr("limit of 3"));
  EXPECT_TRUE(cidr("10.0.0.0/16").split(18, 4).isOk());

  // Astronomically many: refused, not attempted.
  auto huge = cidr("::/0").split(128, SIZE_MAX);
  ASSERT_FALSE(huge.isOk());
  EXPECT_THAT(huge.status().message(), HasSubstr("2^128"));
  EXPECT_FALSE(cidr("2001:db8::/64").split(128).isOk());
}

// ---------------------------------------------------------------------------------------------
// summarizeRange

TEST(SummarizeRangeTest, DocumentationRange) {
  auto r = summarizeRange(ip("198.51.100.3"), ip("198.51.100.77"));
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_THAT(texts(*r), ElementsAre("198.51.100.3/32", "198.51.100.4/30", "198.51.100.8/29",
                                     "198.51.100.16/28", "198.51.100.32/27", "198.51.100.64/29",
                                     "198.51.100.72/30", "198.51.100.76/31"));
}

TEST(SummarizeRangeTest, AlignedBlocksAndSingleAddresses) {
  auto one = summarizeRange(ip("192.0.2.1"), ip("192.0.2.1"));
  ASSERT_TRUE(one.isOk());
  EXPECT_THAT(texts(*one), ElementsAre("192.0.2.1/32"));

  auto block = summarizeRange(ip("10.0.0.0"), ip("10.0.1.255"));
  ASSERT_TRUE(block.isOk());
  EXPECT_THAT(texts(*block), ElementsAre("10.0.0.0/23"));

  auto v6 = summarizeRange(ip("2001:db8::"), ip("2001:db8::ffff:ffff:ffff:ffff"));
  ASSERT_TRUE(v6.isOk());
  EXPECT_THAT(texts(*v6), ElementsAre("2001:db8::/64"));

  auto v6pair = summarizeRange(ip("2001:db8::1"), ip("2001:db8::2"));
  ASSERT_TRUE(v6pair.isOk());
  EXPECT_THAT(texts(*v6pair), ElementsAre("2001:db8::1/128", "2001:db8::2/128"));

  auto top = summarizeRange(ip("255.255.255.255"), ip("255.255.255.255"));
  ASSERT_TRUE(top.isOk());
  EXPECT_THAT(texts(*top), ElementsAre("255.255.255.255/32"));
}

TEST(SummarizeRangeTest, WholeSpaces) {
  auto v4 = summarizeRange(ip("0.0.0.0"), ip("255.255.255.255"));
  ASSERT_TRUE(v4.isOk()) << v4.status().message();
  EXPECT_THAT(texts(*v4), ElementsAre("0.0.0.0/0"));

  auto v6 = summarizeRange(ip("::"), ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
  ASSERT_TRUE(v6.isOk()) << v6.status().message();
  EXPECT_THAT(texts(*v6), ElementsAre("::/0"));
}

TEST(SummarizeRangeTest, WorstCases) {
  // Everything but 0.0.0.0: one prefix per bit length.
  auto v4 = summarizeRange(ip("0.0.0.1"), ip("255.255.255.255"));
  ASSERT_TRUE(v4.isOk());
  ASSERT_EQ(v4->size(), 32u);
  EXPECT_EQ(v4->front().toString(), "0.0.0.1/32");
  EXPECT_EQ((*v4)[1].toString(), "0.0.0.2/31");
  EXPECT_EQ(v4->back().toString(), "128.0.0.0/1");

  // Everything but the two ends: 2 * (width - 1) prefixes.
  auto v4inner = summarizeRange(ip("0.0.0.1"), ip("255.255.255.254"));
  ASSERT_TRUE(v4inner.isOk());
  EXPECT_EQ(v4inner->size(), 62u);
  EXPECT_EQ(v4inner->front().toString(), "0.0.0.1/32");
  EXPECT_EQ((*v4inner)[30].toString(), "64.0.0.0/2");
  EXPECT_EQ((*v4inner)[31].toString(), "128.0.0.0/2");
  EXPECT_EQ(v4inner->back().toString(), "255.255.255.254/32");

  auto v6inner = summarizeRange(ip("::1"), ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"));
  ASSERT_TRUE(v6inner.isOk());
  EXPECT_EQ(v6inner->size(), 254u);
  EXPECT_EQ(v6inner->front().toString(), "::1/128");
  EXPECT_EQ((*v6inner)[126].toString(), "4000::/2");
  EXPECT_EQ((*v6inner)[127].toString(), "8000::/2");
  EXPECT_EQ(v6inner->back().toString(), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128");

  auto v6low = summarizeRange(ip("::"), ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"));
  ASSERT_TRUE(v6low.isOk());
  EXPECT_EQ(v6low->size(), 128u);
  EXPECT_EQ(v6low->front().toString(), "::/1");
}

TEST(SummarizeRangeTest, RejectsMixedFamiliesAndReversedRanges) {
  auto mixed = summarizeRange(ip("10.0.0.0"), ip("::1"));
  ASSERT_FALSE(mixed.isOk());
  EXPECT_EQ(mixed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(mixed.status().message(), HasSubstr("mixes IPv4 and IPv6"));

  auto mixed2 = summarizeRange(ip("::"), ip("255.255.255.255"));
  ASSERT_FALSE(mixed2.isOk());
  EXPECT_EQ(mixed2.status().code(), StatusCode::kInvalidArgument);

  auto reversed = summarizeRange(ip("198.51.100.77"), ip("198.51.100.3"));
  ASSERT_FALSE(reversed.isOk());
  EXPECT_EQ(reversed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(reversed.status().message(),
              HasSubstr("range start 198.51.100.77 is after its end 198.51.100.3"));

  auto reversed6 = summarizeRange(ip("2001:db8::2"), ip("2001:db8::1"));
  ASSERT_FALSE(reversed6.isOk());
  EXPECT_EQ(reversed6.status().code(), StatusCode::kInvalidArgument);
}

// Checks every property of a summary of [first, last]; returns a failure description or "".
::testing::AssertionResult isMinimalExactCover(const IpAddress& first, const IpAddress& last,
                                               const std::vector<Prefix>& v) {
  const IpFamily family = first.family();
  const int width = familyWidth(family);
  auto fail = [&](const std::string& why) {
    return ::testing::AssertionFailure()
           << why << " (range " << first.toString() << "-" << last.toString() << ")";
  };
  if (v.empty()) return fail("empty summary");
  if (v.size() > static_cast<std::size_t>(2 * width)) return fail("more than 2*width prefixes");
  if (v.front().first() != first) return fail("does not start at first");
  if (v.back().last() != last) return fail("does not end at last");
  for (std::size_t i = 0; i < v.size(); ++i) {
    const Prefix& p = v[i];
    if (p.family() != family) return fail(p.toString() + ": wrong family");
    if (p.length() < 0 || p.length() > width) return fail(p.toString() + ": bad length");
    if ((p.network().bits() & hostMask(family, p.length())) != 0) {
      return fail(p.toString() + ": not aligned");
    }
    if (p.first() < first || last < p.last()) return fail(p.toString() + ": outside the range");
    // Maximality: the parent block (one bit shorter) is not inside [first, last], otherwise
    // the summary could use it and be shorter.
    if (p.length() > 0) {
      Prefix parent = Prefix::containing(p.network(), p.length() - 1);
      if (!(parent.first() < first) && !(last < parent.last())) {
        return fail(p.toString() + ": parent " + parent.toString() + " also fits");
      }
    }
    if (i + 1 < v.size()) {
      const Prefix& q = v[i + 1];
      // In order, disjoint and contiguous: q starts right after p ends.
      auto after = p.last().next();
      if (!after.has_value() || *after != q.first()) {
        return fail(p.toString() + " and " + q.toString() + " are not contiguous");
      }
      if (p.overlaps(q)) return fail(p.toString() + " overlaps " + q.toString());
      // Minimality: two sibling halves would merge into their parent.
      if (p.length() == q.length() && p.length() > 0 &&
          Prefix::containing(p.network(), p.length() - 1).contains(q)) {
        return fail(p.toString() + " and " + q.toString() + " could be merged");
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// A random value of `width` bits whose low bits are often all zeros or all ones, so that
// aligned boundaries are common.
uint128 randomBits(std::mt19937_64& rng, int width) {
  uint128 v = (static_cast<uint128>(rng()) << 64) | rng();
  v &= lowMask(width);
  int k = static_cast<int>(rng() % static_cast<unsigned>(width + 1));
  switch (rng() % 3) {
    case 0:
      v &= ~lowMask(k);
      break;
    case 1:
      v |= lowMask(k);
      break;
    default:
      break;
  }
  return v;
}

TEST(SummarizeRangeTest, PropertyMinimalExactCoverForRandomRanges) {
  std::mt19937_64 rng(4632);
  for (IpFamily family : {IpFamily::kV4, IpFamily::kV6}) {
    const int width = familyWidth(family);
    for (int i = 0; i < 3000; ++i) {
      uint128 a = randomBits(rng, width);
      uint128 b;
      if (rng() % 2 == 0) {
        // A span of random magnitude.
        int k = static_cast<int>(rng() % static_cast<unsigned>(width + 1));
        uint128 span = randomBits(rng, width) & lowMask(k);
        b = span > lowMask(width) - a ? lowMask(width) : a + span;
      } else {
        b = randomBits(rng, width);
      }
      if (b < a) std::swap(a, b);
      IpAddress first = IpAddress::fromBits(family, a), last = IpAddress::fromBits(family, b);
      auto r = summarizeRange(first, last);
      ASSERT_TRUE(r.isOk()) << r.status().message();
      ASSERT_TRUE(isMinimalExactCover(first, last, *r));
    }
  }
}

}  // namespace
}  // namespace netledger::addr
