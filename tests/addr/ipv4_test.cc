#include "addr/ipv4.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "addr/addr_test_util.h"
#include "common/status.h"

namespace netledger::addr {
namespace {

using ::testing::HasSubstr;
using testing_util::expectFragmentAndPosition;
using testing_util::mutate;
using testing_util::Rejection;

TEST(Ipv4Test, ParsesAndFormatsBoundaryAndDocumentationAddresses) {
  struct Case {
    const char* text;
    std::uint32_t value;
  };
  const Case cases[] = {
      {"0.0.0.0", 0x00000000u},      {"255.255.255.255", 0xffffffffu},
      {"198.51.100.7", 0xc6336407u},  // RFC 5737 TEST-NET-2
      {"192.0.2.1", 0xc0000201u},     // RFC 5737 TEST-NET-1
      {"10.0.0.1", 0x0a000001u},     {"1.2.3.4", 0x01020304u},
      {"100.64.9.10", 0x6440090au},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto r = Ipv4::parse(c.text);
    ASSERT_TRUE(r.isOk()) << r.status().message();
    EXPECT_EQ(r.value().value(), c.value);
    EXPECT_EQ(r.value().toString(), c.text);
    EXPECT_EQ(Ipv4(c.value).toString(), c.text);
  }
}

TEST(Ipv4Test, FormatWritesIntoBufferAndReturnsLength) {
  char buf[16] = {};
  std::size_t n = Ipv4(0xffffffffu).format(buf);
  EXPECT_EQ(n, 15u);
  EXPECT_EQ(std::string(buf, n), "255.255.255.255");
  n = Ipv4(0).format(buf);
  EXPECT_EQ(n, 7u);
  EXPECT_EQ(std::string(buf, n), "0.0.0.0");
  // Octets of one, two and three digits, including ones with an inner zero.
  EXPECT_EQ(Ipv4(0x0a6400c8u).toString(), "10.100.0.200");
  EXPECT_EQ(Ipv4(0x09635a01u).toString(), "9.99.90.1");
  EXPECT_EQ(Ipv4(0x65666768u).toString(), "101.102.103.104");
}

TEST(Ipv4Test, OrderingIsNumeric) {
  EXPECT_LT(Ipv4(0x01020304u), Ipv4(0x01020305u));
  EXPECT_LT(Ipv4(0x7fffffffu), Ipv4(0x80000000u));
  EXPECT_EQ(Ipv4(0x0a000001u), Ipv4::parse("10.0.0.1").value());
  EXPECT_EQ(Ipv4().value(), 0u);
}

class Ipv4RejectionTest : public ::testing::TestWithParam<Rejection> {};

TEST_P(Ipv4RejectionTest, RejectsWithInvalidArgumentQuotedInputAndPosition) {
  const Rejection& c = GetParam();
  auto r = Ipv4::parse(c.text);
  ASSERT_FALSE(r.isOk()) << "accepted \"" << c.text << "\"";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  const std::string& m = r.status().message();
  EXPECT_THAT(m, HasSubstr("invalid IPv4 address"));
  EXPECT_THAT(m, HasSubstr("\"" + c.text + "\""));
  expectFragmentAndPosition(m, c);
  if (c.position < 0) {  // for IPv4, -1 means the message names no position at all
    EXPECT_THAT(m, ::testing::Not(HasSubstr("at position")));
  }
}

INSTANTIATE_TEST_SUITE_P(
    BadInputs, Ipv4RejectionTest,
    ::testing::Values(Rejection{"", "empty", -1}, Rejection{"1.2.3", "expected 4 octets", 5},
                      Rejection{"1.2.3.", "expected 4 octets", 6},
                      Rejection{"1.2.3.4.5", "unexpected text after the address", 7},
                      Rejection{"256.1.1.1", "octet 1 is above 255", 0},
                      Rejection{"1.2.3.256", "octet 4 is above 255", 6},
                      Rejection{"1.300.3.4", "octet 2 is above 255", 2},
                      Rejection{"01.2.3.4", "leading zero in octet 1", 0},
                      Rejection{"1.2.3.04", "leading zero in octet 4", 6},
                      Rejection{"1.00.3.4", "leading zero in octet 2", 2},
                      Rejection{"1.2.3.4 ", "unexpected text after the address", 7},
                      Rejection{" 1.2.3.4", "expected a decimal octet", 0},
                      Rejection{"1..2.3", "expected a decimal octet", 2},
                      Rejection{"a.b.c.d", "expected a decimal octet", 0},
                      Rejection{"1.2.3.-4", "expected a decimal octet", 6},
                      Rejection{"1234.1.1.1", "octet 1 is above 255", 0},
                      Rejection{"1.2.3.4/24", "unexpected text after the address", 7},
                      Rejection{"1,2.3.4", "expected '.'", 1},
                      Rejection{"1.2.3.4.", "unexpected text after the address", 7}));

TEST(Ipv4Test, ErrorMessageHasExactShape) {
  auto r = Ipv4::parse("256.1.1.1");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().message(),
            "invalid IPv4 address \"256.1.1.1\": octet 1 is above 255 (at position 0)");
  auto e = Ipv4::parse("");
  ASSERT_FALSE(e.isOk());
  EXPECT_EQ(e.status().message(), "invalid IPv4 address \"\": empty");
}

TEST(Ipv4Test, ErrorMessageEscapesControlCharactersAndTruncatesLongInput) {
  auto r = Ipv4::parse(std::string("1.2.3.4\n", 8));
  ASSERT_FALSE(r.isOk());
  EXPECT_THAT(r.status().message(), HasSubstr("\"1.2.3.4\\x0a\""));

  std::string hostile(1000, '9');
  auto l = Ipv4::parse(hostile);
  ASSERT_FALSE(l.isOk());
  EXPECT_EQ(l.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(l.status().message(), HasSubstr("\"" + std::string(64, '9') + "...\""));
  EXPECT_LT(l.status().message().size(), 200u);
}

TEST(Ipv4Test, RoundTripPropertyOverRandomValues) {
  std::mt19937_64 rng(20240401);  // fixed seed: reproducible
  for (int i = 0; i < 20000; ++i) {
    auto v = static_cast<std::uint32_t>(rng());
    Ipv4 a(v);
    std::string text = a.toString();
    auto back = Ipv4::parse(text);
    ASSERT_TRUE(back.isOk()) << text << ": " << back.status().message();
    ASSERT_EQ(back.value().value(), v) << text;
    ASSERT_EQ(back.value().toString(), text);
  }
}

// The characters that matter to the IPv4 parser, for mutate().
constexpr std::string_view kIpv4Mutations = "0123456789..a- /";

// inet_pton(AF_INET) is the strict dotted-quad grammar (no leading zeros, exactly 4 octets), so
// it serves as an independent oracle for both the accept and the reject decisions.
TEST(Ipv4Test, AgreesWithInetPtonOnMutatedInputs) {
  std::mt19937_64 rng(1918);
  int accepted = 0;
  for (int i = 0; i < 50000; ++i) {
    std::uint32_t v = static_cast<std::uint32_t>(rng());
    // Small octets are common in real input and make leading-zero mutations likely.
    if (rng() % 2 == 0) v &= 0x0f0f0f0fu;
    std::string text = mutate(Ipv4(v).toString(), rng, kIpv4Mutations);
    in_addr expected{};
    bool ok = inet_pton(AF_INET, text.c_str(), &expected) == 1;
    auto r = Ipv4::parse(text);
    ASSERT_EQ(r.isOk(), ok) << "\"" << text << "\": " << (ok ? r.status().message() : "accepted");
    if (ok) {
      ++accepted;
      ASSERT_EQ(r->value(), ntohl(expected.s_addr)) << text;
    } else {
      ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
  EXPECT_GT(accepted, 1000);  // the mutations do not reject everything
}

}  // namespace
}  // namespace netledger::addr
