#pragma once
// An IPv4 or IPv6 address. Both families share one 128-bit representation (IPv4 in the low 32
// bits) so that prefixes, ranges and allocators are written once for both.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "addr/ipv4.h"
#include "addr/ipv6.h"
#include "addr/uint128.h"
#include "common/status.h"

namespace netledger::addr {

enum class IpFamily : std::uint8_t { kV4 = 4, kV6 = 6 };

// 32 or 128.
constexpr int familyWidth(IpFamily f) { return f == IpFamily::kV4 ? 32 : 128; }
std::string_view familyName(IpFamily f);  // "IPv4" / "IPv6"

class IpAddress {
 public:
  constexpr IpAddress() = default;                                             // 0.0.0.0
  constexpr IpAddress(Ipv4 v4) : bits_(v4.value()), family_(IpFamily::kV4) {}  // NOLINT
  constexpr IpAddress(Ipv6 v6) : bits_(v6.value()), family_(IpFamily::kV6) {}  // NOLINT
  // `bits` must fit the family (32 bits for IPv4).
  static constexpr IpAddress fromBits(IpFamily family, uint128 bits) {
    IpAddress a;
    a.family_ = family;
    a.bits_ = family == IpFamily::kV4 ? (bits & 0xffffffffu) : bits;
    return a;
  }

  // IPv6 if the text has a ':', IPv4 otherwise; the error names the family tried.
  static Result<IpAddress> parse(std::string_view text);

  constexpr IpFamily family() const { return family_; }
  constexpr bool isV4() const { return family_ == IpFamily::kV4; }
  constexpr bool isV6() const { return family_ == IpFamily::kV6; }
  constexpr int width() const { return familyWidth(family_); }
  constexpr uint128 bits() const { return bits_; }
  Ipv4 v4() const { return Ipv4(static_cast<std::uint32_t>(bits_)); }
  Ipv6 v6() const { return Ipv6(bits_); }

  // The following / preceding address of the same family; nullopt past the end of the space.
  std::optional<IpAddress> next() const;
  std::optional<IpAddress> prev() const;
  // This address plus `offset`, or nullopt if that leaves the family's space.
  std::optional<IpAddress> plus(uint128 offset) const;

  std::string toString() const;

  // IPv4 orders before IPv6; within a family, numerically.
  friend constexpr bool operator==(const IpAddress&, const IpAddress&) = default;
  friend constexpr std::strong_ordering operator<=>(const IpAddress& a, const IpAddress& b) {
    if (a.family_ != b.family_) return a.family_ <=> b.family_;
    return a.bits_ <=> b.bits_;
  }

 private:
  uint128 bits_ = 0;
  IpFamily family_ = IpFamily::kV4;
};

struct IpAddressHash {
  std::size_t operator()(const IpAddress& a) const noexcept {
    return Uint128Hash{}(a.bits()) ^ static_cast<std::size_t>(a.family());
  }
};

}  // namespace netledger::addr
