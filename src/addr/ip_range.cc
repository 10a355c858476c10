#include "addr/ip_range.h"

#include "addr/parse_error.h"

namespace netledger::addr {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

Result<IpRange> IpRange::make(IpAddress first, IpAddress last) {
  if (first.family() != last.family()) {
    return Status::invalidArgument("range " + first.toString() + "-" + last.toString() +
                                   " mixes IPv4 and IPv6");
  }
  if (last < first) {
    return Status::invalidArgument("range " + first.toString() + "-" + last.toString() +
                                   ": start is after end");
  }
  return IpRange(first, last);
}

Result<IpRange> IpRange::parse(std::string_view text) {
  std::string_view t = trim(text);
  if (t.empty()) return parseError("address range", text, "empty");
  if (t.find('/') != std::string_view::npos) {
    auto p = Prefix::parse(t);
    if (!p) return p.status();
    return of(*p);
  }
  auto dash = t.find('-');
  if (dash == std::string_view::npos) {
    auto a = IpAddress::parse(t);
    if (!a) return a.status();
    return IpRange(*a);
  }
  auto first = IpAddress::parse(trim(t.substr(0, dash)));
  if (!first) return first.status().withContext("range start");
  auto last = IpAddress::parse(trim(t.substr(dash + 1)));
  if (!last) return last.status().withContext("range end");
  return make(*first, *last);
}

AddressCount IpRange::size() const {
  uint128 span_minus_one = last_.bits() - first_.bits();
  if (span_minus_one == kUint128Max) return AddressCount::twoToThe(128);
  return AddressCount(span_minus_one + 1);
}

std::string IpRange::toString() const {
  if (first_ == last_) return first_.toString();
  return first_.toString() + "-" + last_.toString();
}

}  // namespace netledger::addr
