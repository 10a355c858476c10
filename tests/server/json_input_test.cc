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

namespace netledger::server {
namespace {

JsonBody parsedBody(const std::string& text) {
  auto parsed = JsonBody::parse(text);
  EXPECT_TRUE(parsed.isOk()) << text << ": " << parsed.status().toString();
  return std::move(parsed).value();
}

TEST(JsonBodyTextTest, ControlCharactersAreRefusedInEveryTextAccessor) {
  for (const char* c : {"\\u0000", "\\u001b", "\\n", "\\t", "\\u007f"}) {
    SCOPED_TRACE(c);
    const std::string v = std::string("\"a") + c + "b\"";
    auto s = parsedBody(R"({"note":)" + v + "}").optString("note");
    ASSERT_FALSE(s.isOk());
    EXPECT_EQ(s.status().message(), "note: control characters are not allowed");
    EXPECT_FALSE(parsedBody(R"({"pools":[)" + v + "]}").stringArray("pools", 4).isOk());
    auto m = parsedBody(R"({"labels":{"k":)" + v + "}}").stringMap("labels");
    ASSERT_FALSE(m.isOk());
    EXPECT_EQ(m.status().message().rfind("labels.k:", 0), 0u) << m.status().message();
    EXPECT_FALSE(parsedBody(R"({"labels":{)" + v + R"(:"x"}})").stringMap("labels").isOk());
  }
  // Printable text, UTF-8 included, is kept as sent.
  EXPECT_EQ(parsedBody(R"({"note":"r\u00e9seau 10/8"})").string("note").value(),
            "r\xc3\xa9seau 10/8");
}

TEST(JsonBodyTextTest, AMacIsAStationAddress) {
  EXPECT_EQ(parsedBody(R"({"mac":"02:00:00:00:00:01"})").optMac("mac").value()->toString(),
            "02:00:00:00:00:01");
  for (const char* mac :
       {"01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00", "33:33:00:00:00:01"}) {
    auto m = parsedBody(std::string(R"({"host_mac":")") + mac + "\"}").optMac("host_mac");
    ASSERT_FALSE(m.isOk()) << mac;
    EXPECT_NE(m.status().message().find("host_mac: " + std::string(mac) +
                                        " is not a unicast station address"),
              std::string::npos)
        << m.status().message();
  }
}

TEST(JsonBodyParseTest, RepeatedKeysAreRefusedAtAnyDepth) {
  for (const char* text :
       {R"({"a":1,"a":2})", R"({"x":{"a":1,"b":2,"a":3}})", R"({"l":[{"a":1},{"a":1,"a":1}]})"}) {
    auto parsed = JsonBody::parse(text);
    ASSERT_FALSE(parsed.isOk()) << text;
    EXPECT_EQ(parsed.status().message().rfind("body: duplicate key \"a\"", 0), 0u)
        << parsed.status().message();
  }
  // The same name in different objects is not a repeat.
  EXPECT_TRUE(JsonBody::parse(R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]})").isOk());
}

}  // namespace
}  // namespace netledger::server
