// Helpers shared by the addr and alloc tests: parse-or-fail shorthands for literals, the
// rejection-table row used by the parser tests, and the random text edits of the differential
// property tests.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "addr/ip_address.h"
#include "addr/ip_range.h"
#include "addr/mac.h"
#include "addr/prefix.h"
#include "common/status.h"

namespace netledger::addr::testing_util {

// Returns the value `text` parsed to, or (after recording a failure that quotes the parser's
// message) `fallback`, so that the test can go on.
template <typename T>
T parsedOrFail(std::string_view text, const Result<T>& r, T fallback = T()) {
  EXPECT_TRUE(r.isOk()) << text << ": " << r.status().message();
  return r.isOk() ? r.value() : fallback;
}

// Shorthands for literals that must parse.
inline IpAddress ip(std::string_view text) { return parsedOrFail(text, IpAddress::parse(text)); }
inline Prefix cidr(std::string_view text) { return parsedOrFail(text, Prefix::parse(text)); }
inline IpRange range(std::string_view text) { return parsedOrFail(text, IpRange::parse(text)); }
inline Mac mac(std::string_view text) { return parsedOrFail(text, Mac::parse(text)); }
inline MacPrefix macPrefix(std::string_view text) {
  return parsedOrFail(text, MacPrefix::parse(text), MacPrefix::make(Mac(0), 8).value());
}

// The text form of each prefix, in order.
inline std::vector<std::string> texts(const std::vector<Prefix>& prefixes) {
  std::vector<std::string> out;
  for (const auto& p : prefixes) out.push_back(p.toString());
  return out;
}

// One row of a parser's rejection table: the bad input, a fragment the error detail must
// contain, and the position the detail must name (-1: no position expected).
struct Rejection {
  std::string text;
  std::string fragment;
  int position;
};

// Names a row in gtest's output by its input, cut to 64 characters.
inline void PrintTo(const Rejection& r, std::ostream* os) {
  *os << '"' << (r.text.size() > 64 ? r.text.substr(0, 64) + "..." : r.text) << '"';
}

// Expects an error message to hold the row's fragment and, if the row names one, its position.
inline void expectFragmentAndPosition(const std::string& message, const Rejection& row) {
  EXPECT_THAT(message, ::testing::HasSubstr(row.fragment));
  if (row.position >= 0) {
    EXPECT_THAT(message,
                ::testing::HasSubstr("(at position " + std::to_string(row.position) + ")"));
  }
}

// Applies `edits` random edits to `text`: each inserts, erases or replaces one character at a
// random place, the characters drawn from `alphabet` (which should hold the characters that
// matter to the parser under test).
inline std::string mutate(std::string text, std::mt19937_64& rng, std::string_view alphabet,
                          int edits) {
  for (int e = 0; e < edits; ++e) {
    char c = alphabet[rng() % alphabet.size()];
    std::size_t pos = text.empty() ? 0 : rng() % (text.size() + 1);
    switch (rng() % 3) {
      case 0:
        text.insert(pos, 1, c);
        break;
      case 1:
        if (pos < text.size()) text.erase(pos, 1);
        break;
      default:
        if (pos < text.size()) text[pos] = c;
        break;
    }
  }
  return text;
}

// Applies one to three random edits (see above).
inline std::string mutate(std::string text, std::mt19937_64& rng, std::string_view alphabet) {
  int edits = 1 + static_cast<int>(rng() % 3);
  return mutate(std::move(text), rng, alphabet, edits);
}

}  // namespace netledger::addr::testing_util
