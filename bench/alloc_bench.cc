// Micro-benchmarks of the allocators and parsers. Each benchmark publishes its headline figure as
// a user counter named exactly as in docs/PERFORMANCE.md (with its target); bench/report.py
// prints the medians of repeated runs as `name: value unit` lines.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "addr/ip_address.h"
#include "addr/mac.h"
#include "alloc/ip_allocator.h"
#include "alloc/mac_allocator.h"

namespace netledger {
namespace {

using addr::IpAddress;
using addr::Prefix;
using alloc::IpAllocator;
using alloc::IpPoolLayout;

std::unique_ptr<IpAllocator> makePool(const char* cidr, Duration hold) {
  return IpAllocator::create({.cidr = Prefix::parse(cidr).value(), .quarantine = hold}).value();
}

// Frees `count` random in-use addresses of a fully allocated IPv4 pool.
void freeRandom(IpAllocator& pool, std::mt19937_64& rng, std::size_t count, TimePoint now) {
  const auto& cidr = pool.layout().cidr;
  std::uint64_t size = static_cast<std::uint64_t>(cidr.size().saturated());
  for (std::size_t freed = 0; freed < count;) {
    auto a = IpAddress::fromBits(cidr.family(), cidr.first().bits() + rng() % size);
    if (pool.stateOf(a) == alloc::AddressState::kInUse && pool.release(a, now).isOk()) ++freed;
  }
}

// allocateNext on a /8 that is 99.9 % full: the free addresses are scattered at random, so the
// allocator must skip long taken stretches. Every ~16 k allocations the pool is refilled to
// 99.9 % (outside the timed region).
void BM_Ipv4AllocNearFull(benchmark::State& state) {
  FakeClock clock;
  auto pool = makePool("10.0.0.0/8", Duration::zero());
  while (pool->allocateNext(clock.now())) {
  }
  std::mt19937_64 rng(42);
  const std::size_t kFree = (std::size_t{1} << 24) / 1000;  // 0.1 %
  freeRandom(*pool, rng, kFree, clock.now());
  for (auto _ : state) {
    auto r = pool->allocateNext(clock.now());
    if (!r) {
      state.PauseTiming();
      freeRandom(*pool, rng, kFree, clock.now());
      state.ResumeTiming();
      r = pool->allocateNext(clock.now());
    }
    benchmark::DoNotOptimize(r);
  }
  state.counters["ipv4_alloc_near_full_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Ipv4AllocNearFull)->UseRealTime();

// Steady churn on a /16 kept half full: each iteration allocates one address and releases a
// random held one, with a 1 s quarantine on a clock that advances 1 ms per iteration (so about
// a thousand addresses are always in quarantine). Counted: allocations + releases.
void BM_Ipv4AllocReleaseChurn(benchmark::State& state) {
  FakeClock clock;
  auto pool = makePool("172.16.0.0/16", std::chrono::seconds(1));
  std::vector<IpAddress> held;
  for (int i = 0; i < 32768; ++i) held.push_back(pool->allocateNext(clock.now()).value());
  std::mt19937_64 rng(7);
  for (auto _ : state) {
    clock.advance(std::chrono::milliseconds(1));
    held.push_back(pool->allocateNext(clock.now()).value());
    std::size_t i = rng() % held.size();
    benchmark::DoNotOptimize(pool->release(held[i], clock.now()));
    held[i] = held.back();
    held.pop_back();
  }
  state.counters["ipv4_alloc_release_per_s"] = benchmark::Counter(
      2.0 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Ipv4AllocReleaseChurn)->UseRealTime();

// allocateNext in a /64 that already holds 1 M addresses scattered at random over its first
// 2^21 addresses (about half of them taken), so the cursor keeps running into taken runs. When
// the cursor leaves that region, this round's allocations are undone and the cursor rewinds
// (outside the timed region), so every timed allocation is in the fragmented part.
void BM_Ipv6SparseAlloc(benchmark::State& state) {
  FakeClock clock;
  auto pool = makePool("2001:db8::/64", Duration::zero());
  std::mt19937_64 rng(9);
  const auto base = pool->layout().cidr.first();
  const alloc::uint128 kRegion = 1u << 21;
  for (int placed = 0; placed < 1'000'000;) {
    auto a = *base.plus(rng() % kRegion);
    if (pool->allocateSpecific(a, clock.now()).isOk()) ++placed;
  }
  state.counters["ipv6_sparse_bytes_per_address"] = static_cast<double>(pool->memoryBytes()) / 1e6;
  std::vector<IpAddress> round;
  round.reserve(kRegion);
  for (auto _ : state) {
    auto a = pool->allocateNext(clock.now()).value();
    round.push_back(a);
    if (a.bits() - base.bits() >= kRegion) {
      state.PauseTiming();
      for (const auto& r : round) (void)pool->releaseImmediately(r);
      round.clear();
      pool->setCursor(0);
      state.ResumeTiming();
    }
  }
  state.counters["ipv6_sparse_alloc_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Ipv6SparseAlloc)->UseRealTime();

// Random-strategy MAC allocation in a 24-bit locally administered prefix with 1 M MACs already
// issued (6 % of the space); trimmed back to 1 M outside the timed region every 512 k.
void BM_MacAllocRandom(benchmark::State& state) {
  FakeClock clock;
  alloc::MacRegistry registry;
  alloc::MacAllocator pool({}, registry);
  std::vector<addr::Mac> issued;
  for (int i = 0; i < 1'000'000; ++i) issued.push_back(pool.allocate(clock.now()).value());
  for (auto _ : state) {
    issued.push_back(pool.allocate(clock.now()).value());
    if (issued.size() >= 1'512'000) {
      state.PauseTiming();
      while (issued.size() > 1'000'000) {
        registry.forget(issued.back());
        issued.pop_back();
      }
      state.ResumeTiming();
    }
  }
  state.counters["mac_alloc_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MacAllocRandom)->UseRealTime();

// Allocator memory for a /8 pool (2^24 addresses), in bits per address.
void BM_Ipv4PoolMemory(benchmark::State& state) {
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto pool = makePool("10.0.0.0/8", Duration::zero());
    bytes = pool->memoryBytes();
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["ipv4_pool_bits_per_address"] =
      static_cast<double>(bytes) * 8.0 / static_cast<double>(1 << 24);
}
BENCHMARK(BM_Ipv4PoolMemory)->Iterations(3)->UseRealTime();

template <typename Gen>
std::vector<std::string> texts(Gen gen) {
  std::mt19937_64 rng(11);
  std::vector<std::string> out;
  for (int i = 0; i < 4096; ++i) out.push_back(gen(rng()));
  return out;
}

void BM_ParseIpv4(benchmark::State& state) {
  auto in =
      texts([](std::uint64_t r) { return addr::Ipv4(static_cast<std::uint32_t>(r)).toString(); });
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(addr::Ipv4::parse(in[i++ & 4095]));
  }
  state.counters["parse_ipv4_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ParseIpv4)->UseRealTime();

void BM_ParseMac(benchmark::State& state) {
  auto in = texts([](std::uint64_t r) { return addr::Mac(r).toString(); });
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(addr::Mac::parse(in[i++ & 4095]));
  }
  state.counters["parse_mac_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ParseMac)->UseRealTime();

}  // namespace
}  // namespace netledger

BENCHMARK_MAIN();
