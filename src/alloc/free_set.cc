#include "alloc/free_set.h"

#include <algorithm>

namespace netledger::alloc {

std::unique_ptr<FreeSet> FreeSet::create(uint128 block_size,
                                         const std::vector<OffsetInterval>& allocatable) {
  if (block_size <= kDenseLimit) return std::make_unique<DenseFreeSet>(block_size, allocatable);
  return std::make_unique<SparseFreeSet>(allocatable);
}

DenseFreeSet::DenseFreeSet(uint128 block_size, const std::vector<OffsetInterval>& allocatable)
    : bits_(static_cast<std::uint64_t>(block_size)) {
  for (const auto& iv : allocatable) {
    bits_.setRange(static_cast<std::uint64_t>(iv.first), static_cast<std::uint64_t>(iv.last));
  }
}

std::optional<uint128> DenseFreeSet::findFreeFrom(uint128 from) const {
  if (from >= bits_.size()) return std::nullopt;
  auto found = bits_.findNextSet(static_cast<std::uint64_t>(from));
  if (!found) return std::nullopt;
  return uint128{*found};
}

SparseFreeSet::SparseFreeSet(std::vector<OffsetInterval> allocatable)
    : allocatable_(std::move(allocatable)) {}

bool SparseFreeSet::isAllocatable(uint128 offset) const {
  auto it = std::upper_bound(allocatable_.begin(), allocatable_.end(), offset,
                             [](uint128 v, const OffsetInterval& iv) { return v < iv.first; });
  return it != allocatable_.begin() && offset <= std::prev(it)->last;
}

std::map<uint128, uint128>::const_iterator SparseFreeSet::runContaining(uint128 offset) const {
  auto it = taken_.upper_bound(offset);
  if (it == taken_.begin()) return taken_.end();
  --it;
  return it->second >= offset ? it : taken_.end();
}

bool SparseFreeSet::isFree(uint128 offset) const {
  return isAllocatable(offset) && runContaining(offset) == taken_.end();
}

void SparseFreeSet::take(uint128 offset) {
  auto next = taken_.upper_bound(offset);  // first run starting after offset
  bool joins_next = next != taken_.end() && next->first == offset + 1;
  if (next != taken_.begin()) {
    auto prev = std::prev(next);
    if (prev->second + 1 == offset) {
      prev->second = joins_next ? next->second : offset;
      if (joins_next) taken_.erase(next);
      return;
    }
  }
  if (joins_next) {
    uint128 last = next->second;
    taken_.erase(next);
    taken_.emplace(offset, last);
    return;
  }
  taken_.emplace(offset, offset);
}

void SparseFreeSet::put(uint128 offset) {
  auto it = taken_.upper_bound(offset);
  if (it == taken_.begin()) return;
  --it;
  if (it->second < offset) return;  // not taken: nothing to do
  uint128 first = it->first, last = it->second;
  if (first == offset) {
    taken_.erase(it);
  } else {
    it->second = offset - 1;
  }
  if (last > offset) taken_.emplace(offset + 1, last);
}

std::optional<uint128> SparseFreeSet::findFreeFrom(uint128 from) const {
  auto iv = std::upper_bound(allocatable_.begin(), allocatable_.end(), from,
                             [](uint128 v, const OffsetInterval& i) { return v < i.first; });
  if (iv != allocatable_.begin() && std::prev(iv)->last >= from) --iv;
  for (; iv != allocatable_.end(); ++iv) {
    uint128 candidate = std::max(from, iv->first);
    auto run = runContaining(candidate);
    if (run != taken_.end()) candidate = run->second + 1;  // runs are maximal: next is free
    if (candidate <= iv->last) return candidate;
  }
  return std::nullopt;
}

std::size_t SparseFreeSet::memoryBytes() const {
  // A red-black tree node: three pointers, colour, key and value, plus allocator overhead.
  constexpr std::size_t kNodeBytes = 4 * sizeof(void*) + 2 * sizeof(uint128) + 16;
  return sizeof(*this) + allocatable_.capacity() * sizeof(OffsetInterval) +
         taken_.size() * kNodeBytes;
}

}  // namespace netledger::alloc
