#include "alloc/ip_allocator.h"

#include <algorithm>

namespace netledger::alloc {

using addr::IpAddress;
using addr::IpRange;

std::string_view addressStateName(AddressState s) {
  switch (s) {
    case AddressState::kFree:
      return "free";
    case AddressState::kInUse:
      return "in_use";
    case AddressState::kQuarantined:
      return "quarantined";
    case AddressState::kReserved:
      return "reserved";
    case AddressState::kGateway:
      return "gateway";
    case AddressState::kNetworkAddress:
      return "network_address";
    case AddressState::kBroadcastAddress:
      return "broadcast_address";
    case AddressState::kOutsideRanges:
      return "outside_ranges";
    case AddressState::kOutsidePool:
      return "outside_pool";
  }
  return "unknown";
}

double IpPoolCounts::utilization() const {
  if (allocatable == 0) return 0.0;
  return (static_cast<double>(used) + static_cast<double>(quarantined)) /
         static_cast<double>(allocatable);
}

namespace {

// RFC 4291 2.6.1: in an IPv6 subnet the all-zeros interface identifier is the subnet-router
// anycast address; a router on the link (the bridge with forwarding on, say) answers for it, so
// a host given it would never receive its replies. /127 (RFC 6164) and /128 have no such address.
bool hasSubnetRouterAnycast(const addr::Prefix& p) {
  return p.family() == addr::IpFamily::kV6 && p.length() < 127;
}

// Removes [cut.first, cut.last] from a sorted, disjoint interval list.
void subtract(std::vector<OffsetInterval>& ivs, OffsetInterval cut) {
  std::vector<OffsetInterval> out;
  out.reserve(ivs.size() + 1);
  for (const auto& iv : ivs) {
    if (iv.last < cut.first || iv.first > cut.last) {
      out.push_back(iv);
      continue;
    }
    if (iv.first < cut.first) out.push_back({iv.first, cut.first - 1});
    if (iv.last > cut.last) out.push_back({cut.last + 1, iv.last});
  }
  ivs = std::move(out);
}

Status checkInside(const addr::Prefix& cidr, const IpRange& r, std::string_view field) {
  if (r.family() != cidr.family() || !cidr.contains(r.first()) || !cidr.contains(r.last())) {
    return Status::invalidArgument(std::string(field) + ": " + r.toString() +
                                   " is not inside the pool CIDR " + cidr.toString());
  }
  return Status::ok();
}

Status validateLayout(const IpPoolLayout& l) {
  if (l.cidr.family() == addr::IpFamily::kV6 && l.cidr.length() < 8) {
    return Status::invalidArgument("cidr: " + l.cidr.toString() +
                                   " is too large for a pool (the shortest IPv6 pool is /8)");
  }
  if (l.gateway) {
    if (!l.cidr.contains(*l.gateway)) {
      return Status::invalidArgument("gateway: " + l.gateway->toString() +
                                     " is not inside the pool CIDR " + l.cidr.toString());
    }
    if (l.cidr.hasNetworkAndBroadcast() &&
        (*l.gateway == l.cidr.first() || *l.gateway == l.cidr.last())) {
      return Status::invalidArgument("gateway: " + l.gateway->toString() +
                                     " is the network or broadcast address of " +
                                     l.cidr.toString());
    }
  }
  for (const auto& r : l.ranges) NL_RETURN_IF_ERROR(checkInside(l.cidr, r, "ranges"));
  for (const auto& r : l.reserved) NL_RETURN_IF_ERROR(checkInside(l.cidr, r, "reserved"));
  if (l.quarantine < Duration::zero()) {
    return Status::invalidArgument("quarantine: must not be negative");
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<IpAllocator>> IpAllocator::create(IpPoolLayout layout) {
  NL_RETURN_IF_ERROR(validateLayout(layout));
  const uint128 base = layout.cidr.first().bits();
  auto toOffsets = [base](const IpRange& r) {
    return OffsetInterval{r.first().bits() - base, r.last().bits() - base};
  };

  std::vector<OffsetInterval> ivs;
  if (layout.ranges.empty()) {
    ivs.push_back(toOffsets(IpRange::of(layout.cidr)));
  } else {
    std::vector<OffsetInterval> raw;
    for (const auto& r : layout.ranges) raw.push_back(toOffsets(r));
    std::sort(raw.begin(), raw.end(), [](auto& a, auto& b) { return a.first < b.first; });
    for (const auto& iv : raw) {  // merge overlapping or adjacent ranges
      if (!ivs.empty() && iv.first <= ivs.back().last + 1) {
        ivs.back().last = std::max(ivs.back().last, iv.last);
      } else {
        ivs.push_back(iv);
      }
    }
  }
  if (layout.cidr.hasNetworkAndBroadcast()) {
    uint128 last = layout.cidr.last().bits() - base;
    subtract(ivs, {0, 0});
    subtract(ivs, {last, last});
  } else if (hasSubnetRouterAnycast(layout.cidr)) {
    subtract(ivs, {0, 0});
  }
  if (layout.gateway) {
    uint128 g = layout.gateway->bits() - base;
    subtract(ivs, {g, g});
  }
  for (const auto& r : layout.reserved) subtract(ivs, toOffsets(r));
  return std::unique_ptr<IpAllocator>(new IpAllocator(std::move(layout), std::move(ivs)));
}

IpAllocator::IpAllocator(IpPoolLayout layout, std::vector<OffsetInterval> allocatable)
    : layout_(std::move(layout)), allocatable_(std::move(allocatable)) {
  for (const auto& iv : allocatable_) allocatable_count_ += iv.last - iv.first + 1;
  free_count_ = allocatable_count_;
  free_ = FreeSet::create(layout_.cidr.size().saturated(), allocatable_);
}

std::optional<uint128> IpAllocator::offsetOf(const IpAddress& a) const {
  if (!layout_.cidr.contains(a)) return std::nullopt;
  return a.bits() - layout_.cidr.first().bits();
}

IpAddress IpAllocator::addressAt(uint128 offset) const {
  return IpAddress::fromBits(layout_.cidr.family(), layout_.cidr.first().bits() + offset);
}

bool IpAllocator::isAllocatable(uint128 offset) const {
  auto it = std::upper_bound(allocatable_.begin(), allocatable_.end(), offset,
                             [](uint128 v, const OffsetInterval& iv) { return v < iv.first; });
  return it != allocatable_.begin() && offset <= std::prev(it)->last;
}

AddressState IpAllocator::classify(const IpAddress& a) const {
  auto off = offsetOf(a);
  if (!off) return AddressState::kOutsidePool;
  if (layout_.cidr.hasNetworkAndBroadcast()) {
    if (a == layout_.cidr.first()) return AddressState::kNetworkAddress;
    if (a == layout_.cidr.last()) return AddressState::kBroadcastAddress;
  }
  if (hasSubnetRouterAnycast(layout_.cidr) && a == layout_.cidr.first()) {
    return AddressState::kNetworkAddress;
  }
  if (layout_.gateway && a == *layout_.gateway) return AddressState::kGateway;
  for (const auto& r : layout_.reserved) {
    if (r.contains(a)) return AddressState::kReserved;
  }
  if (!isAllocatable(*off)) return AddressState::kOutsideRanges;
  if (free_->isFree(*off)) return AddressState::kFree;
  if (quarantine_.contains(*off)) return AddressState::kQuarantined;
  return AddressState::kInUse;
}

AddressState IpAllocator::stateOf(const IpAddress& a) const { return classify(a); }

Status IpAllocator::unavailable(const IpAddress& a, AddressState s) const {
  std::string what = "address " + a.toString() + " ";
  switch (s) {
    case AddressState::kInUse:
      return Status::conflict(what + "is in use");
    case AddressState::kQuarantined: {
      auto until = quarantinedUntil(a);
      auto secs =
          until
              ? std::chrono::duration_cast<std::chrono::seconds>(until->time_since_epoch()).count()
              : 0;
      return Status::conflict(what + "is quarantined after release (until unix time " +
                              std::to_string(secs) + ")");
    }
    case AddressState::kReserved:
      return Status::invalidArgument(what + "is reserved");
    case AddressState::kGateway:
      return Status::invalidArgument(what + "is the gateway");
    case AddressState::kNetworkAddress:
      if (hasSubnetRouterAnycast(layout_.cidr)) {
        return Status::invalidArgument(what + "is the subnet-router anycast address of " +
                                       layout_.cidr.toString() + " (RFC 4291 2.6.1)");
      }
      return Status::invalidArgument(what + "is the network address of " + layout_.cidr.toString());
    case AddressState::kBroadcastAddress:
      return Status::invalidArgument(what + "is the broadcast address of " +
                                     layout_.cidr.toString());
    case AddressState::kOutsideRanges:
      return Status::invalidArgument(what + "is outside the pool's allocation ranges");
    case AddressState::kOutsidePool:
      return Status::invalidArgument(what + "is not in " + layout_.cidr.toString());
    case AddressState::kFree:
      break;
  }
  return Status::internal(what + "is unexpectedly free");
}

void IpAllocator::take(uint128 offset) {
  free_->take(offset);
  --free_count_;
}

Result<IpAddress> IpAllocator::allocateNext(TimePoint now) {
  sweepQuarantine(now);
  auto found = free_->findFreeFrom(cursor_);
  if (!found && cursor_ != 0) found = free_->findFreeFrom(0);
  if (!found) {
    return Status::poolExhausted("no free address in " + layout_.cidr.toString() + " (" +
                                 addr::toDecimal(allocatable_count_) + " allocatable, " +
                                 addr::toDecimal(quarantine_.size()) + " quarantined)");
  }
  take(*found);
  cursor_ = *found + 1;
  return addressAt(*found);
}

Status IpAllocator::allocateSpecific(const IpAddress& address, TimePoint now,
                                     bool allow_quarantined) {
  sweepQuarantine(now);
  auto off = offsetOf(address);
  if (off && free_->isFree(*off)) {
    take(*off);
    return Status::ok();
  }
  AddressState s = classify(address);
  if (s == AddressState::kQuarantined && allow_quarantined) {
    quarantine_.erase(*off);  // stays taken; its queue entry is now stale
    return Status::ok();
  }
  return unavailable(address, s);
}

Status IpAllocator::release(const IpAddress& address, TimePoint now) {
  auto off = offsetOf(address);
  AddressState s = classify(address);
  if (s != AddressState::kInUse) {
    return Status::notFound("address " + address.toString() + " is not in use (" +
                            std::string(addressStateName(s)) + ")");
  }
  if (layout_.quarantine <= Duration::zero()) {
    free_->put(*off);
    ++free_count_;
    return Status::ok();
  }
  auto until = (now + layout_.quarantine).time_since_epoch().count();
  quarantine_[*off] = until;
  expiry_queue_.emplace_back(*off, until);
  return Status::ok();
}

Status IpAllocator::releaseImmediately(const IpAddress& address) {
  auto off = offsetOf(address);
  AddressState s = classify(address);
  if (s != AddressState::kInUse && s != AddressState::kQuarantined) {
    return Status::notFound("address " + address.toString() + " is not in use (" +
                            std::string(addressStateName(s)) + ")");
  }
  quarantine_.erase(*off);
  free_->put(*off);
  ++free_count_;
  return Status::ok();
}

Status IpAllocator::restoreQuarantine(const IpAddress& address, TimePoint until) {
  auto off = offsetOf(address);
  AddressState s = classify(address);
  if (s == AddressState::kFree) {
    take(*off);
  } else if (s != AddressState::kInUse && s != AddressState::kQuarantined) {
    return unavailable(address, s);
  }
  auto ticks = until.time_since_epoch().count();
  quarantine_[*off] = ticks;
  // Restored entries may arrive out of order: keep the queue sorted by expiry.
  auto pos = std::upper_bound(expiry_queue_.begin(), expiry_queue_.end(), ticks,
                              [](auto t, const auto& e) { return t < e.second; });
  expiry_queue_.insert(pos, {*off, ticks});
  return Status::ok();
}

std::size_t IpAllocator::sweepQuarantine(TimePoint now) {
  auto now_ticks = now.time_since_epoch().count();
  std::size_t freed = 0;
  while (!expiry_queue_.empty() && expiry_queue_.front().second <= now_ticks) {
    auto [off, until] = expiry_queue_.front();
    expiry_queue_.pop_front();
    auto it = quarantine_.find(off);
    if (it == quarantine_.end() || it->second != until) continue;  // stale entry
    quarantine_.erase(it);
    free_->put(off);
    ++free_count_;
    ++freed;
  }
  return freed;
}

std::optional<TimePoint> IpAllocator::quarantinedUntil(const IpAddress& address) const {
  auto off = offsetOf(address);
  if (!off) return std::nullopt;
  auto it = quarantine_.find(*off);
  if (it == quarantine_.end()) return std::nullopt;
  return TimePoint(Duration(it->second));
}

std::vector<std::pair<IpAddress, TimePoint>> IpAllocator::quarantined() const {
  std::vector<std::pair<IpAddress, TimePoint>> out;
  out.reserve(quarantine_.size());
  for (const auto& [off, until] : quarantine_)
    out.emplace_back(addressAt(off), TimePoint(Duration(until)));
  return out;
}

IpPoolCounts IpAllocator::counts() const {
  IpPoolCounts c;
  c.size = layout_.cidr.size();
  c.allocatable = allocatable_count_;
  c.free = free_count_;
  c.quarantined = quarantine_.size();
  c.used = allocatable_count_ - free_count_ - c.quarantined;
  c.reserved = c.size.saturated() - allocatable_count_;  // pools are at most /8: no overflow
  return c;
}

std::vector<IpRange> IpAllocator::allocatableRanges() const {
  std::vector<IpRange> out;
  for (const auto& iv : allocatable_) {
    out.push_back(IpRange::make(addressAt(iv.first), addressAt(iv.last)).value());
  }
  return out;
}

std::size_t IpAllocator::memoryBytes() const {
  return sizeof(*this) + allocatable_.capacity() * sizeof(OffsetInterval) + free_->memoryBytes() +
         quarantine_.bucket_count() * (sizeof(uint128) + sizeof(Duration::rep) + 1) +
         expiry_queue_.size() * sizeof(expiry_queue_.front());
}

}  // namespace netledger::alloc
