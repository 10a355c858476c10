// JsonBody::optInt: integers only as JSON writes them; a fraction, an exponent or a value beyond
// the bounds is refused naming the field, never truncated or rounded.
#include "server/api/json_input.h"

#include <gtest/gtest.h>

#include <string>

namespace netledger::server {
namespace {

Result<std::optional<std::int64_t>> readInt(const std::string& body, std::int64_t min = 0,
                                            std::int64_t max = 1'000'000) {
  auto parsed = JsonBody::parse(body);
  EXPECT_TRUE(parsed.isOk()) << parsed.status().toString();
  return parsed->optInt("ttl_s", min, max);
}

void expectRefused(const std::string& body, const std::string& what, std::int64_t min = 0,
                   std::int64_t max = 1'000'000) {
  auto v = readInt(body, min, max);
  ASSERT_FALSE(v.isOk()) << body;
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument) << body;
  EXPECT_EQ(v.status().message().rfind("ttl_s: " + what, 0), 0u)
      << body << " -> " << v.status().message();
}

TEST(JsonBodyIntTest, ReadsIntegersOfEveryJsonKind) {
  EXPECT_EQ(readInt(R"({"ttl_s": 3600})").value(), 3600);
  EXPECT_EQ(readInt(R"({"ttl_s": -5})", -10, 10).value(), -5);
  EXPECT_EQ(readInt(R"({"ttl_s": 9223372036854775807})", 0, INT64_MAX).value(), INT64_MAX);
  EXPECT_FALSE(readInt(R"({"ttl_s": null})").value().has_value());
  EXPECT_FALSE(readInt(R"({})").value().has_value());
}

TEST(JsonBodyIntTest, FractionsAndExponentsAreRefused) {
  expectRefused(R"({"ttl_s": 1e-400})", "must be an integer");  // underflows to 0.0
  expectRefused(R"({"ttl_s": 1.5})", "must be an integer");
  expectRefused(R"({"ttl_s": 60.0})", "must be an integer");
  expectRefused(R"({"ttl_s": 1e3})", "must be an integer");
  expectRefused(R"({"ttl_s": -0.0})", "must be an integer");
  expectRefused(R"({"ttl_s": "60"})", "must be an integer");
  expectRefused(R"({"ttl_s": true})", "must be an integer");
}

TEST(JsonBodyIntTest, OutOfRangeNamesTheBounds) {
  expectRefused(R"({"ttl_s": 1000001})", "must be 0 to 1000000");
  expectRefused(R"({"ttl_s": -1})", "must be 0 to 1000000");
  // Beyond int64 (Boost.JSON: uint64) and beyond uint64 (a double): out of range, not wrapped.
  expectRefused(R"({"ttl_s": 18446744073709551615})", "must be 0 to 1000000");
  expectRefused(R"({"ttl_s": 9223372036854775808})", "must be 0 to", 0, INT64_MAX);
  expectRefused(R"({"ttl_s": 18446744073709551616})", "must be an integer");
  expectRefused(R"({"ttl_s": 5})", "must be -9 to -1", -9, -1);
}

}  // namespace
}  // namespace netledger::server
