// Accept-Encoding and If-None-Match as the dashboard's asset routes read them (RFC 9110).
#include "http/negotiation.h"

#include <gtest/gtest.h>

namespace netledger::http {
namespace {

TEST(NegotiationTest, AcceptEncodingNamedEntryDecidesThenStar) {
  EXPECT_FALSE(acceptsEncoding(std::nullopt, "gzip"));
  EXPECT_FALSE(acceptsEncoding("", "gzip"));
  EXPECT_TRUE(acceptsEncoding("gzip", "gzip"));
  EXPECT_TRUE(acceptsEncoding("gzip, deflate, br, zstd", "gzip"));  // Chromium's
  EXPECT_TRUE(acceptsEncoding("br;q=1.0, GZIP;q=0.5", "gzip"));
  EXPECT_TRUE(acceptsEncoding("*", "gzip"));
  EXPECT_FALSE(acceptsEncoding("identity", "gzip"));
  EXPECT_FALSE(acceptsEncoding("deflate, br", "gzip"));
  EXPECT_FALSE(acceptsEncoding("gzip;q=0", "gzip"));
  EXPECT_FALSE(acceptsEncoding("gzip; q=0.000", "gzip"));
  EXPECT_TRUE(acceptsEncoding("gzip;q=0.001", "gzip"));
  // An explicit refusal wins over "*", wherever either stands.
  EXPECT_FALSE(acceptsEncoding("*;q=1, gzip;q=0", "gzip"));
  EXPECT_FALSE(acceptsEncoding("gzip;q=0, *", "gzip"));
  EXPECT_TRUE(acceptsEncoding("*;q=0, gzip", "gzip"));
  EXPECT_FALSE(acceptsEncoding("*;q=0", "gzip"));
  // q in any parameter position.
  EXPECT_FALSE(acceptsEncoding("gzip;foo=1;q=0", "gzip"));
  EXPECT_TRUE(acceptsEncoding("gzip;foo=1;q=0.5", "gzip"));
  // Not a prefix match.
  EXPECT_FALSE(acceptsEncoding("gzipx, x-gzip2", "gzip"));
}

TEST(NegotiationTest, IfNoneMatchListsStarAndWeakTags) {
  const std::string_view tag = "\"abc123\"";
  EXPECT_FALSE(etagMatches(std::nullopt, tag));
  EXPECT_FALSE(etagMatches("", tag));
  EXPECT_TRUE(etagMatches("\"abc123\"", tag));
  EXPECT_TRUE(etagMatches("W/\"abc123\"", tag));
  EXPECT_TRUE(etagMatches("\"x\", \"abc123\"", tag));
  EXPECT_TRUE(etagMatches("*", tag));
  EXPECT_FALSE(etagMatches("\"abc12\"", tag));
  EXPECT_FALSE(etagMatches("abc123", tag));  // unquoted is not the tag
  EXPECT_FALSE(etagMatches("\"x\",\"y\"", tag));
}

}  // namespace
}  // namespace netledger::http
