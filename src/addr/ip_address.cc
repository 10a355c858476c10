#include "addr/ip_address.h"

namespace netledger::addr {

std::string_view familyName(IpFamily f) { return f == IpFamily::kV4 ? "IPv4" : "IPv6"; }

Result<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.find(':') != std::string_view::npos) {
    auto v6 = Ipv6::parse(text);
    if (!v6) return v6.status();
    return IpAddress(*v6);
  }
  auto v4 = Ipv4::parse(text);
  if (!v4) return v4.status();
  return IpAddress(*v4);
}

std::optional<IpAddress> IpAddress::next() const { return plus(1); }

std::optional<IpAddress> IpAddress::prev() const {
  if (bits_ == 0) return std::nullopt;
  return fromBits(family_, bits_ - 1);
}

std::optional<IpAddress> IpAddress::plus(uint128 offset) const {
  uint128 max = lowMask(width());
  if (offset > max - bits_) return std::nullopt;
  return fromBits(family_, bits_ + offset);
}

std::string IpAddress::toString() const { return isV4() ? v4().toString() : v6().toString(); }

}  // namespace netledger::addr
