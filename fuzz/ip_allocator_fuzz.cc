// Drives an IpAllocator with an operation sequence decoded from the input and checks it
// against a plain set model: never a duplicate, never an excluded address, never a
// quarantined one before its hold ends, counts always consistent.
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "alloc/ip_allocator.h"
#include "fuzz_check.h"

using namespace netledger;
using namespace netledger::alloc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  // The first bytes choose the layout: a small IPv4 or IPv6 block, gateway and reserved.
  const bool v6 = data[0] & 1;
  const int len = v6 ? 120 + data[0] % 7 : 24 + data[0] % 7;
  auto cidr = addr::Prefix::parse(v6 ? "2001:db8::/" + std::to_string(len)
                                     : "198.51.100.0/" + std::to_string(len))
                  .value();
  const unsigned span = 1u << (cidr.hostBits());
  IpPoolLayout layout{.cidr = cidr, .quarantine = std::chrono::seconds(data[1] % 8)};
  auto at = [&](unsigned off) { return *cidr.first().plus(off % span); };
  if (data[2] & 1) layout.gateway = at(1);
  if (data[2] & 2) {
    unsigned a = data[3] % span, b = a + data[2] % 8;
    layout.reserved.push_back(addr::IpRange::make(at(a), at(std::min(b, span - 1))).value());
  }
  if (layout.gateway && cidr.hasNetworkAndBroadcast() && span <= 2) layout.gateway.reset();
  auto created = IpAllocator::create(layout);
  if (!created) return 0;
  auto& pool = **created;

  std::set<addr::IpAddress> excluded;
  if (layout.gateway) excluded.insert(*layout.gateway);
  for (const auto& r : layout.reserved)
    for (unsigned o = 0; o < span; ++o)
      if (r.contains(at(o))) excluded.insert(at(o));
  if (cidr.hasNetworkAndBroadcast()) {
    excluded.insert(cidr.first());
    excluded.insert(cidr.last());
  }
  // IPv6 subnet-router anycast (RFC 4291 2.6.1), except on /127 and /128 (RFC 6164).
  if (cidr.family() == addr::IpFamily::kV6 && cidr.length() < 127) excluded.insert(cidr.first());

  FakeClock clock;
  std::set<addr::IpAddress> held;
  std::map<addr::IpAddress, TimePoint> quarantined;
  for (std::size_t i = 4; i + 1 < size; i += 2) {
    const TimePoint now = clock.now();
    const std::uint8_t op = data[i] % 5, arg = data[i + 1];
    if (op == 0) {
      auto r = pool.allocateNext(now);
      if (r) {
        FUZZ_CHECK(!held.contains(*r) && !excluded.contains(*r) && cidr.contains(*r));
        auto q = quarantined.find(*r);
        FUZZ_CHECK(q == quarantined.end() || q->second <= now);
        held.insert(*r);
      }
    } else if (op == 1) {
      auto a = at(arg);
      Status s = pool.allocateSpecific(a, now);
      if (s.isOk()) {
        FUZZ_CHECK(!held.contains(a) && !excluded.contains(a));
        held.insert(a);
      }
    } else if (op == 2 && !held.empty()) {
      auto it = std::next(held.begin(), arg % held.size());
      FUZZ_CHECK(pool.release(*it, now).isOk());
      quarantined[*it] = now + layout.quarantine;
      held.erase(it);
    } else if (op == 3) {
      FUZZ_CHECK(!pool.release(at(arg), now).isOk() || held.erase(at(arg)) == 1);
    } else {
      clock.advance(std::chrono::seconds(arg % 5));
    }
    auto c = pool.counts();
    FUZZ_CHECK(c.used == held.size());
    FUZZ_CHECK(c.free + c.used + c.quarantined == c.allocatable);
  }
  return 0;
}
