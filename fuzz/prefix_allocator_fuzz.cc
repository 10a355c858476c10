// Drives a PrefixAllocator with decoded allocate/reserve/release sequences: children are always
// inside the parent and pairwise disjoint, and the free space adds up.
#include <cstdint>
#include <set>

#include "alloc/prefix_allocator.h"
#include "fuzz_check.h"

using namespace netledger;
using namespace netledger::alloc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const bool v6 = data[0] & 1;
  auto parent = addr::Prefix::parse(v6 ? "2001:db8::/112" : "10.0.0.0/16").value();
  const int base = parent.length(), width = parent.network().width();
  PrefixAllocator pa(parent);
  std::set<addr::Prefix> held;
  for (std::size_t i = 1; i + 2 < size; i += 3) {
    const std::uint8_t op = data[i] % 3;
    const int len = base + data[i + 1] % (width - base + 2);  // sometimes out of range
    if (op == 0) {
      auto r = pa.allocate(len);
      if (r) {
        FUZZ_CHECK(parent.contains(*r) && r->length() == len);
        for (const auto& h : held) FUZZ_CHECK(!h.overlaps(*r));
        held.insert(*r);
      }
    } else if (op == 1 && len <= width) {
      auto off = static_cast<addr::uint128>(data[i + 2]) * 257u;
      auto p = addr::Prefix::containing(*parent.first().plus(off % 65536), len);
      bool free = true;
      for (const auto& h : held) free &= !h.overlaps(p);
      Status s = pa.reserve(p);
      FUZZ_CHECK(s.isOk() == free);
      if (s.isOk()) held.insert(p);
    } else if (!held.empty()) {
      auto it = std::next(held.begin(), data[i + 2] % held.size());
      FUZZ_CHECK(pa.release(*it).isOk());
      held.erase(it);
    }
    addr::uint128 used = 0;
    for (const auto& h : held) used += h.size().saturated();
    FUZZ_CHECK(used + pa.freeAddresses().saturated() == parent.size().saturated());
  }
  for (const auto& h : held) FUZZ_CHECK(pa.release(h).isOk());
  auto blocks = pa.freeBlocks();
  FUZZ_CHECK(blocks.size() == 1 && blocks[0] == parent);
  return 0;
}
