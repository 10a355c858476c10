#pragma once
// Shared wording for parse errors, so every parser says "what, where" the same way.

#include <string>
#include <string_view>

#include "common/status.h"

namespace netledger::addr {

// `invalid <what> "<text>": <detail> (at position <pos>)`. Long inputs are shortened in the
// message so a hostile 1 MiB string does not come back in an error.
Status parseError(std::string_view what, std::string_view text, std::string_view detail,
                  std::size_t position);
// The same without a position (the problem is the whole input).
Status parseError(std::string_view what, std::string_view text, std::string_view detail);

// `text` cut to a printable excerpt for messages.
std::string quoteForMessage(std::string_view text);

// The value of one hex digit (either case), -1 for any other character.
constexpr int hexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace netledger::addr
