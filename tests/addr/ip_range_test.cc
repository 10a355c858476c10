#include "addr/ip_range.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "addr/addr_test_util.h"
#include "addr/ip_address.h"
#include "addr/prefix.h"
#include "addr/uint128.h"
#include "common/status.h"

namespace netledger::addr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using testing_util::ip;
using testing_util::range;

TEST(IpRangeTest, ParsesDashForm) {
  IpRange r = range("198.51.100.10-198.51.100.20");
  EXPECT_EQ(r.first(), ip("198.51.100.10"));
  EXPECT_EQ(r.last(), ip("198.51.100.20"));
  EXPECT_EQ(r.family(), IpFamily::kV4);
  EXPECT_EQ(r.size().toString(), "11");
  EXPECT_EQ(r.toString(), "198.51.100.10-198.51.100.20");
}

TEST(IpRangeTest, ParsesDashFormWithSpaces) {
  IpRange r = range("198.51.100.10 - 198.51.100.20");
  EXPECT_EQ(r.first(), ip("198.51.100.10"));
  EXPECT_EQ(r.last(), ip("198.51.100.20"));
  EXPECT_EQ(r, range("198.51.100.10-198.51.100.20"));
  EXPECT_EQ(range("  10.0.0.1   -10.0.0.9 ").toString(), "10.0.0.1-10.0.0.9");
}

TEST(IpRangeTest, ParsesSingleAddress) {
  IpRange r = range("10.0.0.1");
  EXPECT_EQ(r.first(), ip("10.0.0.1"));
  EXPECT_EQ(r.last(), ip("10.0.0.1"));
  EXPECT_EQ(r.size().toString(), "1");
  EXPECT_EQ(r.toString(), "10.0.0.1");
  EXPECT_EQ(r, IpRange(ip("10.0.0.1")));
  EXPECT_EQ(range(" 2001:db8::1 ").toString(), "2001:db8::1");
  // "A-A" is also a single address and prints as one.
  EXPECT_EQ(range("10.0.0.1-10.0.0.1").toString(), "10.0.0.1");
}

TEST(IpRangeTest, ParsesCidr) {
  IpRange r = range("198.51.100.0/24");
  EXPECT_EQ(r.first(), ip("198.51.100.0"));
  EXPECT_EQ(r.last(), ip("198.51.100.255"));
  EXPECT_EQ(r.size().toString(), "256");
  EXPECT_EQ(r.toString(), "198.51.100.0-198.51.100.255");

  IpRange v6 = range("2001:db8::/64");
  EXPECT_EQ(v6.family(), IpFamily::kV6);
  EXPECT_EQ(v6.first(), ip("2001:db8::"));
  EXPECT_EQ(v6.last(), ip("2001:db8::ffff:ffff:ffff:ffff"));
  EXPECT_EQ(v6.size().toString(), "18446744073709551616");

  // A CIDR range is strict: host bits are an error.
  auto bad = IpRange::parse("198.51.100.7/24");
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("did you mean 198.51.100.0/24?"));

  EXPECT_EQ(IpRange::of(Prefix::parse("10.0.0.0/30").value()), range("10.0.0.0-10.0.0.3"));
}

TEST(IpRangeTest, ParsesIpv6DashForm) {
  IpRange r = range("2001:db8::1-2001:db8::ff");
  EXPECT_EQ(r.first(), ip("2001:db8::1"));
  EXPECT_EQ(r.last(), ip("2001:db8::ff"));
  EXPECT_EQ(r.size().toString(), "255");
  EXPECT_EQ(r.toString(), "2001:db8::1-2001:db8::ff");
  EXPECT_EQ(range("2001:DB8::1 - 2001:0db8::00ff").toString(), "2001:db8::1-2001:db8::ff");
}

TEST(IpRangeTest, SizesAtTheExtremes) {
  EXPECT_EQ(range("0.0.0.0/0").size().toString(), "4294967296");
  EXPECT_EQ(range("0.0.0.0-255.255.255.255").size().toString(), "4294967296");
  AddressCount all6 = range("::/0").size();
  EXPECT_TRUE(all6.isTwoTo128());
  EXPECT_EQ(all6.toString(), "340282366920938463463374607431768211456");
  AddressCount almost = range("::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").size();
  EXPECT_FALSE(almost.isTwoTo128());
  EXPECT_TRUE(almost.saturated() == kUint128Max);
  EXPECT_EQ(almost.toString(), "340282366920938463463374607431768211455");
}

TEST(IpRangeTest, RejectsReversedAndMixedFamilies) {
  auto reversed = IpRange::parse("10.0.0.2-10.0.0.1");
  ASSERT_FALSE(reversed.isOk());
  EXPECT_EQ(reversed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(reversed.status().message(), HasSubstr("10.0.0.2-10.0.0.1"));
  EXPECT_THAT(reversed.status().message(), HasSubstr("start is after end"));

  auto reversed6 = IpRange::parse("2001:db8::2 - 2001:db8::1");
  ASSERT_FALSE(reversed6.isOk());
  EXPECT_EQ(reversed6.status().code(), StatusCode::kInvalidArgument);

  auto mixed = IpRange::parse("10.0.0.1-::1");
  ASSERT_FALSE(mixed.isOk());
  EXPECT_EQ(mixed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(mixed.status().message(), HasSubstr("mixes IPv4 and IPv6"));

  auto mixed2 = IpRange::parse("::-255.255.255.255");
  ASSERT_FALSE(mixed2.isOk());
  EXPECT_THAT(mixed2.status().message(), HasSubstr("mixes IPv4 and IPv6"));

  auto made = IpRange::make(ip("10.0.0.1"), ip("::1"));
  ASSERT_FALSE(made.isOk());
  EXPECT_EQ(made.status().code(), StatusCode::kInvalidArgument);
  auto made_rev = IpRange::make(ip("10.0.0.9"), ip("10.0.0.1"));
  ASSERT_FALSE(made_rev.isOk());
  EXPECT_EQ(made_rev.status().code(), StatusCode::kInvalidArgument);
  auto made_ok = IpRange::make(ip("10.0.0.1"), ip("10.0.0.1"));
  ASSERT_TRUE(made_ok.isOk());
  EXPECT_EQ(made_ok->size().toString(), "1");
}

TEST(IpRangeTest, RejectsMalformedText) {
  auto empty = IpRange::parse("");
  ASSERT_FALSE(empty.isOk());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.status().message(), HasSubstr("invalid address range \"\": empty"));

  auto blank = IpRange::parse("   ");
  ASSERT_FALSE(blank.isOk());
  EXPECT_THAT(blank.status().message(), HasSubstr("empty"));

  auto no_end = IpRange::parse("10.0.0.1-");
  ASSERT_FALSE(no_end.isOk());
  EXPECT_THAT(no_end.status().message(), HasSubstr("range end: invalid IPv4 address"));

  auto no_start = IpRange::parse("-10.0.0.1");
  ASSERT_FALSE(no_start.isOk());
  EXPECT_THAT(no_start.status().message(), HasSubstr("range start: invalid IPv4 address"));

  auto bad_start = IpRange::parse("10.0.0.300-10.0.0.1");
  ASSERT_FALSE(bad_start.isOk());
  EXPECT_THAT(bad_start.status().message(), HasSubstr("range start: "));
  EXPECT_THAT(bad_start.status().message(), HasSubstr("\"10.0.0.300\""));

  auto three = IpRange::parse("10.0.0.1-10.0.0.2-10.0.0.3");
  ASSERT_FALSE(three.isOk());
  EXPECT_EQ(three.status().code(), StatusCode::kInvalidArgument);

  auto junk = IpRange::parse("10.0.0.x");
  ASSERT_FALSE(junk.isOk());
  EXPECT_EQ(junk.status().code(), StatusCode::kInvalidArgument);

  EXPECT_FALSE(IpRange::parse("10.0.0.0/33").isOk());
  EXPECT_FALSE(IpRange::parse("10.0.0.1\t-10.0.0.2").isOk());
}

TEST(IpRangeTest, ContainsAddresses) {
  IpRange r = range("10.0.0.10-10.0.0.20");
  EXPECT_TRUE(r.contains(ip("10.0.0.10")));
  EXPECT_TRUE(r.contains(ip("10.0.0.15")));
  EXPECT_TRUE(r.contains(ip("10.0.0.20")));
  EXPECT_FALSE(r.contains(ip("10.0.0.9")));
  EXPECT_FALSE(r.contains(ip("10.0.0.21")));
  // Never across families, even with the same bits.
  EXPECT_FALSE(r.contains(IpAddress::fromBits(IpFamily::kV6, 0x0a00000fu)));
  EXPECT_FALSE(range("::/0").contains(ip("10.0.0.1")));
  EXPECT_FALSE(range("0.0.0.0/0").contains(ip("::1")));
}

TEST(IpRangeTest, ContainsRanges) {
  IpRange r = range("10.0.0.10-10.0.0.20");
  EXPECT_TRUE(r.contains(r));
  EXPECT_TRUE(r.contains(range("10.0.0.12-10.0.0.13")));
  EXPECT_TRUE(r.contains(range("10.0.0.10")));
  EXPECT_FALSE(r.contains(range("10.0.0.5-10.0.0.12")));
  EXPECT_FALSE(r.contains(range("10.0.0.18-10.0.0.25")));
  EXPECT_FALSE(r.contains(range("10.0.0.0-10.0.0.255")));
  EXPECT_FALSE(r.contains(range("::a-::14")));
}

TEST(IpRangeTest, Overlaps) {
  IpRange r = range("10.0.0.10-10.0.0.20");
  EXPECT_TRUE(r.overlaps(r));
  EXPECT_TRUE(r.overlaps(range("10.0.0.20-10.0.0.30")));  // shares one address
  EXPECT_TRUE(range("10.0.0.20-10.0.0.30").overlaps(r));
  EXPECT_TRUE(r.overlaps(range("10.0.0.0-10.0.0.10")));
  EXPECT_TRUE(r.overlaps(range("10.0.0.0/24")));  // contains r
  EXPECT_TRUE(r.overlaps(range("10.0.0.15")));
  EXPECT_FALSE(r.overlaps(range("10.0.0.21-10.0.0.30")));  // adjacent
  EXPECT_FALSE(r.overlaps(range("10.0.0.0-10.0.0.9")));
  EXPECT_FALSE(range("10.0.0.21-10.0.0.30").overlaps(r));
  // Across families: never.
  EXPECT_FALSE(range("0.0.0.0/0").overlaps(range("::/0")));
  EXPECT_FALSE(range("::/0").overlaps(range("0.0.0.0/0")));
  EXPECT_FALSE(r.overlaps(range("::-::ffff:ffff")));
}

TEST(IpRangeTest, ToPrefixes) {
  EXPECT_THAT(
      [] {
        std::vector<std::string> out;
        for (const auto& p : range("198.51.100.3-198.51.100.77").toPrefixes()) {
          out.push_back(p.toString());
        }
        return out;
      }(),
      ElementsAre("198.51.100.3/32", "198.51.100.4/30", "198.51.100.8/29", "198.51.100.16/28",
                  "198.51.100.32/27", "198.51.100.64/29", "198.51.100.72/30", "198.51.100.76/31"));
  auto single = range("2001:db8::/48").toPrefixes();
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0].toString(), "2001:db8::/48");
}

TEST(IpRangeTest, DefaultIsTheSingleAddressZero) {
  IpRange r;
  EXPECT_EQ(r.first(), ip("0.0.0.0"));
  EXPECT_EQ(r.last(), ip("0.0.0.0"));
  EXPECT_EQ(r.toString(), "0.0.0.0");
  EXPECT_EQ(r.size().toString(), "1");
}

TEST(IpRangeTest, TextRoundTripPropertyForRandomRanges) {
  std::mt19937_64 rng(3021);
  for (int i = 0; i < 4000; ++i) {
    IpFamily family = i % 2 == 0 ? IpFamily::kV4 : IpFamily::kV6;
    uint128 mask = lowMask(familyWidth(family));
    uint128 a = ((static_cast<uint128>(rng()) << 64) | rng()) & mask;
    uint128 b = ((static_cast<uint128>(rng()) << 64) | rng()) & mask;
    if (i % 3 == 0) b = a;
    if (b < a) std::swap(a, b);
    auto made = IpRange::make(IpAddress::fromBits(family, a), IpAddress::fromBits(family, b));
    ASSERT_TRUE(made.isOk()) << made.status().message();
    const std::string text = made->toString();
    auto back = IpRange::parse(text);
    ASSERT_TRUE(back.isOk()) << text << ": " << back.status().message();
    ASSERT_EQ(*back, *made) << text;
    ASSERT_EQ(back->toString(), text);
    // The size is last - first + 1.
    ASSERT_EQ(back->size().toString(), toDecimal(b - a + 1)) << text;
  }
}

}  // namespace
}  // namespace netledger::addr
