#include "alloc/bitmap.h"

namespace netledger::alloc {

SummaryBitmap::SummaryBitmap(std::uint64_t size) : size_(size) {
  std::uint64_t words = (size + 63) / 64;
  if (words == 0) words = 1;
  levels_.emplace_back(words, 0);
  while (words > 1) {
    words = (words + 63) / 64;
    levels_.emplace_back(words, 0);
  }
}

void SummaryBitmap::set(std::uint64_t i) {
  for (auto& level : levels_) {
    std::uint64_t& word = level[i >> 6];
    bool was_empty = word == 0;
    word |= std::uint64_t{1} << (i & 63);
    if (!was_empty) return;  // the summaries above already say "non-empty"
    i >>= 6;
  }
}

void SummaryBitmap::clear(std::uint64_t i) {
  for (auto& level : levels_) {
    std::uint64_t& word = level[i >> 6];
    word &= ~(std::uint64_t{1} << (i & 63));
    if (word != 0) return;  // still non-empty: summaries unchanged
    i >>= 6;
  }
}

void SummaryBitmap::setRange(std::uint64_t first, std::uint64_t last) {
  auto& bits = levels_[0];
  for (std::uint64_t i = first; i <= last;) {
    if ((i & 63) == 0 && last - i >= 63) {
      bits[i >> 6] = ~std::uint64_t{0};
      i += 64;
    } else {
      bits[i >> 6] |= std::uint64_t{1} << (i & 63);
      ++i;
    }
  }
  rebuildSummaries();
}

void SummaryBitmap::rebuildSummaries() {
  for (std::size_t l = 1; l < levels_.size(); ++l) {
    auto& up = levels_[l];
    const auto& down = levels_[l - 1];
    std::fill(up.begin(), up.end(), 0);
    for (std::size_t w = 0; w < down.size(); ++w) {
      if (down[w] != 0) up[w >> 6] |= std::uint64_t{1} << (w & 63);
    }
  }
}

std::optional<std::uint64_t> SummaryBitmap::findNextSetAt(std::size_t level,
                                                          std::uint64_t from) const {
  const auto& words = levels_[level];
  std::uint64_t w = from >> 6;
  if (w >= words.size()) return std::nullopt;
  std::uint64_t word = words[w] & (~std::uint64_t{0} << (from & 63));
  if (word != 0) return (w << 6) + static_cast<std::uint64_t>(__builtin_ctzll(word));
  if (level + 1 == levels_.size()) return std::nullopt;  // top level is a single word
  auto next_word = findNextSetAt(level + 1, w + 1);
  if (!next_word) return std::nullopt;
  return (*next_word << 6) + static_cast<std::uint64_t>(__builtin_ctzll(words[*next_word]));
}

std::optional<std::uint64_t> SummaryBitmap::findNextSet(std::uint64_t from) const {
  if (from >= size_) return std::nullopt;
  auto found = findNextSetAt(0, from);
  if (found && *found >= size_) return std::nullopt;
  return found;
}

std::size_t SummaryBitmap::memoryBytes() const {
  std::size_t bytes = sizeof(*this);
  for (const auto& level : levels_) bytes += level.capacity() * sizeof(std::uint64_t);
  return bytes;
}

}  // namespace netledger::alloc
