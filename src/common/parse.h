#pragma once
// Integers from text (query parameters, path segments, cursors, config values): decimal digits
// only — no sign on unsigned values, no spaces, no fraction or exponent, no leading '+' — and
// within the caller's bounds. Every error is kInvalidArgument and names the field:
//
//   auto limit = parseInteger("limit", "250", 1, 1000);        // 250
//   auto seq = parseUnsigned("cursor", "x1", UINT64_MAX);       // cursor: "x1" is not an integer

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "common/status.h"

namespace netledger {

Result<std::int64_t> parseInteger(std::string_view field, std::string_view text,
                                  std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                                  std::int64_t max = std::numeric_limits<std::int64_t>::max());

Result<std::uint64_t> parseUnsigned(std::string_view field, std::string_view text,
                                    std::uint64_t max = std::numeric_limits<std::uint64_t>::max());

// Text the API stores or echoes never carries control characters (C0 or DEL: NUL, ESC, line
// breaks): they would reach logs, terminals and exports verbatim. The one rule every reader of
// text applies (request targets, JSON strings, observations, ledger records).
bool hasControlCharacter(std::string_view text);
// kInvalidArgument "<field>: control characters are not allowed" when `text` has one.
Status refuseControlCharacters(std::string_view field, std::string_view text);

// `text` with A-Z turned to a-z and every other byte kept (tokens that compare case-blind:
// schemes, transfer codings, media types, protocols), whatever the locale.
std::string asciiLower(std::string_view text);

}  // namespace netledger
