#pragma once
// 128-bit arithmetic for IPv6 and address counts. GCC and Clang's unsigned __int128 is exact
// and fast; this header adds the few helpers the standard library lacks for it.

#include <compare>
#include <cstdint>
#include <string>

namespace netledger::addr {

using uint128 = unsigned __int128;

inline constexpr uint128 kUint128Max = ~uint128{0};

// Mask of the `bits` lowest bits (0..128).
constexpr uint128 lowMask(int bits) {
  return bits >= 128 ? kUint128Max : (bits <= 0 ? uint128{0} : (uint128{1} << bits) - 1);
}

// Trailing zero bits of v (128 for v == 0). std::countr_zero does not take __int128.
constexpr int countTrailingZeros(uint128 v) {
  if (v == 0) return 128;
  auto lo = static_cast<std::uint64_t>(v);
  return lo != 0 ? __builtin_ctzll(lo) : 64 + __builtin_ctzll(static_cast<std::uint64_t>(v >> 64));
}

// floor(log2(v)) for v > 0.
constexpr int floorLog2(uint128 v) {
  auto hi = static_cast<std::uint64_t>(v >> 64);
  return hi != 0 ? 127 - __builtin_clzll(hi) : 63 - __builtin_clzll(static_cast<std::uint64_t>(v));
}

// Decimal text of a 128-bit value.
std::string toDecimal(uint128 v);

// Hash mixing for 128-bit keys in hash maps.
struct Uint128Hash {
  std::size_t operator()(uint128 v) const noexcept {
    std::uint64_t lo = static_cast<std::uint64_t>(v), hi = static_cast<std::uint64_t>(v >> 64);
    std::uint64_t h = lo * 0x9E3779B97F4A7C15ull ^ (hi + 0x632BE59BD9B4E019ull + (lo << 6));
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 32;
    return static_cast<std::size_t>(h);
  }
};

// A number of addresses: 0 to 2^128 inclusive. ::/0 holds 2^128 addresses, one more than a
// uint128 can represent, so a plain uint128 would silently wrap to 0 there.
class AddressCount {
 public:
  constexpr AddressCount() = default;
  constexpr AddressCount(uint128 v) : value_(v) {}  // NOLINT: implicit by design
  static constexpr AddressCount twoToThe(int bits) {
    AddressCount c;
    if (bits >= 128) {
      c.full_ = true;
    } else {
      c.value_ = uint128{1} << bits;
    }
    return c;
  }
  // True only for exactly 2^128.
  constexpr bool isTwoTo128() const { return full_; }
  // The value, saturated at 2^128 - 1.
  constexpr uint128 saturated() const { return full_ ? kUint128Max : value_; }
  double toDouble() const;
  std::string toString() const;
  friend constexpr bool operator==(const AddressCount&, const AddressCount&) = default;
  friend constexpr std::strong_ordering operator<=>(const AddressCount& a, const AddressCount& b) {
    if (a.full_ != b.full_)
      return a.full_ ? std::strong_ordering::greater : std::strong_ordering::less;
    return a.value_ <=> b.value_;
  }

 private:
  uint128 value_ = 0;
  bool full_ = false;
};

}  // namespace netledger::addr
