#include "common/parse.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace netledger {
namespace {

TEST(ParseIntegerTest, AcceptsDecimalIntegersWithinBounds) {
  EXPECT_EQ(*parseInteger("limit", "250", 1, 1000), 250);
  EXPECT_EQ(*parseInteger("n", "-5", -10, 10), -5);
  EXPECT_EQ(*parseInteger("n", "0"), 0);
  EXPECT_EQ(*parseInteger("n", "9223372036854775807"), INT64_MAX);
  EXPECT_EQ(*parseInteger("n", "-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(*parseUnsigned("seq", "18446744073709551615"), UINT64_MAX);
}

TEST(ParseIntegerTest, RefusesAnythingButDigitsNamingTheField) {
  for (const char* bad : {"", "-", "+5", " 5", "5 ", "1e3", "1.0", "0x10", "5a", "--1", "1-"}) {
    auto r = parseInteger("ttl_s", bad, -100, 100);
    ASSERT_FALSE(r.isOk()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message().rfind("ttl_s: ", 0), 0u) << r.status().message();
  }
  for (const char* bad : {"-1", "-0", "+1", "x1"}) {
    auto r = parseUnsigned("cursor", bad);
    ASSERT_FALSE(r.isOk()) << bad;
    EXPECT_EQ(r.status().message().rfind("cursor: ", 0), 0u);
  }
}

TEST(ParseIntegerTest, OutOfRangeSaysTheBounds) {
  auto r = parseInteger("limit", "1001", 1, 1000);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().message(), "limit: \"1001\" is outside 1..1000");
  EXPECT_FALSE(parseInteger("n", "99999999999999999999").isOk());
  EXPECT_FALSE(parseUnsigned("n", "18446744073709551616").isOk());
  EXPECT_FALSE(parseUnsigned("n", "11", 10).isOk());
}

TEST(ParseIntegerTest, QuotesAtMost32CharactersOfTheInput) {
  auto r = parseUnsigned("cursor", std::string(5000, 'x'));
  ASSERT_FALSE(r.isOk());
  EXPECT_LT(r.status().message().size(), 80u);
}

// Property: every int64 round-trips through its decimal text, and the bounds are exact.
TEST(ParseIntegerTest, RoundTripsRandomValues) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 20000; ++i) {
    auto v = static_cast<std::int64_t>(rng());
    auto text = std::to_string(v);
    ASSERT_EQ(*parseInteger("n", text), v);
    EXPECT_FALSE(parseInteger("n", text, v + (v == INT64_MAX ? 0 : 1)).isOk() && v != INT64_MAX);
    EXPECT_TRUE(parseInteger("n", text, v, v).isOk());
  }
}

// Every byte value: A-Z become a-z, everything else (digits, punctuation, UTF-8 bytes, NUL)
// stays as it is, and the length never changes.
TEST(AsciiLowerTest, LowersOnlyAsciiLettersOfEveryByte) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  const std::string lowered = asciiLower(all);
  ASSERT_EQ(lowered.size(), 256u);
  for (int c = 0; c < 256; ++c) {
    const char want = c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : static_cast<char>(c);
    EXPECT_EQ(lowered[static_cast<std::size_t>(c)], want) << c;
  }
  EXPECT_EQ(asciiLower("Chunked, GZip"), "chunked, gzip");
  EXPECT_EQ(asciiLower(""), "");
}

}  // namespace
}  // namespace netledger
