#pragma once
// A bitmap with summary levels: level k+1 has one bit per 64-bit word of level k, set when that
// word is non-zero. Finding the next set bit is O(levels) = O(log64 n) whatever the density,
// which is what keeps allocation fast in a 99.9 % full /8. Memory: n * (1 + 1/64 + ...) bits.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace netledger::alloc {

class SummaryBitmap {
 public:
  explicit SummaryBitmap(std::uint64_t size);

  std::uint64_t size() const { return size_; }
  bool test(std::uint64_t i) const { return (levels_[0][i >> 6] >> (i & 63)) & 1; }
  void set(std::uint64_t i);
  void clear(std::uint64_t i);
  // Sets bits [first, last] (inclusive); word-at-a-time.
  void setRange(std::uint64_t first, std::uint64_t last);
  // The first set bit at or after `from`, or nullopt.
  std::optional<std::uint64_t> findNextSet(std::uint64_t from) const;
  std::size_t memoryBytes() const;

 private:
  std::optional<std::uint64_t> findNextSetAt(std::size_t level, std::uint64_t from) const;
  void rebuildSummaries();

  std::uint64_t size_;
  std::vector<std::vector<std::uint64_t>> levels_;  // levels_[0] is the bitmap itself
};

}  // namespace netledger::alloc
