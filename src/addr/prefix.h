#pragma once
// A CIDR prefix (network address + length) and the arithmetic on it.

#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "addr/ip_address.h"
#include "addr/uint128.h"
#include "common/status.h"

namespace netledger::addr {

class Prefix {
 public:
  Prefix() = default;  // 0.0.0.0/0
  // The prefix of `length` bits that contains `address` (host bits are cleared).
  static Prefix containing(IpAddress address, int length);

  // Strict network form "198.51.100.0/24" or "2001:db8::/32". Host bits set is an error with a
  // hint ("host bits set; did you mean 198.51.100.0/24?"); a missing "/len" is an error.
  static Result<Prefix> parse(std::string_view text);
  // Like parse, but "198.51.100.7/24" is accepted and the host bits are cleared. For
  // interface-style input (`ip addr` output), where the address part is meaningful elsewhere.
  static Result<Prefix> parseLoose(std::string_view text);

  const IpAddress& network() const { return network_; }
  int length() const { return length_; }
  IpFamily family() const { return network_.family(); }
  int hostBits() const { return network_.width() - length_; }

  IpAddress first() const { return network_; }
  IpAddress last() const;
  // IPv4 netmask (255.255.255.0) / IPv6 mask as an address of the family.
  IpAddress netmask() const;
  AddressCount size() const { return AddressCount::twoToThe(hostBits()); }

  // Usable hosts: all addresses for IPv6 and for IPv4 /31 and /32 (RFC 3021); otherwise the
  // IPv4 network and broadcast addresses are excluded.
  IpAddress firstUsable() const;
  IpAddress lastUsable() const;
  AddressCount usableCount() const;
  bool hasNetworkAndBroadcast() const { return family() == IpFamily::kV4 && length_ < 31; }

  bool contains(const IpAddress& a) const;
  bool contains(const Prefix& other) const;
  bool overlaps(const Prefix& other) const;

  // The sub-prefixes of `new_length` bits, in address order. Refused when `new_length` is
  // shorter than this prefix or longer than the family allows, or when there would be more than
  // `max_count` of them (a /8 into /32s is 16 M prefixes: almost surely a mistake).
  Result<std::vector<Prefix>> split(int new_length, std::size_t max_count = 65536) const;

  std::string toString() const;

  friend bool operator==(const Prefix&, const Prefix&) = default;
  friend std::strong_ordering operator<=>(const Prefix& a, const Prefix& b) {
    if (auto c = a.network_ <=> b.network_; c != 0) return c;
    return a.length_ <=> b.length_;
  }

 private:
  Prefix(IpAddress network, int length) : network_(network), length_(length) {}
  static Result<Prefix> parseImpl(std::string_view text, bool strict);

  IpAddress network_;
  int length_ = 0;
};

// The smallest list of prefixes that covers exactly [first, last] (same family, first <= last),
// in address order. At most 2 * width entries.
Result<std::vector<Prefix>> summarizeRange(const IpAddress& first, const IpAddress& last);

// The host-bit mask for a prefix length in a family.
uint128 hostMask(IpFamily family, int length);

}  // namespace netledger::addr
