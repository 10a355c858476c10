#include "alloc/bitmap.h"

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace netledger::alloc {
namespace {

// For every position, the first set bit at or after it in `ref` (nullopt if none).
std::vector<std::optional<std::uint64_t>> referenceNextSet(const std::vector<bool>& ref) {
  std::vector<std::optional<std::uint64_t>> next(ref.size() + 1);
  for (std::size_t i = ref.size(); i-- > 0;)
    next[i] = ref[i] ? std::optional<std::uint64_t>(i) : next[i + 1];
  return next;
}

// Checks test() for every bit and findNextSet() from every position (and past the end).
void expectMatches(const SummaryBitmap& bits, const std::vector<bool>& ref) {
  ASSERT_EQ(bits.size(), ref.size());
  auto next = referenceNextSet(ref);
  std::size_t mismatches = 0;
  for (std::uint64_t i = 0; i < ref.size() && mismatches < 5; ++i) {
    if (bits.test(i) != ref[i]) {
      ADD_FAILURE() << "test(" << i << ") = " << bits.test(i) << ", expected " << ref[i];
      ++mismatches;
    }
    if (bits.findNextSet(i) != next[i]) {
      ADD_FAILURE() << "findNextSet(" << i << ") = "
                    << (bits.findNextSet(i) ? std::to_string(*bits.findNextSet(i)) : "nullopt")
                    << ", expected " << (next[i] ? std::to_string(*next[i]) : "nullopt")
                    << " (size " << ref.size() << ")";
      ++mismatches;
    }
  }
  EXPECT_EQ(bits.findNextSet(ref.size()), std::nullopt);
  EXPECT_EQ(bits.findNextSet(ref.size() + 64), std::nullopt);
}

TEST(SummaryBitmapTest, StartsEmpty) {
  for (std::uint64_t size : {1u, 63u, 64u, 65u, 4097u}) {
    SummaryBitmap bits(size);
    EXPECT_EQ(bits.size(), size);
    for (std::uint64_t i = 0; i < size; ++i) ASSERT_FALSE(bits.test(i)) << i;
    EXPECT_EQ(bits.findNextSet(0), std::nullopt) << size;
  }
}

TEST(SummaryBitmapTest, SetClearTest) {
  SummaryBitmap bits(130);
  bits.set(0);
  bits.set(63);
  bits.set(64);
  bits.set(129);
  EXPECT_TRUE(bits.test(0));
  EXPECT_FALSE(bits.test(1));
  EXPECT_FALSE(bits.test(62));
  EXPECT_TRUE(bits.test(63));
  EXPECT_TRUE(bits.test(64));
  EXPECT_FALSE(bits.test(65));
  EXPECT_FALSE(bits.test(128));
  EXPECT_TRUE(bits.test(129));
  EXPECT_EQ(bits.findNextSet(0), 0u);
  EXPECT_EQ(bits.findNextSet(1), 63u);
  EXPECT_EQ(bits.findNextSet(64), 64u);
  EXPECT_EQ(bits.findNextSet(65), 129u);

  bits.clear(63);
  EXPECT_FALSE(bits.test(63));
  EXPECT_EQ(bits.findNextSet(1), 64u);
  bits.clear(64);
  EXPECT_EQ(bits.findNextSet(1), 129u);
  // Setting an already-set bit and clearing an already-clear bit change nothing.
  bits.set(129);
  bits.clear(100);
  EXPECT_TRUE(bits.test(129));
  EXPECT_EQ(bits.findNextSet(1), 129u);
  bits.clear(129);
  bits.clear(0);
  EXPECT_EQ(bits.findNextSet(0), std::nullopt);
}

TEST(SummaryBitmapTest, ClearingTheLastBitOfAWordUpdatesTheSummaries) {
  // 4 levels: 262145 bits -> 4097 words -> 65 words -> 2 words -> 1 word.
  SummaryBitmap bits(262145);
  bits.set(5);
  bits.set(200000);
  bits.set(262144);
  EXPECT_EQ(bits.findNextSet(6), 200000u);
  bits.clear(200000);
  EXPECT_EQ(bits.findNextSet(6), 262144u);
  bits.clear(262144);
  EXPECT_EQ(bits.findNextSet(6), std::nullopt);
  EXPECT_EQ(bits.findNextSet(0), 5u);
  bits.set(200000);
  EXPECT_EQ(bits.findNextSet(6), 200000u);
}

TEST(SummaryBitmapTest, SetRangeAcrossWordBoundaries) {
  SummaryBitmap bits(300);
  bits.setRange(60, 200);
  for (std::uint64_t i = 0; i < 300; ++i) {
    EXPECT_EQ(bits.test(i), i >= 60 && i <= 200) << i;
  }
  EXPECT_EQ(bits.findNextSet(0), 60u);
  EXPECT_EQ(bits.findNextSet(127), 127u);
  EXPECT_EQ(bits.findNextSet(128), 128u);
  EXPECT_EQ(bits.findNextSet(200), 200u);
  EXPECT_EQ(bits.findNextSet(201), std::nullopt);

  // A range of exactly one aligned word, a single bit, and a range ending at the last bit.
  bits.setRange(256, 256);
  bits.setRange(299, 299);
  EXPECT_EQ(bits.findNextSet(201), 256u);
  EXPECT_EQ(bits.findNextSet(257), 299u);
  bits.setRange(0, 63);
  EXPECT_EQ(bits.findNextSet(0), 0u);
  EXPECT_TRUE(bits.test(63));
  EXPECT_FALSE(bits.test(201));
  EXPECT_FALSE(bits.test(255));
  EXPECT_FALSE(bits.test(257));
  EXPECT_FALSE(bits.test(298));
}

TEST(SummaryBitmapTest, SetRangeThenClearEverythingLeavesNothing) {
  SummaryBitmap bits(4097);
  bits.setRange(0, 4096);
  EXPECT_EQ(bits.findNextSet(4096), 4096u);
  for (std::uint64_t i = 0; i < 4097; ++i) bits.clear(i);
  EXPECT_EQ(bits.findNextSet(0), std::nullopt);
  bits.set(4096);
  EXPECT_EQ(bits.findNextSet(0), 4096u);
}

TEST(SummaryBitmapTest, SizeOne) {
  SummaryBitmap bits(1);
  EXPECT_EQ(bits.findNextSet(0), std::nullopt);
  bits.set(0);
  EXPECT_TRUE(bits.test(0));
  EXPECT_EQ(bits.findNextSet(0), 0u);
  EXPECT_EQ(bits.findNextSet(1), std::nullopt);
  bits.clear(0);
  EXPECT_EQ(bits.findNextSet(0), std::nullopt);
  bits.setRange(0, 0);
  EXPECT_EQ(bits.findNextSet(0), 0u);
}

TEST(SummaryBitmapTest, FindNextSetPastTheEndIsNullopt) {
  SummaryBitmap bits(65);
  bits.setRange(0, 64);
  EXPECT_EQ(bits.findNextSet(64), 64u);
  EXPECT_EQ(bits.findNextSet(65), std::nullopt);
  EXPECT_EQ(bits.findNextSet(128), std::nullopt);
  EXPECT_EQ(bits.findNextSet(1'000'000), std::nullopt);
  EXPECT_EQ(bits.findNextSet(~std::uint64_t{0}), std::nullopt);
}

// Randomized: bitmaps of many sizes versus a std::vector<bool>, with sparse phases (to make
// the summary levels matter), dense phases and range fills.
TEST(SummaryBitmapTest, MatchesVectorBoolReference) {
  std::mt19937_64 rng(20240611);
  for (std::uint64_t size :
       {1u, 2u, 63u, 64u, 65u, 127u, 128u, 129u, 1000u, 4095u, 4096u, 4097u, 262145u}) {
    SCOPED_TRACE("size " + std::to_string(size));
    SummaryBitmap bits(size);
    std::vector<bool> ref(size, false);
    auto pick = [&] { return std::uniform_int_distribution<std::uint64_t>(0, size - 1)(rng); };
    expectMatches(bits, ref);

    // Sparse: a handful of bits.
    for (int k = 0; k < 5; ++k) {
      auto i = pick();
      bits.set(i);
      ref[i] = true;
    }
    expectMatches(bits, ref);

    // Random ranges (setRange) plus random clears.
    for (int k = 0; k < 4; ++k) {
      auto a = pick(), b = pick();
      if (a > b) std::swap(a, b);
      if (b - a > size / 4 + 1) b = a + size / 4;
      bits.setRange(a, b);
      for (auto i = a; i <= b; ++i) ref[i] = true;
    }
    for (std::uint64_t k = 0; k < size / 2 + 1; ++k) {
      auto i = pick();
      bits.clear(i);
      ref[i] = false;
    }
    expectMatches(bits, ref);

    // Random set/clear mix.
    for (std::uint64_t k = 0; k < size + 10; ++k) {
      auto i = pick();
      bool v = rng() & 1;
      if (v) {
        bits.set(i);
      } else {
        bits.clear(i);
      }
      ref[i] = v;
    }
    expectMatches(bits, ref);

    // Clear down to very few bits again.
    for (std::uint64_t i = 0; i < size; ++i) {
      if (ref[i] && (rng() % 64) != 0) {
        bits.clear(i);
        ref[i] = false;
      }
    }
    expectMatches(bits, ref);
  }
}

TEST(SummaryBitmapTest, MemoryFor16MBitsIsAbout2MiB) {
  constexpr std::uint64_t kBits = std::uint64_t{1} << 24;
  SummaryBitmap bits(kBits);
  std::size_t bytes = bits.memoryBytes();
  EXPECT_GE(bytes, kBits / 8);  // the bitmap itself: 2 MiB
  EXPECT_LE(static_cast<double>(bytes) * 8, 2.2 * static_cast<double>(kBits));
  EXPECT_LE(bytes, kBits / 8 + kBits / 8 / 32);  // summaries add about 1/64
  bits.setRange(0, kBits - 1);
  EXPECT_EQ(bits.findNextSet(kBits - 1), kBits - 1);
  EXPECT_EQ(bits.findNextSet(kBits), std::nullopt);
}

}  // namespace
}  // namespace netledger::alloc
