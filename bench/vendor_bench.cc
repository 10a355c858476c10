// MAC vendor registry (src/vendor): load time of Debian's ieee-data, lookup rate and memory.
// Each benchmark publishes its headline figure as a user counter; bench/report.py prints the
// medians of repeated runs as `name: value unit` lines.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <vector>

#include "vendor/oui_registry.h"

namespace netledger {
namespace {

using vendor::OuiRegistry;

OuiRegistry loadOrDie() {
  auto r = OuiRegistry::load();
  if (!r) {
    std::fprintf(stderr, "vendor_bench: %s\n", r.status().toString().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

// OuiRegistry::load() of /usr/share/ieee-data: read the four CSVs (~4.3 MB), parse, intern
// the names, sort. Wall time per load in ms (the files are in the page cache after the first).
void BM_OuiLoad(benchmark::State& state) {
  std::size_t entries = 0, bytes = 0;
  double total_ms = 0;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    OuiRegistry r = loadOrDie();
    total_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    entries = r.size();
    bytes = r.memoryBytes();
    benchmark::DoNotOptimize(r);
  }
  state.counters["oui_load_ms"] = total_ms / static_cast<double>(state.iterations());
  state.counters["oui_entries"] = static_cast<double>(entries);
  state.counters["oui_registry_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_OuiLoad)->Unit(benchmark::kMillisecond);

// lookup() of random universal unicast MACs, half of them inside a real assignment.
void BM_OuiLookup(benchmark::State& state) {
  static const OuiRegistry registry = loadOrDie();
  auto all = registry.assignments();
  std::mt19937_64 rng(5);
  std::vector<addr::Mac> macs(4096);
  for (std::size_t i = 0; i < macs.size(); ++i) {
    std::uint64_t v = rng() & addr::Mac::kMask & ~(std::uint64_t{3} << 40);
    if (i % 2 == 0) {
      const auto& a = all[rng() % all.size()];
      v = a.prefix | (v & ((std::uint64_t{1} << (48 - a.bits)) - 1));
    }
    macs[i] = addr::Mac(v);
  }
  std::size_t i = 0, found = 0;
  for (auto _ : state) {
    auto v = registry.lookup(macs[i++ & 4095]);
    found += !v.organization.empty();
    benchmark::DoNotOptimize(v);
  }
  benchmark::DoNotOptimize(found);
  state.counters["oui_lookup_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_OuiLookup);

// vendorJson() of a found vendor: what an API pays per binding it decorates.
void BM_VendorJson(benchmark::State& state) {
  const OuiRegistry& registry = vendor::defaultRegistry();
  auto v = registry.lookup(addr::Mac(0x005056000001));
  for (auto _ : state) {
    std::string s = vendor::vendorJson(v);
    benchmark::DoNotOptimize(s);
  }
  state.counters["vendor_json_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_VendorJson);

}  // namespace
}  // namespace netledger

BENCHMARK_MAIN();
