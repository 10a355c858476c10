#pragma once
// MAC-48 addresses, MAC prefixes (for MAC pools) and RFC 4291 modified EUI-64.

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "addr/ipv6.h"
#include "addr/prefix.h"
#include "common/status.h"

namespace netledger::addr {

class Mac {
 public:
  static constexpr std::uint64_t kMask = 0xffff'ffff'ffffull;

  constexpr Mac() = default;
  constexpr explicit Mac(std::uint64_t value) : value_(value & kMask) {}

  // Accepts, case-insensitively: "aa:bb:cc:dd:ee:ff", "aa-bb-cc-dd-ee-ff", "aabb.ccdd.eeff"
  // (Cisco) and "aabbccddeeff". Every octet has both hex digits; separators are not mixed.
  static Result<Mac> parse(std::string_view text);

  constexpr std::uint64_t value() const { return value_; }
  constexpr std::uint8_t octet(int i) const {
    return static_cast<std::uint8_t>(value_ >> (40 - 8 * i));
  }

  // I/G bit (least significant bit of the first octet).
  constexpr bool isMulticast() const { return (octet(0) & 0x01) != 0; }
  constexpr bool isUnicast() const { return !isMulticast(); }
  // U/L bit (second least significant bit of the first octet).
  constexpr bool isLocallyAdministered() const { return (octet(0) & 0x02) != 0; }
  constexpr bool isUniversal() const { return !isLocallyAdministered(); }
  constexpr bool isBroadcast() const { return value_ == kMask; }
  constexpr bool isZero() const { return value_ == 0; }
  // The first three octets (the IEEE OUI for a universal address).
  constexpr std::uint32_t oui() const { return static_cast<std::uint32_t>(value_ >> 24); }
  std::string ouiString() const;  // "00:1a:2b"

  // RFC 4291 appendix A modified EUI-64 interface identifier: ff:fe inserted in the middle and
  // the U/L bit inverted. 00:1a:2b:3c:4d:5e -> 021a:2bff:fe3c:4d5e.
  std::uint64_t modifiedEui64() const;
  std::string modifiedEui64String() const;  // "021a:2bff:fe3c:4d5e"

  // Canonical lower-case colon form.
  std::string toString() const;
  std::size_t format(char* out) const;  // 17 bytes

  friend constexpr auto operator<=>(Mac, Mac) = default;

 private:
  std::uint64_t value_ = 0;
};

struct MacHash {
  std::size_t operator()(Mac m) const noexcept {
    std::uint64_t h = m.value() * 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
};

// The SLAAC address (RFC 4862) of a MAC in a /64: prefix bits + modified EUI-64. Any other
// prefix length is refused: the interface identifier of Ethernet is 64 bits (RFC 2464).
Result<Ipv6> slaacAddress(const Prefix& prefix, Mac mac);

// A MAC prefix of 8 to 44 bits: the fixed leading part of a MAC pool.
class MacPrefix {
 public:
  static constexpr int kMinBits = 8;
  static constexpr int kMaxBits = 44;

  // "52:54:00" (whole octets: 8 bits each) or "MAC/len" ("02:00:00:00:00:00/20", also with
  // fewer octets "02:00:00/20"). Bits beyond the length must be zero (with a hint).
  static Result<MacPrefix> parse(std::string_view text);
  // `bits` in 8..44 and no bits set past it; the first octet must be unicast.
  static Result<MacPrefix> make(Mac base, int bits);

  Mac base() const { return base_; }
  int bits() const { return bits_; }
  int suffixBits() const { return 48 - bits_; }
  std::uint64_t size() const { return std::uint64_t{1} << suffixBits(); }
  bool contains(Mac m) const {
    return (m.value() >> suffixBits()) == (base_.value() >> suffixBits());
  }
  Mac at(std::uint64_t suffix) const { return Mac(base_.value() | (suffix & (size() - 1))); }
  // A prefix is an IEEE OUI when the U/L bit is clear: generated MACs are then universal.
  bool isOui() const { return base_.isUniversal(); }

  // "52:54:00/24", always with the length.
  std::string toString() const;

  friend bool operator==(const MacPrefix&, const MacPrefix&) = default;

 private:
  MacPrefix(Mac base, int bits) : base_(base), bits_(bits) {}
  Mac base_;
  int bits_ = 24;
};

}  // namespace netledger::addr
