#pragma once
// An IPv4 address as a 32-bit host-order integer.

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace netledger::addr {

class Ipv4 {
 public:
  constexpr Ipv4() = default;
  constexpr explicit Ipv4(std::uint32_t value) : value_(value) {}

  // Strict dotted-quad: exactly four decimal octets 0..255, no leading zeros (they are octal
  // in inet_aton and so ambiguous), no spaces. The error says what is wrong and at which
  // (0-based) position.
  static Result<Ipv4> parse(std::string_view text);

  constexpr std::uint32_t value() const { return value_; }
  std::string toString() const;
  // Writes the dotted-quad into `out` (at least 15 bytes) and returns its length.
  std::size_t format(char* out) const;

  friend constexpr auto operator<=>(Ipv4, Ipv4) = default;

 private:
  std::uint32_t value_ = 0;
};

}  // namespace netledger::addr
