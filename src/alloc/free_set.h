#pragma once
// The free addresses of one pool block, as offsets from the block's first address. Two
// implementations behind one interface: a summary bitmap for blocks up to 2^24 addresses, and a
// run map for anything larger (an IPv6 /64), whose memory grows with the addresses taken rather
// than with the size of the block.

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "addr/uint128.h"
#include "alloc/bitmap.h"

namespace netledger::alloc {

using addr::uint128;

// An inclusive interval of offsets.
struct OffsetInterval {
  uint128 first;
  uint128 last;
};

// Blocks with at most this many addresses use the bitmap.
inline constexpr uint128 kDenseLimit = uint128{1} << 24;

class FreeSet {
 public:
  virtual ~FreeSet() = default;
  // True if `offset` is allocatable and not taken.
  virtual bool isFree(uint128 offset) const = 0;
  // Marks a free offset taken. Precondition: isFree(offset).
  virtual void take(uint128 offset) = 0;
  // Marks a taken allocatable offset free again. Precondition: allocatable, !isFree(offset).
  virtual void put(uint128 offset) = 0;
  // The first free offset >= from, or nullopt.
  virtual std::optional<uint128> findFreeFrom(uint128 from) const = 0;
  virtual std::size_t memoryBytes() const = 0;

  // `allocatable` is sorted, disjoint and inside [0, block_size). Chooses the implementation.
  static std::unique_ptr<FreeSet> create(uint128 block_size,
                                         const std::vector<OffsetInterval>& allocatable);
};

class DenseFreeSet final : public FreeSet {
 public:
  DenseFreeSet(uint128 block_size, const std::vector<OffsetInterval>& allocatable);
  bool isFree(uint128 offset) const override {
    return bits_.test(static_cast<std::uint64_t>(offset));
  }
  void take(uint128 offset) override { bits_.clear(static_cast<std::uint64_t>(offset)); }
  void put(uint128 offset) override { bits_.set(static_cast<std::uint64_t>(offset)); }
  std::optional<uint128> findFreeFrom(uint128 from) const override;
  std::size_t memoryBytes() const override { return sizeof(*this) + bits_.memoryBytes(); }

 private:
  SummaryBitmap bits_;  // 1 = free
};

class SparseFreeSet final : public FreeSet {
 public:
  explicit SparseFreeSet(std::vector<OffsetInterval> allocatable);
  bool isFree(uint128 offset) const override;
  void take(uint128 offset) override;
  void put(uint128 offset) override;
  std::optional<uint128> findFreeFrom(uint128 from) const override;
  std::size_t memoryBytes() const override;

 private:
  // The taken run containing `offset`, or end().
  std::map<uint128, uint128>::const_iterator runContaining(uint128 offset) const;
  bool isAllocatable(uint128 offset) const;

  std::vector<OffsetInterval> allocatable_;
  // Maximal runs of taken offsets: first -> last. Adjacent runs are always merged, so the
  // offset just past a run is never taken.
  std::map<uint128, uint128> taken_;
};

}  // namespace netledger::alloc
