#include "addr/prefix.h"

#include <charconv>

#include "addr/parse_error.h"

namespace netledger::addr {

namespace {
constexpr std::string_view kPrefixWhat = "prefix";
}

uint128 hostMask(IpFamily family, int length) { return lowMask(familyWidth(family) - length); }

Prefix Prefix::containing(IpAddress address, int length) {
  return Prefix(
      IpAddress::fromBits(address.family(), address.bits() & ~hostMask(address.family(), length)),
      length);
}

Result<Prefix> Prefix::parse(std::string_view text) { return parseImpl(text, true); }
Result<Prefix> Prefix::parseLoose(std::string_view text) { return parseImpl(text, false); }

Result<Prefix> Prefix::parseImpl(std::string_view text, bool strict) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return parseError(kPrefixWhat, text, "missing '/length' (e.g. 198.51.100.0/24)");
  }
  auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return address.status().withContext("prefix address");
  std::string_view len_text = text.substr(slash + 1);
  int length = -1;
  auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), length);
  if (len_text.empty() || ec != std::errc() || end != len_text.data() + len_text.size() ||
      (len_text.size() > 1 && len_text[0] == '0')) {
    return parseError(kPrefixWhat, text, "length must be a decimal number", slash + 1);
  }
  int width = address->width();
  if (length < 0 || length > width) {
    return parseError(kPrefixWhat, text,
                      "length " + std::to_string(length) + " is out of range 0.." +
                          std::to_string(width) + " for " +
                          std::string(familyName(address->family())),
                      slash + 1);
  }
  Prefix p = containing(*address, length);
  if (strict && p.network_ != *address) {
    return parseError(kPrefixWhat, text, "host bits set; did you mean " + p.toString() + "?");
  }
  return p;
}

IpAddress Prefix::last() const {
  return IpAddress::fromBits(family(), network_.bits() | hostMask(family(), length_));
}

IpAddress Prefix::netmask() const {
  return IpAddress::fromBits(family(), lowMask(network_.width()) & ~hostMask(family(), length_));
}

IpAddress Prefix::firstUsable() const {
  return hasNetworkAndBroadcast() ? *network_.next() : network_;
}

IpAddress Prefix::lastUsable() const { return hasNetworkAndBroadcast() ? *last().prev() : last(); }

AddressCount Prefix::usableCount() const {
  if (!hasNetworkAndBroadcast()) return size();
  return AddressCount(size().saturated() - 2);
}

bool Prefix::contains(const IpAddress& a) const {
  return a.family() == family() && (a.bits() & ~hostMask(family(), length_)) == network_.bits();
}

bool Prefix::contains(const Prefix& other) const {
  return other.family() == family() && other.length_ >= length_ && contains(other.network_);
}

bool Prefix::overlaps(const Prefix& other) const {
  return contains(other) || other.contains(*this);
}

Result<std::vector<Prefix>> Prefix::split(int new_length, std::size_t max_count) const {
  if (new_length < length_ || new_length > network_.width()) {
    return Status::invalidArgument("cannot split " + toString() + " into /" +
                                   std::to_string(new_length) + ": the new length must be " +
                                   std::to_string(length_) + ".." +
                                   std::to_string(network_.width()));
  }
  int extra = new_length - length_;
  if (extra >= 63 || (std::uint64_t{1} << extra) > max_count) {
    return Status::invalidArgument(
        "splitting " + toString() + " into /" + std::to_string(new_length) + " gives 2^" +
        std::to_string(extra) + " prefixes, more than the limit of " + std::to_string(max_count));
  }
  std::uint64_t count = std::uint64_t{1} << extra;
  std::vector<Prefix> out;
  out.reserve(count);
  int step_bits = network_.width() - new_length;
  for (std::uint64_t i = 0; i < count; ++i) {
    // step_bits is 128 only for ::/0 split into /0 (one prefix, i == 0); shifting a 128-bit
    // value by 128 is undefined.
    uint128 bits =
        network_.bits() + (step_bits >= 128 ? uint128{0} : static_cast<uint128>(i) << step_bits);
    out.push_back(Prefix(IpAddress::fromBits(family(), bits), new_length));
  }
  return out;
}

std::string Prefix::toString() const { return network_.toString() + "/" + std::to_string(length_); }

Result<std::vector<Prefix>> summarizeRange(const IpAddress& first, const IpAddress& last) {
  if (first.family() != last.family()) {
    return Status::invalidArgument("range " + first.toString() + " - " + last.toString() +
                                   " mixes IPv4 and IPv6");
  }
  if (last < first) {
    return Status::invalidArgument("range start " + first.toString() + " is after its end " +
                                   last.toString());
  }
  const IpFamily family = first.family();
  const int width = familyWidth(family);
  std::vector<Prefix> out;
  uint128 cur = first.bits();
  const uint128 end = last.bits();
  while (true) {
    // The largest aligned block that starts at `cur` and does not pass `end`.
    int align = countTrailingZeros(cur);
    if (align > width) align = width;
    uint128 span_minus_one = end - cur;  // never overflows
    int fit = span_minus_one == kUint128Max ? 128 : floorLog2(span_minus_one + 1);
    int bits = align < fit ? align : fit;
    out.push_back(Prefix::containing(IpAddress::fromBits(family, cur), width - bits));
    uint128 block_last = cur + lowMask(bits);
    if (block_last >= end) break;
    cur = block_last + 1;
  }
  return out;
}

}  // namespace netledger::addr
