#pragma once
// Enum <-> API name tables (frame kinds, sources, conflict kinds, severities, ...): one
// definition of "name of" and of the parse error that lists what is allowed.

#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace netledger::detail {

template <typename Enum, std::size_t N>
using Names = std::array<std::pair<Enum, std::string_view>, N>;

template <typename Enum, std::size_t N>
std::string_view nameOf(const Names<Enum, N>& table, Enum e) {
  for (const auto& [value, name] : table) {
    if (value == e) return name;
  }
  return "unknown";
}

// `what: "text" is not one of a|b|c` (kInvalidArgument) unless `text` is a name of the table.
template <typename Enum, std::size_t N>
Result<Enum> parseOf(const Names<Enum, N>& table, std::string_view text, std::string_view what) {
  std::string allowed;
  for (const auto& [value, name] : table) {
    if (name == text) return value;
    if (!allowed.empty()) allowed += "|";
    allowed += name;
  }
  return Status::invalidArgument(std::string(what) + ": \"" + std::string(text) +
                                 "\" is not one of " + allowed);
}

}  // namespace netledger::detail
