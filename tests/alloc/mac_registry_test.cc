// MacRegistry against a model, and what an in-use MAC costs.
#include <chrono>
#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "alloc/mac_allocator.h"
#include "common/clock.h"

namespace netledger::alloc {
namespace {

using addr::Mac;
using std::chrono::seconds;

// What the binding table is to the ledger's registry: a set of held MACs.
struct SetHolders final : MacHolders {
  bool holds(Mac mac) const override { return held.contains(mac.value()); }
  std::set<std::uint64_t> held;
};

class MacRegistryModelTest : public ::testing::TestWithParam<bool> {
 protected:
  bool withHolders() const { return GetParam(); }
  FakeClock clock;
  SetHolders holders;
  MacRegistry reg{withHolders() ? &holders : nullptr};
};

// A model of the registry (mac -> in use, or the quarantine end) driven by random operations:
// states, counts and sweeps must agree at every step. With holders, a claimed MAC is often
// settled into them as the ledger does once a binding holds it (and leaves them when it is
// released or forgotten): the pair must behave exactly as the registry alone.
TEST_P(MacRegistryModelTest, RandomOperationsMatchAModel) {
  std::mt19937_64 rng(18);
  std::map<std::uint64_t, std::int64_t> model;  // -1: in use; else quarantined until (s)
  auto sweep = [&](std::int64_t t) {            // what a sweep at `t` frees
    for (auto it = model.begin(); it != model.end();) {
      it = it->second != -1 && it->second <= t ? model.erase(it) : std::next(it);
    }
  };
  auto now_s = [&] { return std::chrono::duration_cast<seconds>(clock.now().time_since_epoch()); };
  for (int step = 0; step < 20000; ++step) {
    const Mac m = Mac(0x020000000000ull + rng() % 64);
    const auto t = now_s().count();
    sweep(t);
    auto found = model.find(m.value());
    switch (rng() % 5) {
      case 0:
      case 1: {
        const bool allow = rng() % 2 == 0;
        const bool ok = found == model.end() || (found->second != -1 && allow);
        ASSERT_EQ(reg.claim(m, clock.now(), allow).isOk(), ok) << step;
        if (ok) model[m.value()] = -1;
        if (ok && withHolders() && rng() % 4 != 0) {
          holders.held.insert(m.value());
          reg.settled(m);
        }
        break;
      }
      case 2: {
        const auto hold = seconds(rng() % 3);
        const bool ok = found != model.end() && found->second == -1;
        ASSERT_EQ(reg.release(m, clock.now(), hold).isOk(), ok) << step;
        holders.held.erase(m.value());  // the binding goes once its MAC is released
        if (ok && hold.count() == 0) model.erase(m.value());
        if (ok && hold.count() > 0) model[m.value()] = t + hold.count();
        break;
      }
      case 3:
        reg.forget(m);
        holders.held.erase(m.value());
        model.erase(m.value());
        break;
      default:
        clock.advance(seconds(1));
        break;
    }
    reg.sweepQuarantine(clock.now());
    sweep(now_s().count());
    std::size_t in_use = 0;
    for (const auto& [k, v] : model) in_use += v == -1;
    ASSERT_EQ(reg.inUseCount() + holders.held.size(), in_use) << step;
    ASSERT_EQ(reg.quarantinedCount(), model.size() - in_use) << step;
    found = model.find(m.value());
    const MacState want = found == model.end()  ? MacState::kFree
                          : found->second == -1 ? MacState::kInUse
                                                : MacState::kQuarantined;
    ASSERT_EQ(reg.stateOf(m), want) << step;
  }
}

INSTANTIATE_TEST_SUITE_P(AloneAndWithHolders, MacRegistryModelTest, ::testing::Bool());

// A MAC the holders hold is in use without a claim: it cannot be claimed, not even when
// quarantine is allowed; a generator skips it; releasing it quarantines it.
TEST(MacRegistryHoldersTest, AHeldMacIsInUseWithoutACopyInTheRegistry) {
  FakeClock clock;
  SetHolders holders;
  MacRegistry reg(&holders);
  const Mac held(0x020000000000ull);  // the sequential generator's first choice
  holders.held.insert(held.value());
  EXPECT_EQ(reg.inUseCount(), 0u);
  EXPECT_EQ(reg.stateOf(held), MacState::kInUse);
  EXPECT_TRUE(reg.isTaken(held));
  EXPECT_EQ(reg.claim(held, clock.now()).code(), StatusCode::kConflict);
  EXPECT_EQ(reg.claim(held, clock.now(), true).code(), StatusCode::kConflict);

  MacAllocator seq(
      {*addr::MacPrefix::parse("02:00:00:00:00:00/40"), MacStrategy::kSequential, seconds(60)},
      reg);
  auto first = seq.allocate(clock.now());
  ASSERT_TRUE(first.isOk());
  EXPECT_EQ(*first, Mac(0x020000000001ull));  // the held one skipped
  EXPECT_EQ(reg.inUseCount(), 1u);            // claimed, not yet held
  holders.held.insert(first->value());
  reg.settled(*first);
  EXPECT_EQ(reg.inUseCount(), 0u);
  EXPECT_EQ(reg.stateOf(*first), MacState::kInUse);

  ASSERT_TRUE(reg.release(held, clock.now(), seconds(60)).isOk());
  holders.held.erase(held.value());
  EXPECT_EQ(reg.stateOf(held), MacState::kQuarantined);
  EXPECT_EQ(reg.claim(held, clock.now()).code(), StatusCode::kConflict);
  EXPECT_EQ(reg.release(held, clock.now(), seconds(60)).code(), StatusCode::kNotFound);
}

// In use is the state of nearly every MAC of a large ledger: it costs a set slot, not a map
// slot with an expiry (docs/PERFORMANCE.md, bytes_per_binding).
TEST(MacRegistryMemoryTest, InUseMacsCostUnder20BytesEach) {
  FakeClock clock;
  MacRegistry reg;
  constexpr std::size_t kMacs = 100000;
  reg.reserve(kMacs);
  for (std::uint64_t i = 1; i <= kMacs; ++i) {
    ASSERT_TRUE(reg.claim(Mac(0x020000000000ull + i), clock.now()).isOk());
  }
  EXPECT_LT(reg.memoryBytes() / kMacs, 20u);
}

}  // namespace
}  // namespace netledger::alloc
