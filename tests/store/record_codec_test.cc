// The SQLite column encodings: exact formats (they are the file format) and refusal, never a
// throw, on malformed stored text.
#include "store/sqlite/record_codec.h"

#include <gtest/gtest.h>

#include "store/store_test_util.h"

namespace netledger::store::sqlite {
namespace {

using namespace testing_util;  // NOLINT: test helpers

TEST(RecordCodecTest, AddressesAreCompactAndEscapeSeparatorsInPoolNames) {
  std::vector<ledger::BoundAddress> in = {{ip("10.0.0.1"), "lab"},
                                          {ip("2001:db8::1"), "v6"},
                                          {ip("10.0.0.2"), "a|b,c%d"},
                                          {ip("10.0.0.3"), ""}};
  std::string text = encodeAddresses(in);
  EXPECT_EQ(text, "lab|10.0.0.1,v6|2001:db8::1,a%7Cb%2Cc%25d|10.0.0.2,|10.0.0.3");
  std::vector<ledger::BoundAddress> out;
  NL_ASSERT_OK(decodeAddresses(text, out));
  EXPECT_EQ(out, in);
  NL_ASSERT_OK(decodeAddresses("", out));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(encodeAddresses({}), "");
}

TEST(RecordCodecTest, MalformedAddressesAreRefused) {
  std::vector<ledger::BoundAddress> out;
  for (const char* bad : {"lab", "lab|", "lab|10.0.0.256", "lab|10.0.0.1,", "a%2|10.0.0.1",
                          "a%zz|10.0.0.1", "|::g"}) {
    Status s = decodeAddresses(bad, out);
    EXPECT_FALSE(s.isOk()) << bad;
  }
}

TEST(RecordCodecTest, LabelsAreAJsonObjectOrEmpty) {
  EXPECT_EQ(encodeLabels({}), "");
  ledger::Labels in = trickyLabels();
  std::string text = encodeLabels(in);
  ledger::Labels out;
  NL_ASSERT_OK(decodeLabels(text, out));
  EXPECT_EQ(out, in);
  EXPECT_EQ(encodeLabels({{"a", "b\"c"}}), R"({"a":"b\"c"})");
  NL_ASSERT_OK(decodeLabels("", out));
  EXPECT_TRUE(out.empty());
}

TEST(RecordCodecTest, PlainAndEscapedLabelsDecodeAlike) {
  // Escape-free labels take the start-up fast path, others Boost.JSON: same result either way.
  ledger::Labels out;
  NL_ASSERT_OK(decodeLabels(R"({"a":"1","b":"x y","c":"\u00fc"})", out));
  EXPECT_EQ(out, (ledger::Labels{{"a", "1"}, {"b", "x y"}, {"c", "\xc3\xbc"}}));
  NL_ASSERT_OK(decodeLabels(R"({"z":"1","a":"2"})", out));  // unsorted input is fine too
  EXPECT_EQ(out, (ledger::Labels{{"a", "2"}, {"z", "1"}}));
  NL_ASSERT_OK(decodeLabels("{}", out));
  EXPECT_TRUE(out.empty());
  NL_ASSERT_OK(decodeLabels(R"( {"a" : "1"} )", out));  // whitespace: the general path
  EXPECT_EQ(out, (ledger::Labels{{"a", "1"}}));
  for (const char* bad : {R"({"a":"1")", R"({"a":"1",})", R"({"a":"1"}})", R"({"a":1})",
                          R"({"a""1"})", R"({"a":"1"]})", "{\"a\":\"\x01\"}"}) {
    EXPECT_EQ(decodeLabels(bad, out).code(), StatusCode::kInternal) << bad;
  }
}

TEST(RecordCodecTest, LabelsWithInvalidUtf8StillRoundTrip) {
  ledger::Labels in = {{"k", std::string("\xff\xfe", 2)}};
  ledger::Labels out;
  NL_ASSERT_OK(decodeLabels(encodeLabels(in), out));
  EXPECT_EQ(out, in);
}

TEST(RecordCodecTest, MalformedJsonIsAStatusNotAThrow) {
  ledger::Labels labels;
  for (const char* bad : {"{", "[]", "{\"a\":1}", "nul", "{\"a\":\"b\"} x"}) {
    EXPECT_EQ(decodeLabels(bad, labels).code(), StatusCode::kInternal) << bad;
  }
  std::vector<std::string> list;
  for (const char* bad : {"", "{}", "[1]", "[\"a\""}) {
    EXPECT_EQ(decodeStringList(bad, list).code(), StatusCode::kInternal) << bad;
  }
  ledger::PoolRecord pool;
  for (const char* bad :
       {"", "[]", R"({"cidrs":"10.0.0.0/8"})", R"({"cidrs":[1]})", R"({"cidrs":["10.0.0.1/8"]})",
        R"({"gateway":"x"})", R"({"threshold":"high"})", R"({"auto_expand":1})",
        R"({"ranges":["10.0.0.9-10.0.0.1"]})"}) {
    EXPECT_FALSE(decodePoolData(bad, pool).isOk()) << bad;
  }
}

TEST(RecordCodecTest, PoolDataRoundTripsAndKeepsDefaultsForAbsentMembers) {
  ledger::PoolRecord in = fullPool("lab");
  ledger::PoolRecord out;
  NL_ASSERT_OK(decodePoolData(encodePoolData(in), out));
  out.name = in.name;
  out.version = in.version;
  out.created_at = in.created_at;
  out.updated_at = in.updated_at;
  EXPECT_EQ(render(out), render(in));

  ledger::PoolRecord defaults;
  NL_ASSERT_OK(decodePoolData("{}", defaults));
  EXPECT_EQ(render(defaults), render(ledger::PoolRecord{}));
  // Unknown members (from a newer writer) are ignored.
  NL_ASSERT_OK(decodePoolData(R"({"future":{"x":1},"tenant":"t"})", defaults));
  EXPECT_EQ(defaults.tenant, "t");
}

TEST(RecordCodecTest, StateCodesAreFixed) {
  EXPECT_EQ(bindingStateCode(ledger::BindingState::kReserved), 0);
  EXPECT_EQ(bindingStateCode(ledger::BindingState::kActive), 1);
  EXPECT_EQ(bindingStateCode(ledger::BindingState::kReleased), 2);
  EXPECT_EQ(bindingStateCode(ledger::BindingState::kExpired), 3);
  for (std::int64_t code = 0; code < 4; ++code) {
    EXPECT_EQ(bindingStateCode(bindingStateFromCode(code).value()), code);
  }
  EXPECT_FALSE(bindingStateFromCode(4).isOk());
  EXPECT_FALSE(bindingStateFromCode(-1).isOk());
}

}  // namespace
}  // namespace netledger::store::sqlite
