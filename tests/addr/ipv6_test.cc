#include "addr/ipv6.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <random>
#include <string>
#include <string_view>

#include "addr/addr_test_util.h"
#include "addr/uint128.h"
#include "common/status.h"

namespace netledger::addr {
namespace {

using ::testing::HasSubstr;
using testing_util::expectFragmentAndPosition;
using testing_util::mutate;
using testing_util::Rejection;

constexpr uint128 make128(std::uint64_t hi, std::uint64_t lo) {
  return (static_cast<uint128>(hi) << 64) | lo;
}

// Builds a value from eight 16-bit groups, first group most significant.
uint128 fromGroups(const std::array<std::uint16_t, 8>& g) {
  uint128 v = 0;
  for (auto x : g) v = (v << 16) | x;
  return v;
}

Ipv6 mustParse(const std::string& text) {
  auto r = Ipv6::parse(text);
  EXPECT_TRUE(r.isOk()) << text << ": " << r.status().message();
  return r.isOk() ? r.value() : Ipv6();
}

TEST(Ipv6Test, ParsesToExpectedValues) {
  EXPECT_TRUE(mustParse("::").value() == 0);
  EXPECT_TRUE(mustParse("::1").value() == 1);
  EXPECT_TRUE(mustParse("1::").value() == make128(0x0001000000000000ull, 0));
  EXPECT_TRUE(mustParse("2001:db8::1").value() == make128(0x20010db800000000ull, 1));
  EXPECT_TRUE(mustParse("2001:0db8:0000:0000:0000:0000:0000:0001").value() ==
              make128(0x20010db800000000ull, 1));
  EXPECT_TRUE(mustParse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").value() == kUint128Max);
  EXPECT_TRUE(mustParse("FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF").value() == kUint128Max);
  EXPECT_TRUE(mustParse("1:2:3:4:5:6:7:8").value() ==
              make128(0x0001000200030004ull, 0x0005000600070008ull));
  // "::" may stand for a single zero group when parsing (RFC 4291 2.2), even though RFC 5952
  // never produces it.
  EXPECT_TRUE(mustParse("1:2:3:4:5:6:7::").value() ==
              make128(0x0001000200030004ull, 0x0005000600070000ull));
  EXPECT_TRUE(mustParse("::2:3:4:5:6:7:8").value() ==
              make128(0x0000000200030004ull, 0x0005000600070008ull));
  EXPECT_TRUE(mustParse("1:2:3::6:7:8").value() ==
              make128(0x0001000200030000ull, 0x0000000600070008ull));
}

TEST(Ipv6Test, EmbeddedIpv4IsTheLast32Bits) {
  // RFC 6052 well-known NAT64 prefix.
  Ipv6 a = mustParse("64:ff9b::192.0.2.33");
  EXPECT_TRUE(a.value() == make128(0x0064ff9b00000000ull, 0x00000000c0000221ull));
  EXPECT_TRUE(a == mustParse("64:ff9b::c000:221"));
  EXPECT_EQ(a.toString(), "64:ff9b::c000:221");

  Ipv6 mapped = mustParse("::ffff:192.0.2.1");
  EXPECT_TRUE(mapped.value() == make128(0, 0x0000ffffc0000201ull));
  EXPECT_TRUE(mustParse("1:2:3:4:5:6:1.2.3.4").value() ==
              make128(0x0001000200030004ull, 0x0005000601020304ull));
  EXPECT_TRUE(mustParse("::1.2.3.4").value() == 0x01020304u);
  // The longest valid text (45 characters) is accepted.
  Ipv6 longest = mustParse("0000:0000:0000:0000:0000:ffff:255.255.255.255");
  EXPECT_TRUE(longest.value() == make128(0, 0x0000ffffffffffffull));
  EXPECT_TRUE(mustParse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255").value() == kUint128Max);
}

struct Canonical {
  const char* input;
  const char* expected;
};

void PrintTo(const Canonical& c, std::ostream* os) { *os << '"' << c.input << '"'; }

class Ipv6CanonicalTest : public ::testing::TestWithParam<Canonical> {};

TEST_P(Ipv6CanonicalTest, FormatsPerRfc5952) {
  const Canonical& c = GetParam();
  auto r = Ipv6::parse(c.input);
  ASSERT_TRUE(r.isOk()) << c.input << ": " << r.status().message();
  EXPECT_EQ(r.value().toString(), c.expected);
  // The canonical text is a fixed point.
  auto again = Ipv6::parse(c.expected);
  ASSERT_TRUE(again.isOk()) << c.expected;
  EXPECT_TRUE(again.value() == r.value());
  EXPECT_EQ(again.value().toString(), c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc5952Vectors, Ipv6CanonicalTest,
    ::testing::Values(
        // 4.1: leading zeros suppressed; 4.2.1: "::" as long as possible.
        Canonical{"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
        Canonical{"2001:db8:0:0:0:0:2:1", "2001:db8::2:1"},
        Canonical{"2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1"},
        // 4.2.3: first of equally long runs.
        Canonical{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
        Canonical{"fe80:0:0:0:1:0:0:0", "fe80::1:0:0:0"},
        Canonical{"fe80::1:0:0:0", "fe80::1:0:0:0"},
        // 4.2.3: longest run, even when it comes later.
        Canonical{"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"}, Canonical{"0:0:1:0:0:0:0:0", "0:0:1::"},
        Canonical{"2001:db8:0:1:0:0:0:0", "2001:db8:0:1::"},
        // 4.2.2: a single zero group is never "::".
        Canonical{"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
        Canonical{"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
        Canonical{"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
        Canonical{"1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0"},
        // 4.3: lower case.
        Canonical{"2001:DB8::ABCD", "2001:db8::abcd"},
        Canonical{"ABCD:EF01:2345:6789:ABCD:EF01:2345:6789",
                  "abcd:ef01:2345:6789:abcd:ef01:2345:6789"},
        // All-zero, loopback, trailing run.
        Canonical{"::", "::"}, Canonical{"0:0:0:0:0:0:0:0", "::"}, Canonical{"::1", "::1"},
        Canonical{"0:0:0:0:0:0:0:1", "::1"}, Canonical{"1::", "1::"},
        Canonical{"1:0:0:0:0:0:0:0", "1::"},
        Canonical{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
        Canonical{"0000:0000:0000:0000:0000:0000:0000:000a", "::a"},
        Canonical{"0a0b:00c0:0d00:e000::", "a0b:c0:d00:e000::"},
        // 5: IPv4-mapped addresses use the dotted form, whatever the input form.
        Canonical{"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
        Canonical{"::FFFF:c000:201", "::ffff:192.0.2.1"},
        Canonical{"0:0:0:0:0:ffff:c000:0201", "::ffff:192.0.2.1"},
        Canonical{"::ffff:0:0", "::ffff:0.0.0.0"},
        Canonical{"::ffff:ffff:ffff", "::ffff:255.255.255.255"},
        // Not IPv4-mapped: hex groups.
        Canonical{"::fffe:c000:201", "::fffe:c000:201"},
        Canonical{"::1:ffff:c000:201", "::1:ffff:c000:201"},
        Canonical{"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},
        Canonical{"::192.0.2.1", "::c000:201"}));

class Ipv6RejectionTest : public ::testing::TestWithParam<Rejection> {};

TEST_P(Ipv6RejectionTest, RejectsWithInvalidArgument) {
  const Rejection& c = GetParam();
  auto r = Ipv6::parse(c.text);
  ASSERT_FALSE(r.isOk()) << "accepted \"" << c.text << "\" as " << r.value().toString();
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  const std::string& m = r.status().message();
  EXPECT_THAT(m, HasSubstr("invalid IPv6 address"));
  if (c.text.size() <= 64) {
    EXPECT_THAT(m, HasSubstr("\"" + c.text + "\""));
  }
  expectFragmentAndPosition(m, c);
}

INSTANTIATE_TEST_SUITE_P(
    BadInputs, Ipv6RejectionTest,
    ::testing::Values(
        Rejection{"", "empty", -1}, Rejection{":::", "expected a hex group", 2},
        Rejection{"1:2:3:4:5:6:7:8:9", "more than 8 groups", 16},
        Rejection{"1::2::3", "'::' appears more than once", 4},
        Rejection{"::1::", "'::' appears more than once", 3},
        Rejection{"12345::", "more than 4 hex digits", 0},
        Rejection{"1:00000::", "more than 4 hex digits", 2},
        Rejection{"fe80::1%eth0", "zone index not allowed", 7},
        Rejection{"fe80::1%1", "zone index not allowed", 7},
        Rejection{"1:2:3:4:5:6:7", "expected 8 groups, found 7", -1},
        Rejection{"1", "expected 8 groups, found 1", -1},
        Rejection{":1::", "single leading ':'", 0}, Rejection{":", "single leading ':'", 0},
        Rejection{":1:2:3:4:5:6:7:8", "single leading ':'", 0},
        Rejection{"1::2:", "trailing ':'", 4}, Rejection{"1:", "trailing ':'", 1},
        Rejection{"1:2:3:4:5:6:7:8:", "trailing ':'", 15},
        Rejection{"1:::2", "expected a hex group", 3},
        Rejection{"::ffff:1.2.3", "bad embedded IPv4", 7},
        Rejection{"::ffff:256.1.1.1", "bad embedded IPv4", 7},
        Rejection{"::ffff:01.2.3.4", "bad embedded IPv4", 7},
        Rejection{"::1.2.3.4:5", "bad embedded IPv4", 2},
        Rejection{"1:2:3:4:5:6:7:1.2.3.4", "embedded IPv4 needs room for 2 groups", 14},
        Rejection{"1:2:3:4:5:6::1.2.3.4", "'::' with 8 groups already present", -1},
        Rejection{"1:2:3:4:5:6:7:8::", "'::' with 8 groups already present", -1},
        Rejection{"::1:2:3:4:5:6:7:8", "'::' with 8 groups already present", -1},
        Rejection{"g::1", "expected a hex group", 0}, Rejection{"1::g", "expected a hex group", 3},
        Rejection{"[::1]", "expected a hex group", 0},
        Rejection{"1:2:3:4:5:6:7:8 ", "unexpected character", 15},
        Rejection{"2001:db8::1/64", "unexpected character", 11},
        Rejection{"1.2.3.4", "expected 8 groups, found 2", -1},
        Rejection{"0000:0000:0000:0000:0000:0000:0000:0000:0", "more than 8 groups", 40},
        Rejection{"0000:0000:0000:0000:0000:ffff:255.255.255.2550", "too long (46 characters)", -1},
        Rejection{std::string(46, '0'), "too long (46 characters)", -1}));

TEST(Ipv6Test, HugeInputIsRefusedAndNotEchoedInFull) {
  std::string huge = "2001:db8::";
  huge.append(1 << 20, '1');
  auto r = Ipv6::parse(huge);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("too long (1048586 characters)"));
  EXPECT_THAT(r.status().message(), HasSubstr("...\""));
  EXPECT_LT(r.status().message().size(), 200u);
}

TEST(Ipv6Test, BytesRoundTripInNetworkOrder) {
  Ipv6 a = mustParse("2001:db8::ff00:42:8329");
  std::array<std::uint8_t, 16> expected = {0x20, 0x01, 0x0d, 0xb8, 0, 0,    0,    0,
                                           0,    0,    0xff, 0,    0, 0x42, 0x83, 0x29};
  EXPECT_EQ(a.toBytes(), expected);
  EXPECT_TRUE(Ipv6::fromBytes(expected) == a);
  EXPECT_EQ(a.group(0), 0x2001);
  EXPECT_EQ(a.group(1), 0x0db8);
  EXPECT_EQ(a.group(2), 0);
  EXPECT_EQ(a.group(5), 0xff00);
  EXPECT_EQ(a.group(6), 0x0042);
  EXPECT_EQ(a.group(7), 0x8329);
}

TEST(Ipv6Test, FormatWritesIntoBufferAndReturnsLength) {
  char buf[48] = {};
  std::size_t n = Ipv6(kUint128Max).format(buf);
  EXPECT_EQ(n, 39u);
  EXPECT_EQ(std::string(buf, n), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  n = Ipv6(0).format(buf);
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(std::string(buf, n), "::");
}

TEST(Ipv6Test, OrderingIsNumeric) {
  EXPECT_LT(mustParse("::1"), mustParse("::2"));
  EXPECT_LT(mustParse("::ffff:ffff:ffff:ffff"), mustParse("0:0:0:1::"));
  EXPECT_LT(mustParse("7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), mustParse("8000::"));
  EXPECT_EQ(mustParse("2001:db8::1"), mustParse("2001:DB8:0::0:1"));
}

// Independent RFC 5952 formatter used as an oracle for random values.
std::string referenceFormat(uint128 v) {
  std::array<unsigned, 8> g{};
  for (int i = 0; i < 8; ++i) g[i] = static_cast<unsigned>((v >> (112 - 16 * i)) & 0xffff);
  char buf[64];
  if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff) {
    std::snprintf(buf, sizeof buf, "::ffff:%u.%u.%u.%u", g[6] >> 8, g[6] & 0xff, g[7] >> 8,
                  g[7] & 0xff);
    return buf;
  }
  int best = -1, best_len = 1;  // runs of length 1 never qualify
  for (int i = 0; i < 8; ++i) {
    int len = 0;
    while (i + len < 8 && g[i + len] == 0) ++len;
    if (len > best_len) {
      best = i;
      best_len = len;
    }
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(buf, sizeof buf, "%x", g[i]);
    out += buf;
  }
  return out;
}

// Random values with many zero groups (so "::" placement is exercised) and occasional
// IPv4-mapped values.
uint128 randomInteresting(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0:
      return make128(rng(), rng());
    case 1:
      return make128(0, 0x0000ffff00000000ull | (rng() & 0xffffffffull));
    default: {
      std::array<std::uint16_t, 8> g{};
      for (auto& x : g) {
        switch (rng() % 4) {
          case 0:
          case 1:
            x = 0;
            break;
          case 2:
            x = static_cast<std::uint16_t>(rng() % 16);
            break;
          default:
            x = static_cast<std::uint16_t>(rng());
        }
      }
      return fromGroups(g);
    }
  }
}

TEST(Ipv6Test, RoundTripPropertyOverRandomValues) {
  std::mt19937_64 rng(5952);
  for (int i = 0; i < 20000; ++i) {
    const uint128 x = randomInteresting(rng);
    const std::string text = Ipv6(x).toString();
    ASSERT_EQ(text, referenceFormat(x)) << toDecimal(x);
    auto back = Ipv6::parse(text);
    ASSERT_TRUE(back.isOk()) << text << ": " << back.status().message();
    ASSERT_TRUE(back.value().value() == x) << text << " parsed to " << toDecimal(back->value());
    ASSERT_EQ(back.value().toString(), text);  // format is idempotent

    // The fully expanded, upper-case, zero-padded form parses to the same value.
    char full[48];
    std::snprintf(full, sizeof full, "%04X:%04X:%04X:%04X:%04X:%04X:%04X:%04X",
                  static_cast<unsigned>(Ipv6(x).group(0)), static_cast<unsigned>(Ipv6(x).group(1)),
                  static_cast<unsigned>(Ipv6(x).group(2)), static_cast<unsigned>(Ipv6(x).group(3)),
                  static_cast<unsigned>(Ipv6(x).group(4)), static_cast<unsigned>(Ipv6(x).group(5)),
                  static_cast<unsigned>(Ipv6(x).group(6)), static_cast<unsigned>(Ipv6(x).group(7)));
    auto expanded = Ipv6::parse(full);
    ASSERT_TRUE(expanded.isOk()) << full << ": " << expanded.status().message();
    ASSERT_TRUE(expanded.value().value() == x) << full;
    ASSERT_EQ(expanded.value().toString(), text);
  }
}

// Random text forms of a value: canonical, fully expanded, or with an embedded IPv4 tail.
std::string randomText(uint128 x, std::mt19937_64& rng) {
  Ipv6 a(x);
  char buf[64];
  switch (rng() % 3) {
    case 0:
      return a.toString();
    case 1:
      std::snprintf(buf, sizeof buf, "%x:%x:%x:%x:%x:%x:%x:%x", unsigned{a.group(0)},
                    unsigned{a.group(1)}, unsigned{a.group(2)}, unsigned{a.group(3)},
                    unsigned{a.group(4)}, unsigned{a.group(5)}, unsigned{a.group(6)},
                    unsigned{a.group(7)});
      return buf;
    default:
      std::snprintf(buf, sizeof buf, "%x:%x:%x:%x:%x:%x:%u.%u.%u.%u", unsigned{a.group(0)},
                    unsigned{a.group(1)}, unsigned{a.group(2)}, unsigned{a.group(3)},
                    unsigned{a.group(4)}, unsigned{a.group(5)}, unsigned{a.group(6)} >> 8,
                    unsigned{a.group(6)} & 0xffu, unsigned{a.group(7)} >> 8,
                    unsigned{a.group(7)} & 0xffu);
      return buf;
  }
}

// The characters that matter to the IPv6 parser, for mutate().
constexpr std::string_view kIpv6Mutations = "0123456789abcdefF::::...g% ";

// glibc's inet_pton(AF_INET6) implements the same RFC 4291 grammar (no zone, "::" at most once
// and for at least one group, embedded IPv4 only as the last 32 bits, strict dotted quad), so it
// is an independent oracle for accept/reject decisions and values.
TEST(Ipv6Test, AgreesWithInetPtonOnMutatedInputs) {
  std::mt19937_64 rng(4291);
  int accepted = 0;
  for (int i = 0; i < 50000; ++i) {
    std::string text = mutate(randomText(randomInteresting(rng), rng), rng, kIpv6Mutations);
    std::array<std::uint8_t, 16> expected{};
    bool ok = inet_pton(AF_INET6, text.c_str(), expected.data()) == 1;
    auto r = Ipv6::parse(text);
    ASSERT_EQ(r.isOk(), ok) << "\"" << text << "\": " << (ok ? r.status().message() : "accepted");
    if (ok) {
      ++accepted;
      ASSERT_EQ(r->toBytes(), expected) << text;
    } else {
      ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
  EXPECT_GT(accepted, 1000);
}

}  // namespace
}  // namespace netledger::addr
