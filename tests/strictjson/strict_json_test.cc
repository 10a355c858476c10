// strictjson::parse: the same values as Boost.JSON's own parser for every document without a
// repeated member name (a property test over random documents), and a clear refusal naming the
// key for every document with one, however deep or large the object.
#include "strictjson/strict_json.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace netledger::strictjson {
namespace {

namespace json = boost::json;

// A random JSON value; object keys come from a small alphabet, so repeats are likely unless
// `unique` (then each object's keys are distinct).
json::value randomValue(std::mt19937& rng, int depth, bool unique) {
  std::uniform_int_distribution<int> kind(0, depth > 3 ? 4 : 6);
  switch (kind(rng)) {
    case 0:
      return nullptr;
    case 1:
      return static_cast<std::int64_t>(rng() % 2000) - 1000;
    case 2:
      return (rng() % 2) == 0;
    case 3:
      return static_cast<double>(rng() % 1000) / 8.0;
    case 4:
      return json::string(std::string(rng() % 5, static_cast<char>('a' + rng() % 26)));
    case 5: {
      json::array a;
      for (unsigned i = 0, n = rng() % 4; i < n; ++i)
        a.push_back(randomValue(rng, depth + 1, unique));
      return a;
    }
    default: {
      json::object o;
      for (unsigned i = 0, n = rng() % 6; i < n; ++i) {
        std::string key(1, static_cast<char>('a' + (unique ? i : rng() % 3)));
        o[key] = randomValue(rng, depth + 1, unique);
      }
      return o;
    }
  }
}

TEST(StrictJsonTest, AgreesWithBoostJsonOnDocumentsWithoutRepeats) {
  std::mt19937 rng(1207);
  for (int i = 0; i < 3000; ++i) {
    const std::string text = json::serialize(randomValue(rng, 0, true));
    auto got = parse(text);
    ASSERT_TRUE(got.isOk()) << text << ": " << got.status().toString();
    EXPECT_EQ(*got, json::parse(text)) << text;
  }
}

TEST(StrictJsonTest, ARepeatInsertedAnywhereIsRefusedNamingTheKey) {
  std::mt19937 rng(7);
  int checked = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = json::serialize(randomValue(rng, 0, true));
    // Repeat the first key of a random object: `{"k":v` becomes `{"k":0,"k":v`.
    std::vector<std::size_t> objects;
    for (auto at = text.find("{\""); at != std::string::npos; at = text.find("{\"", at + 1)) {
      objects.push_back(at);
    }
    if (objects.empty()) continue;
    const std::size_t open = objects[rng() % objects.size()];
    auto colon = text.find("\":", open);
    std::string key = text.substr(open + 2, colon - open - 2);
    text.insert(open + 1, "\"" + key + "\":0,");
    auto got = parse(text);
    ASSERT_FALSE(got.isOk()) << text;
    EXPECT_EQ(got.status().message().rfind("duplicate key \"" + key + "\"", 0), 0u)
        << text << " -> " << got.status().message();
    ++checked;
  }
  EXPECT_GT(checked, 300);
}

TEST(StrictJsonTest, LargeObjectsUseTheSetAndStillFindTheRepeat) {
  std::string text = "{";
  for (int i = 0; i < 5000; ++i)
    text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  auto fine = parse(text.substr(0, text.size() - 1) + "}");
  ASSERT_TRUE(fine.isOk());
  EXPECT_EQ(fine->as_object().size(), 5000u);
  auto repeated = parse(text + "\"k4321\":0}");
  ASSERT_FALSE(repeated.isOk());
  EXPECT_EQ(repeated.status().message().rfind("duplicate key \"k4321\"", 0), 0u);
  // The same names again in a sibling object are not repeats.
  EXPECT_TRUE(parse(R"({"a":{"x":1,"y":2},"b":{"x":1,"y":2}})").isOk());
}

TEST(StrictJsonTest, MalformedTrailingAndTooDeepAreErrorsWithTheOffset) {
  for (const char* text : {"", "{", R"({"a":})", R"({"a":1} x)", "[1,2,]", "nul"}) {
    auto got = parse(text);
    ASSERT_FALSE(got.isOk()) << text;
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(got.status().message().rfind("malformed JSON near offset ", 0), 0u)
        << text << " -> " << got.status().message();
  }
  std::string deep(33, '[');
  deep += std::string(33, ']');
  EXPECT_FALSE(parse(deep).isOk());
  EXPECT_TRUE(parse(deep.substr(1, 64)).isOk());  // 32 levels
  Limits shallow;
  shallow.max_depth = 2;
  EXPECT_FALSE(parse("[[[1]]]", shallow).isOk());
}

TEST(StrictJsonTest, EscapedKeysAreComparedDecoded) {
  // "\u0061" is "a": the same name written two ways is still a repeat.
  auto got = parse(R"({"a":1,"\u0061":2})");
  ASSERT_FALSE(got.isOk());
  EXPECT_EQ(got.status().message().rfind("duplicate key \"a\"", 0), 0u);
}

}  // namespace
}  // namespace netledger::strictjson
