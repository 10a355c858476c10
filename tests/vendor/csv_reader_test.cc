#include "vendor/csv_reader.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace netledger::vendor {
namespace {

using Records = std::vector<std::vector<std::string>>;

// Every record of `text`, or the error message.
Result<Records> readAll(std::string_view text) {
  CsvReader reader("t.csv", text);
  Records out;
  std::vector<std::string> fields;
  while (true) {
    auto more = reader.next(fields);
    if (!more) return more.status();
    if (!*more) return out;
    out.push_back(fields);
  }
}

TEST(CsvReaderTest, PlainAndQuotedFields) {
  auto r = readAll("a,b,c\n1,\"two, with comma\",\"say \"\"hi\"\"\"\n");
  ASSERT_TRUE(r) << r.status().toString();
  EXPECT_EQ(*r, (Records{{"a", "b", "c"}, {"1", "two, with comma", "say \"hi\""}}));
}

TEST(CsvReaderTest, CrlfLineBreaksInQuotesEmptyFieldsAndNoFinalNewline) {
  auto r = readAll("x,\"line1\nline2\",\r\n\r\n,,\"\"\r\nlast,row");
  ASSERT_TRUE(r) << r.status().toString();
  EXPECT_EQ(*r, (Records{{"x", "line1\nline2", ""}, {"", "", ""}, {"last", "row"}}));
}

TEST(CsvReaderTest, RecordLineCountsQuotedLineBreaks) {
  CsvReader reader("t.csv", "h\n\"a\nb\nc\"\nnext\n");
  std::vector<std::string> fields;
  ASSERT_TRUE(reader.next(fields).value());
  EXPECT_EQ(reader.recordLine(), 1u);
  ASSERT_TRUE(reader.next(fields).value());
  EXPECT_EQ(reader.recordLine(), 2u);
  ASSERT_TRUE(reader.next(fields).value());
  EXPECT_EQ(reader.recordLine(), 5u);
  EXPECT_EQ(fields, std::vector<std::string>{"next"});
  EXPECT_FALSE(reader.next(fields).value());
}

TEST(CsvReaderTest, ErrorsNameSourceLineAndField) {
  struct Case {
    std::string text;
    std::string message;
  };
  std::vector<Case> cases = {
      {"a,b\nc,\"open\nnever closed\n", "t.csv:2: field 2: quoted field is never closed"},
      {"a,b\nc,d\"e\n", "t.csv:2: field 2: a quote inside an unquoted field"},
      {"a\n\"x\"y,z\n", "t.csv:2: field 1: text after the closing quote"},
      {"\"multi\nline\" x\n", "t.csv:2: field 1: text after the closing quote"},
  };
  for (const auto& c : cases) {
    auto r = readAll(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(r.status().message().starts_with(c.message)) << r.status().message();
  }
}

// Property: any table of fields written the RFC 4180 way (quoting when needed) reads back
// exactly, with LF or CRLF record ends.
TEST(CsvReaderTest, PropertyWriteThenReadRoundTrips) {
  std::mt19937_64 rng(7);
  const std::string alphabet = "ab ,\"\n\r;x\xc3\xa9";
  for (int round = 0; round < 2000; ++round) {
    Records table(1 + rng() % 5);
    const std::size_t width = 1 + rng() % 4;
    const char* eol = rng() % 2 ? "\r\n" : "\n";
    std::string text;
    for (auto& record : table) {
      record.resize(width);
      for (std::size_t i = 0; i < width; ++i) {
        std::string& f = record[i];
        for (std::size_t n = rng() % 6; n > 0; --n) f.push_back(alphabet[rng() % alphabet.size()]);
        bool quote = f.find_first_of(",\"\n\r") != std::string::npos || (width == 1 && f.empty());
        if (i > 0) text += ',';
        if (!quote) {
          text += f;
          continue;
        }
        text += '"';
        for (char c : f) text += c == '"' ? std::string("\"\"") : std::string(1, c);
        text += '"';
      }
      text += eol;
    }
    auto r = readAll(text);
    ASSERT_TRUE(r) << r.status().toString() << "\n" << text;
    EXPECT_EQ(*r, table) << text;
  }
}

}  // namespace
}  // namespace netledger::vendor
