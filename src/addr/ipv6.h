#pragma once
// An IPv6 address as a 128-bit integer (most significant bit = first bit on the wire).

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "addr/uint128.h"
#include "common/status.h"

namespace netledger::addr {

class Ipv6 {
 public:
  constexpr Ipv6() = default;
  constexpr explicit Ipv6(uint128 value) : value_(value) {}
  static Ipv6 fromBytes(const std::array<std::uint8_t, 16>& bytes);

  // RFC 4291 section 2.2 text forms: eight groups of 1-4 hex digits, one "::" for one or more
  // zero groups, an embedded dotted IPv4 in the last 32 bits. Zone indexes ("%eth0") are
  // refused: a ledger address has no zone.
  static Result<Ipv6> parse(std::string_view text);

  constexpr uint128 value() const { return value_; }
  std::array<std::uint8_t, 16> toBytes() const;
  std::uint16_t group(int i) const { return static_cast<std::uint16_t>(value_ >> (112 - 16 * i)); }

  // RFC 5952 canonical text: lower case, no leading zeros, the longest run (first on a tie) of
  // two or more zero groups as "::", and ::ffff:a.b.c.d for IPv4-mapped addresses.
  std::string toString() const;
  // Writes the canonical text into `out` (at least 45 bytes) and returns its length.
  std::size_t format(char* out) const;

  friend constexpr auto operator<=>(Ipv6, Ipv6) = default;

 private:
  uint128 value_ = 0;
};

}  // namespace netledger::addr
