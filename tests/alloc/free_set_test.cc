#include "alloc/free_set.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "addr/uint128.h"

namespace netledger::alloc {
namespace {

using addr::toDecimal;

std::string str(const std::optional<uint128>& v) { return v ? toDecimal(*v) : "nullopt"; }

// A seeded random sequence of take / put / findFreeFrom / isFree against `sets` (all given the
// same allocatable intervals) and a std::set reference model of the free offsets. Probes stay
// below `limit` (the block size: DenseFreeSet may only be asked about offsets inside it).
void runAgainstModel(const std::vector<FreeSet*>& sets,
                     const std::vector<OffsetInterval>& allocatable, uint128 limit,
                     std::uint64_t seed, int ops) {
  std::mt19937_64 rng(seed);
  std::set<uint128> free_model, taken_model;
  std::vector<uint128> probes;  // every allocatable offset plus the neighbours of each interval
  for (const auto& iv : allocatable) {
    for (uint128 o = iv.first; o <= iv.last; ++o) {
      free_model.insert(o);
      probes.push_back(o);
    }
    if (iv.first > 0) probes.push_back(iv.first - 1);
    if (iv.last + 1 < limit) probes.push_back(iv.last + 1);
  }
  probes.push_back(0);
  probes.push_back(limit - 1);
  auto randomProbe = [&] { return probes[rng() % probes.size()]; };
  // A random element of `s` (the first at or after a random probe, wrapping around).
  auto pickFrom = [&](const std::set<uint128>& s) {
    auto it = s.lower_bound(randomProbe());
    return it == s.end() ? *s.begin() : *it;
  };
  auto expectedNext = [&](uint128 from) -> std::optional<uint128> {
    auto it = free_model.lower_bound(from);
    if (it == free_model.end()) return std::nullopt;
    return *it;
  };
  auto fullCheck = [&](int step) {
    for (uint128 p : probes) {
      for (std::size_t k = 0; k < sets.size(); ++k) {
        ASSERT_EQ(sets[k]->isFree(p), free_model.contains(p))
            << "set " << k << " isFree(" << toDecimal(p) << ") at step " << step;
        ASSERT_EQ(str(sets[k]->findFreeFrom(p)), str(expectedNext(p)))
            << "set " << k << " findFreeFrom(" << toDecimal(p) << ") at step " << step;
      }
    }
  };

  for (int step = 0; step < ops; ++step) {
    auto op = rng() % 10;
    if (op < 4) {  // take
      if (free_model.empty()) continue;
      uint128 o = pickFrom(free_model);
      for (auto* s : sets) s->take(o);
      free_model.erase(o);
      taken_model.insert(o);
    } else if (op < 7) {  // put
      if (taken_model.empty()) continue;
      uint128 o = pickFrom(taken_model);
      for (auto* s : sets) s->put(o);
      taken_model.erase(o);
      free_model.insert(o);
    } else if (op < 9) {  // findFreeFrom
      uint128 from = randomProbe();
      for (std::size_t k = 0; k < sets.size(); ++k) {
        ASSERT_EQ(str(sets[k]->findFreeFrom(from)), str(expectedNext(from)))
            << "set " << k << " findFreeFrom(" << toDecimal(from) << ") at step " << step;
      }
    } else {  // isFree
      uint128 p = randomProbe();
      for (std::size_t k = 0; k < sets.size(); ++k) {
        ASSERT_EQ(sets[k]->isFree(p), free_model.contains(p))
            << "set " << k << " isFree(" << toDecimal(p) << ") at step " << step;
      }
    }
    if (step % 1000 == 999) {
      fullCheck(step);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  // Drain: take everything still free, in findFreeFrom order, until both report nothing left.
  for (;;) {
    auto next = expectedNext(0);
    for (std::size_t k = 0; k < sets.size(); ++k) {
      ASSERT_EQ(str(sets[k]->findFreeFrom(0)), str(next)) << "set " << k << " while draining";
    }
    if (!next) break;
    for (auto* s : sets) s->take(*next);
    free_model.erase(*next);
  }
  EXPECT_TRUE(free_model.empty());
}

TEST(FreeSetTest, DenseAndSparseAgreeWithReferenceModel) {
  // Gaps, a one-offset interval, two adjacent intervals, and an interval ending at the block end.
  const std::vector<OffsetInterval> allocatable = {
      {1, 100}, {130, 130}, {131, 140}, {200, 4094}, {4200, 4999}};
  DenseFreeSet dense(5000, allocatable);
  SparseFreeSet sparse(allocatable);
  runAgainstModel({&dense, &sparse}, allocatable, 5000, 42, 20000);
}

TEST(FreeSetTest, DenseAndSparseAgreeOnAWholeBlockOfOddSize) {
  for (std::uint64_t size : {1u, 63u, 65u, 4097u}) {
    SCOPED_TRACE("size " + std::to_string(size));
    const std::vector<OffsetInterval> allocatable = {{0, size - 1}};
    DenseFreeSet dense(size, allocatable);
    SparseFreeSet sparse(allocatable);
    runAgainstModel({&dense, &sparse}, allocatable, size, 1000 + size, 3000);
  }
}

TEST(FreeSetTest, SparseHandles128BitOffsets) {
  const uint128 two64 = uint128{1} << 64;
  const uint128 two100 = uint128{1} << 100;
  const std::vector<OffsetInterval> allocatable = {
      {0, 9}, {two64 - 10, two64 + 300}, {two100, two100 + 500}};
  SparseFreeSet sparse(allocatable);
  EXPECT_EQ(str(sparse.findFreeFrom(10)), toDecimal(two64 - 10));
  EXPECT_EQ(str(sparse.findFreeFrom(two64 + 301)), toDecimal(two100));
  EXPECT_EQ(str(sparse.findFreeFrom(two100 + 501)), "nullopt");
  EXPECT_FALSE(sparse.isFree(two64 + 301));
  EXPECT_TRUE(sparse.isFree(two64));
  runAgainstModel({&sparse}, allocatable, two100 + 1000, 7, 10000);
}

TEST(FreeSetTest, DenseRespectsAllocatableIntervals) {
  DenseFreeSet dense(256, {{1, 254}});  // an IPv4 /24 without network and broadcast
  EXPECT_FALSE(dense.isFree(0));
  EXPECT_TRUE(dense.isFree(1));
  EXPECT_TRUE(dense.isFree(254));
  EXPECT_FALSE(dense.isFree(255));
  EXPECT_EQ(str(dense.findFreeFrom(0)), "1");
  EXPECT_EQ(str(dense.findFreeFrom(255)), "nullopt");
  EXPECT_EQ(str(dense.findFreeFrom(256)), "nullopt");
  EXPECT_EQ(str(dense.findFreeFrom(uint128{1} << 70)), "nullopt");
  dense.take(1);
  dense.take(2);
  EXPECT_EQ(str(dense.findFreeFrom(0)), "3");
  dense.put(1);
  EXPECT_EQ(str(dense.findFreeFrom(0)), "1");
  EXPECT_FALSE(dense.isFree(2));
}

TEST(FreeSetTest, SparseMergesSequentialTakesIntoOneRun) {
  const uint128 two64 = uint128{1} << 64;
  SparseFreeSet sparse({{0, two64 - 1}});  // an IPv6 /64
  const std::size_t empty = sparse.memoryBytes();
  sparse.take(0);
  const std::size_t one_run = sparse.memoryBytes();
  ASSERT_GT(one_run, empty);
  for (uint128 o = 1; o < 1000; ++o) sparse.take(o);
  EXPECT_LT(sparse.memoryBytes(), 1024u);
  EXPECT_EQ(sparse.memoryBytes(), one_run);  // still a single run 0..999
  EXPECT_FALSE(sparse.isFree(0));
  EXPECT_FALSE(sparse.isFree(999));
  EXPECT_TRUE(sparse.isFree(1000));
  EXPECT_TRUE(sparse.isFree(two64 - 1));
  EXPECT_EQ(str(sparse.findFreeFrom(0)), "1000");
  EXPECT_EQ(str(sparse.findFreeFrom(500)), "1000");
  EXPECT_EQ(str(sparse.findFreeFrom(1001)), "1001");
}

TEST(FreeSetTest, SparseMergesRunsFromBothSides) {
  SparseFreeSet evens_then_odds({{0, 1u << 20}});
  SparseFreeSet reverse({{0, 1u << 20}});
  SparseFreeSet single({{0, 1u << 20}});
  const std::size_t empty = single.memoryBytes();
  single.take(0);
  const std::size_t node = single.memoryBytes() - empty;
  for (uint128 o = 0; o < 1000; o += 2) evens_then_odds.take(o);
  EXPECT_EQ(str(evens_then_odds.findFreeFrom(0)), "1");
  EXPECT_EQ(evens_then_odds.memoryBytes(), empty + 500 * node);   // 500 separate runs
  for (uint128 o = 1; o < 1000; o += 2) evens_then_odds.take(o);  // each joins two runs
  EXPECT_EQ(evens_then_odds.memoryBytes(), single.memoryBytes());
  EXPECT_EQ(str(evens_then_odds.findFreeFrom(0)), "1000");

  for (uint128 o = 1000; o-- > 0;) reverse.take(o);
  EXPECT_EQ(reverse.memoryBytes(), single.memoryBytes());
  EXPECT_EQ(str(reverse.findFreeFrom(0)), "1000");
}

TEST(FreeSetTest, SparsePutSplitsARun) {
  SparseFreeSet sparse({{0, (uint128{1} << 64) - 1}});
  const std::size_t empty = sparse.memoryBytes();
  for (uint128 o = 0; o < 1000; ++o) sparse.take(o);
  const std::size_t one_run = sparse.memoryBytes();
  const std::size_t node = one_run - empty;

  sparse.put(500);  // 0..499 and 501..999
  EXPECT_TRUE(sparse.isFree(500));
  EXPECT_FALSE(sparse.isFree(499));
  EXPECT_FALSE(sparse.isFree(501));
  EXPECT_EQ(sparse.memoryBytes(), empty + 2 * node);
  EXPECT_EQ(str(sparse.findFreeFrom(0)), "500");
  EXPECT_EQ(str(sparse.findFreeFrom(500)), "500");
  EXPECT_EQ(str(sparse.findFreeFrom(501)), "1000");

  sparse.take(500);  // merges back into one run
  EXPECT_EQ(sparse.memoryBytes(), one_run);
  EXPECT_EQ(str(sparse.findFreeFrom(0)), "1000");

  sparse.put(0);    // shrinks the run at its start
  sparse.put(999);  // and at its end
  EXPECT_EQ(sparse.memoryBytes(), one_run);
  EXPECT_EQ(str(sparse.findFreeFrom(0)), "0");
  EXPECT_EQ(str(sparse.findFreeFrom(1)), "999");
  EXPECT_FALSE(sparse.isFree(1));
  EXPECT_FALSE(sparse.isFree(998));
}

TEST(FreeSetTest, SparseFindFreeSkipsRunsAcrossAdjacentIntervals) {
  // Two adjacent intervals: a run of taken offsets spans the boundary between them.
  SparseFreeSet sparse({{10, 19}, {20, 29}, {40, 49}});
  for (uint128 o = 15; o < 25; ++o) sparse.take(o);
  EXPECT_EQ(str(sparse.findFreeFrom(15)), "25");
  EXPECT_EQ(str(sparse.findFreeFrom(19)), "25");
  EXPECT_EQ(str(sparse.findFreeFrom(0)), "10");
  for (uint128 o = 25; o < 30; ++o) sparse.take(o);
  EXPECT_EQ(str(sparse.findFreeFrom(15)), "40");
  EXPECT_EQ(str(sparse.findFreeFrom(30)), "40");
  EXPECT_FALSE(sparse.isFree(35));
  EXPECT_EQ(str(sparse.findFreeFrom(50)), "nullopt");
}

TEST(FreeSetTest, CreatePicksDenseUpTo2To24AndSparseAbove) {
  const uint128 limit = uint128{1} << 24;
  EXPECT_TRUE(kDenseLimit == limit);
  struct Case {
    uint128 size;
    bool dense;
  };
  for (const Case& c : {Case{1, true}, Case{256, true}, Case{limit, true}, Case{limit + 1, false},
                        Case{uint128{1} << 32, false}, Case{uint128{1} << 64, false}}) {
    SCOPED_TRACE("block size " + toDecimal(c.size));
    auto set = FreeSet::create(c.size, {{0, 0}});
    ASSERT_NE(set, nullptr);
    EXPECT_EQ(dynamic_cast<DenseFreeSet*>(set.get()) != nullptr, c.dense);
    EXPECT_EQ(dynamic_cast<SparseFreeSet*>(set.get()) != nullptr, !c.dense);
    EXPECT_TRUE(set->isFree(0));
    set->take(0);
    EXPECT_FALSE(set->isFree(0));
    EXPECT_EQ(str(set->findFreeFrom(0)), "nullopt");
  }
}

TEST(FreeSetTest, CreatedSetsStartWithExactlyTheAllocatableOffsetsFree) {
  const uint128 limit = uint128{1} << 24;
  for (uint128 size : {limit, limit + 1}) {
    auto set = FreeSet::create(size, {{1, limit - 2}});
    EXPECT_FALSE(set->isFree(0));
    EXPECT_TRUE(set->isFree(1));
    EXPECT_TRUE(set->isFree(limit - 2));
    EXPECT_FALSE(set->isFree(limit - 1));
    EXPECT_EQ(str(set->findFreeFrom(0)), "1");
    EXPECT_EQ(str(set->findFreeFrom(limit - 2)), toDecimal(limit - 2));
    EXPECT_EQ(str(set->findFreeFrom(limit - 1)), "nullopt");
  }
}

TEST(FreeSetTest, DenseMemoryFor2To24IsAbout2MiB) {
  const std::uint64_t size = std::uint64_t{1} << 24;
  DenseFreeSet dense(size, {{0, size - 1}});
  EXPECT_GE(dense.memoryBytes(), size / 8);
  EXPECT_LE(dense.memoryBytes(), size / 8 + size / 8 / 32);
}

}  // namespace
}  // namespace netledger::alloc
