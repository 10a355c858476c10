#pragma once
// IpAllocator: hands out the addresses of one pool block (one CIDR) so that no address is ever
// given twice, the gateway, reserved, network and broadcast addresses never, and a released
// address only after its quarantine ends.
//
// Not thread-safe: the Ledger is the single writer and serializes calls.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "addr/ip_address.h"
#include "addr/ip_range.h"
#include "addr/prefix.h"
#include "alloc/free_set.h"
#include "common/clock.h"
#include "common/status.h"

namespace netledger::alloc {

inline constexpr Duration kDefaultQuarantine = std::chrono::seconds(300);

// What a pool block is made of. Validated by IpAllocator::create.
struct IpPoolLayout {
  addr::Prefix cidr{};
  std::optional<addr::IpAddress> gateway{};
  std::vector<addr::IpRange> ranges{};       // allocation ranges; empty = the whole usable CIDR
  std::vector<addr::IpRange> reserved{};     // never handed out dynamically
  Duration quarantine = kDefaultQuarantine;  // hold time after release
};

// Why an address is or is not available.
enum class AddressState {
  kFree,
  kInUse,
  kQuarantined,
  kReserved,
  kGateway,
  kNetworkAddress,
  kBroadcastAddress,
  kOutsideRanges,  // inside the CIDR but outside every allocation range
  kOutsidePool,    // not in the CIDR at all (or the other family)
};
std::string_view addressStateName(AddressState s);  // "free", "in_use", ...

// The counts of a block. Always: free + used + quarantined == allocatable, and
// allocatable + unallocatable == size (unallocatable: network, broadcast, gateway, reserved and
// everything outside the allocation ranges).
struct IpPoolCounts {
  addr::AddressCount size;
  uint128 allocatable = 0;
  uint128 used = 0;
  uint128 quarantined = 0;
  uint128 free = 0;
  uint128 reserved = 0;        // size - allocatable
  double utilization() const;  // (used + quarantined) / allocatable, 0 when nothing allocatable
};

class IpAllocator {
 public:
  // Validates the layout: gateway, ranges and reserved inside the CIDR and of its family.
  static Result<std::unique_ptr<IpAllocator>> create(IpPoolLayout layout);

  // The next free address after the cursor (next-fit, wrapping once), so a just-released address
  // is not the next one handed out. Expired quarantine is swept first.
  // kPoolExhausted when nothing is free.
  Result<addr::IpAddress> allocateNext(TimePoint now);

  // Takes exactly `address`. The error says why not: kInvalidArgument for reserved, gateway,
  // network, broadcast, outside the ranges or the pool; kConflict for in use or quarantined
  // (unless `allow_quarantined`, for the same holder taking its address back or a restore).
  Status allocateSpecific(const addr::IpAddress& address, TimePoint now,
                          bool allow_quarantined = false);

  // Releases an in-use address into quarantine until now + hold (straight to free with a zero
  // hold). kNotFound if it is not in use.
  Status release(const addr::IpAddress& address, TimePoint now);
  // Releases with no quarantine (an allocation undone before it was acknowledged).
  Status releaseImmediately(const addr::IpAddress& address);
  // Puts an address into quarantine until `until` (restoring state from the store). It must be
  // free or in use.
  Status restoreQuarantine(const addr::IpAddress& address, TimePoint until);

  // Frees every quarantined address whose hold ended at or before `now`; returns how many.
  std::size_t sweepQuarantine(TimePoint now);

  AddressState stateOf(const addr::IpAddress& address) const;
  // When the quarantine of `address` ends, if it is quarantined.
  std::optional<TimePoint> quarantinedUntil(const addr::IpAddress& address) const;
  // Every quarantined address with the end of its hold (to rebuild a block with a new layout).
  std::vector<std::pair<addr::IpAddress, TimePoint>> quarantined() const;
  IpPoolCounts counts() const;
  const IpPoolLayout& layout() const { return layout_; }
  // The allocatable address intervals (ranges minus every exclusion), in order.
  std::vector<addr::IpRange> allocatableRanges() const;
  std::size_t memoryBytes() const;

  // The next-fit cursor (an offset), exposed so a restart can resume where it left off.
  uint128 cursor() const { return cursor_; }
  void setCursor(uint128 cursor) { cursor_ = cursor; }

 private:
  IpAllocator(IpPoolLayout layout, std::vector<OffsetInterval> allocatable);
  std::optional<uint128> offsetOf(const addr::IpAddress& a) const;
  addr::IpAddress addressAt(uint128 offset) const;
  bool isAllocatable(uint128 offset) const;
  // Why an offset that is not free is unavailable.
  AddressState classify(const addr::IpAddress& a) const;
  Status unavailable(const addr::IpAddress& a, AddressState s) const;
  void take(uint128 offset);

  IpPoolLayout layout_;
  std::vector<OffsetInterval> allocatable_;
  uint128 allocatable_count_ = 0;
  std::unique_ptr<FreeSet> free_;
  uint128 free_count_ = 0;
  uint128 cursor_ = 0;
  // Quarantined offsets (taken in free_) and when each becomes free. The queue is in release
  // order, which is expiry order because the hold is fixed per block; an entry whose map value
  // differs (re-taken early) is stale and skipped.
  boost::unordered_flat_map<uint128, Duration::rep, addr::Uint128Hash> quarantine_;
  std::deque<std::pair<uint128, Duration::rep>> expiry_queue_;
};

}  // namespace netledger::alloc
