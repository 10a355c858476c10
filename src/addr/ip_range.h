#pragma once
// An inclusive range of addresses of one family, as used for pool allocation ranges and
// reserved addresses ("10.100.0.100-10.100.0.110").

#include <string>
#include <string_view>
#include <vector>

#include "addr/ip_address.h"
#include "addr/prefix.h"
#include "common/status.h"

namespace netledger::addr {

class IpRange {
 public:
  IpRange() = default;
  explicit IpRange(IpAddress single) : first_(single), last_(single) {}
  // Refused when the families differ or first > last.
  static Result<IpRange> make(IpAddress first, IpAddress last);
  static IpRange of(const Prefix& p) { return IpRange(p.first(), p.last()); }

  // "A-B" (spaces around '-' allowed), a single address "A", or a CIDR "A/len".
  static Result<IpRange> parse(std::string_view text);

  const IpAddress& first() const { return first_; }
  const IpAddress& last() const { return last_; }
  IpFamily family() const { return first_.family(); }
  AddressCount size() const;

  bool contains(const IpAddress& a) const {
    return a.family() == family() && first_ <= a && a <= last_;
  }
  bool contains(const IpRange& r) const { return contains(r.first_) && contains(r.last_); }
  bool overlaps(const IpRange& r) const {
    return r.family() == family() && r.first_ <= last_ && first_ <= r.last_;
  }

  std::vector<Prefix> toPrefixes() const { return summarizeRange(first_, last_).value(); }

  // "A-B", or "A" for a single address.
  std::string toString() const;

  friend bool operator==(const IpRange&, const IpRange&) = default;

 private:
  IpRange(IpAddress first, IpAddress last) : first_(first), last_(last) {}
  IpAddress first_, last_;
};

}  // namespace netledger::addr
