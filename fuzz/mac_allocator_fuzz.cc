// Drives two MAC pools on one registry (overlapping prefixes, all strategies) plus explicit
// claims: never a duplicate, never multicast or zero, always inside the pool's prefix.
#include <cstdint>
#include <map>
#include <string>

#include "alloc/mac_allocator.h"
#include "fuzz_check.h"

using namespace netledger;
using namespace netledger::alloc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  MacRegistry registry;
  std::size_t cursor = 0;
  // Randomness comes from the input too, so crashes reproduce.
  RandomSource rnd = [&] {
    std::uint64_t v = 0;
    for (int k = 0; k < 8; ++k) v = (v << 8) | data[(cursor++) % size];
    return v;
  };
  auto strategy = [](std::uint8_t b) { return static_cast<MacStrategy>(b % 3); };
  MacPoolLayout a{.prefix = addr::MacPrefix::parse("02:00:00:00:00:00/42").value(),
                  .strategy = strategy(data[0]),
                  .quarantine = std::chrono::seconds(data[1] % 4)};
  MacPoolLayout b{.prefix = addr::MacPrefix::parse("02:00:00:00:00:00/44").value(),
                  .strategy = strategy(data[0] / 3),
                  .quarantine = std::chrono::seconds(2)};
  MacAllocator pa(a, registry, rnd), pb(b, registry, rnd);
  FakeClock clock;
  std::map<std::uint64_t, MacAllocator*> held;
  for (std::size_t i = 2; i + 1 < size; i += 2) {
    const std::uint8_t op = data[i] % 4, arg = data[i + 1];
    MacAllocator& pool = (arg & 1) ? pb : pa;
    if (op == 0) {
      auto m = pool.allocate(clock.now(), std::to_string(arg), "eth0");
      if (m) {
        FUZZ_CHECK(!held.contains(m->value()));
        FUZZ_CHECK(m->isUnicast() && !m->isZero() && pool.layout().prefix.contains(*m));
        held[m->value()] = &pool;
      }
    } else if (op == 1 && !held.empty()) {
      auto it = std::next(held.begin(), arg % held.size());
      FUZZ_CHECK(it->second->release(addr::Mac(it->first), clock.now()).isOk());
      held.erase(it);
    } else if (op == 2) {
      addr::Mac m(0x020000000000ull | (arg % 64));
      if (registry.claim(m, clock.now()).isOk()) {
        FUZZ_CHECK(!held.contains(m.value()));
        held[m.value()] = &pa;
      }
    } else {
      clock.advance(std::chrono::seconds(arg % 3));
    }
    FUZZ_CHECK(registry.inUseCount() == held.size());
  }
  return 0;
}
