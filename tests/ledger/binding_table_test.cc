// BindingTable against a plain reference model (std::map of BindingRecords): seeded random
// inserts, updates and erases, checking every lookup and the scan after each step; plus the
// edge cases of its compact layout (inline/heap instance names, addresses past the inline
// index references, moved addresses, slot reuse).
#include "ledger/binding_table.h"
#include "addr/addr_test_util.h"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <random>
#include <set>

namespace netledger::ledger {
namespace {

using addr::IpAddress;
using addr::Mac;

using ::netledger::addr::testing_util::ip;

std::string networkOf(const std::string& pool) {
  if (pool == "blue-v4" || pool == "blue-v6") return "blue";
  return "default";
}

std::string networkOfAddress(const BoundAddress& a) { return networkOf(a.pool); }

BindingRecord record(std::uint64_t id, std::string instance,
                     std::vector<BoundAddress> addresses = {}) {
  BindingRecord r;
  r.id = id;
  r.instance = std::move(instance);
  r.addresses = std::move(addresses);
  r.created_at = r.updated_at = 1700000000000 + static_cast<Millis>(id);
  r.version = 1;
  return r;
}

void expectSame(const BindingRecord& want, const std::optional<BindingRecord>& got) {
  ASSERT_TRUE(got.has_value()) << "binding " << want.id << " missing";
  EXPECT_EQ(got->id, want.id);
  EXPECT_EQ(got->instance, want.instance);
  EXPECT_EQ(got->interface, want.interface);
  EXPECT_EQ(got->mac, want.mac);
  EXPECT_EQ(got->mac_pool, want.mac_pool);
  EXPECT_EQ(got->addresses, want.addresses);
  EXPECT_EQ(got->host, want.host);
  EXPECT_EQ(got->host_mac, want.host_mac);
  EXPECT_EQ(got->service, want.service);
  EXPECT_EQ(got->tenant, want.tenant);
  EXPECT_EQ(got->labels, want.labels);
  EXPECT_EQ(got->state, want.state);
  EXPECT_EQ(got->is_static, want.is_static);
  EXPECT_EQ(got->expires_at, want.expires_at);
  EXPECT_EQ(got->ttl_s, want.ttl_s);
  EXPECT_EQ(got->created_at, want.created_at);
  EXPECT_EQ(got->updated_at, want.updated_at);
  EXPECT_EQ(got->version, want.version);
}

TEST(CompactStringTest, KeepsEveryLengthAndByte) {
  for (std::size_t n : {0, 1, 7, 14, 15, 16, 17, 36, 255, 4096}) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += static_cast<char>((i * 37 + n) % 256);  // NULs too
    CompactString c(s);
    EXPECT_EQ(c.view(), s) << "length " << n;
    EXPECT_EQ(c.heapBytes(), n > CompactString::kInlineCapacity ? n : 0) << "length " << n;
    CompactString moved(std::move(c));
    EXPECT_EQ(moved.view(), s);
    EXPECT_EQ(c.view(), "");  // NOLINT(bugprone-use-after-move): moved-from is empty
    CompactString assigned("x");
    assigned = std::move(moved);
    EXPECT_EQ(assigned.view(), s);
    EXPECT_EQ(moved.view(), "");  // NOLINT(bugprone-use-after-move)
  }
  static_assert(sizeof(CompactString) == 16);
}

TEST(BindingTableTest, RoundTripsEveryField) {
  BindingTable t(networkOf);
  BindingRecord r = record(7, "an-instance-name-longer-than-fifteen",
                           {{ip("192.0.2.10"), "p0"}, {ip("2001:db8::10"), "blue-v6"}});
  r.interface = "eth1";
  r.mac = Mac(0x026e6c000001ull);
  r.mac_pool = "macs";
  r.host = "node-1";
  r.host_mac = Mac(0x0a0000000001ull);
  r.service = "web";
  r.tenant = "acme";
  r.labels = {{"team", "net"}, {"a-much-longer-label-key-value", std::string(40, 'v')}};
  r.state = BindingState::kReserved;
  r.is_static = true;
  r.expires_at = 1800000000000;
  r.ttl_s = 3600;
  r.version = 42;
  t.insert(r);
  expectSame(r, t.get(7));
  EXPECT_EQ(t.idByKey(r.instance, "eth1"), 7u);
  EXPECT_EQ(t.idByKey(r.instance, "eth0"), std::nullopt);
  EXPECT_EQ(t.idByIp("default", ip("192.0.2.10")), 7u);
  EXPECT_EQ(t.idByIp("blue", ip("192.0.2.10")), std::nullopt);
  EXPECT_EQ(t.idByIp("blue", ip("2001:db8::10")), 7u);
  EXPECT_EQ(t.idByMac(*r.mac), 7u);
  EXPECT_EQ(t.idByMac(*r.host_mac), std::nullopt);  // the host's MAC is not the binding's

  // A plain binding (nothing rare set) round-trips too, and empty fields stay empty.
  BindingRecord plain = record(8, "short");
  t.insert(plain);
  expectSame(plain, t.get(8));
  EXPECT_EQ(t.size(), 2u);
}

// The times share 16 bytes of the slot (42 bits each): every value at and around the edges of
// that range, and far outside it (negative, the year 2200, the extremes of int64), comes back
// exactly, in any combination, through get() and the scan's view.
TEST(BindingTableTest, EveryTimeRoundTripsInsideAndOutsideThePackedRange) {
  constexpr Millis kEnd = Millis{1} << 42;
  const std::vector<Millis> values = {0,
                                      1,
                                      1733616000123,  // 2024
                                      kEnd - 1,
                                      kEnd,
                                      kEnd + 1,
                                      7258118400000,  // 2200
                                      -1,
                                      std::numeric_limits<Millis>::min(),
                                      std::numeric_limits<Millis>::max()};
  BindingTable t(networkOf);
  std::uint64_t id = 0;
  std::map<std::uint64_t, BindingRecord> want;
  for (Millis e : values) {
    for (Millis c : values) {
      for (Millis u : {values[2], values[3], values[5], values[8]}) {
        ++id;
        BindingRecord r = record(id, "t" + std::to_string(id), {{ip("192.0.2.1"), "p0"}});
        r.addresses[0].ip = *ip("192.0.2.0").plus(id);
        r.expires_at = e;
        r.created_at = c;
        r.updated_at = u;
        t.insert(r);
        want[id] = r;
      }
    }
  }
  for (const auto& [n, r] : want) expectSame(r, t.get(n));
  std::size_t seen = 0;
  t.scan(0, [&](std::size_t, const BindingTable::View& v) {
    EXPECT_EQ(v.expires_at, want[v.id].expires_at) << v.id;
    EXPECT_EQ(v.updated_at, want[v.id].updated_at) << v.id;
    ++seen;
    return true;
  });
  EXPECT_EQ(seen, want.size());
  // An update that moves the times into or out of the packed range keeps them exact too.
  BindingRecord moved = want[1];
  moved.created_at = std::numeric_limits<Millis>::min();
  t.update(moved);
  expectSame(moved, t.get(1));
  moved.created_at = 5;
  t.update(moved);
  expectSame(moved, t.get(1));
}

TEST(BindingTableTest, AddressesPastTheInlineReferencesAreIndexed) {
  BindingTable t(networkOf);
  std::vector<BoundAddress> many;
  for (int i = 1; i <= 20; ++i) {
    many.push_back({ip(("198.51.100." + std::to_string(i)).c_str()), "p0"});
  }
  t.insert(record(1, "vip-holder", many));
  for (const auto& a : many) EXPECT_EQ(t.idByIp("default", a.ip), 1u) << a.ip.toString();
  expectSame(record(1, "vip-holder", many), t.get(1));

  // Dropping the first address shifts every other one down a position: all still found.
  BindingRecord fewer = record(1, "vip-holder", {many.begin() + 1, many.end()});
  t.update(fewer);
  EXPECT_EQ(t.idByIp("default", many[0].ip), std::nullopt);
  for (std::size_t i = 1; i < many.size(); ++i) EXPECT_EQ(t.idByIp("default", many[i].ip), 1u);
  ASSERT_TRUE(t.erase(1));
  for (const auto& a : many) EXPECT_EQ(t.idByIp("default", a.ip), std::nullopt);
}

TEST(BindingTableTest, MovedAddressStaysWithItsNewHolderWhateverTheUpdateOrder) {
  for (bool target_first : {false, true}) {
    BindingTable t(networkOf);
    const IpAddress vip = ip("203.0.113.5");
    t.insert(record(1, "a", {{ip("203.0.113.1"), "p0"}, {vip, "p0"}}));
    t.insert(record(2, "b", {{ip("203.0.113.2"), "p0"}}));
    BindingRecord a = record(1, "a", {{ip("203.0.113.1"), "p0"}});
    BindingRecord b = record(2, "b", {{ip("203.0.113.2"), "p0"}, {vip, "p0"}});
    if (target_first) {
      t.update(b);  // for a moment both hold it: the last indexed wins
      EXPECT_EQ(t.idByIp("default", vip), 2u);
      t.update(a);  // and dropping it from the old holder leaves the new holder's entry
    } else {
      t.update(a);
      EXPECT_EQ(t.idByIp("default", vip), std::nullopt);
      t.update(b);
    }
    EXPECT_EQ(t.idByIp("default", vip), 2u) << "target_first=" << target_first;
    EXPECT_EQ(t.idByIp("default", ip("203.0.113.1")), 1u);
    ASSERT_TRUE(t.erase(1));
    EXPECT_EQ(t.idByIp("default", vip), 2u);
    ASSERT_TRUE(t.erase(2));
    EXPECT_EQ(t.idByIp("default", vip), std::nullopt);
  }
}

TEST(BindingTableTest, FreedSlotsAreReusedAndScanSkipsThem) {
  BindingTable t(networkOf);
  for (std::uint64_t id = 1; id <= 3000; ++id) t.insert(record(id, "vm-" + std::to_string(id)));
  for (std::uint64_t id = 2; id <= 3000; id += 2) ASSERT_TRUE(t.erase(id));
  EXPECT_FALSE(t.erase(2));
  EXPECT_EQ(t.size(), 1500u);
  std::vector<std::uint64_t> seen;
  EXPECT_EQ(t.scan(0,
                   [&](std::size_t slot, const BindingTable::View& v) {
                     EXPECT_EQ(t.idAt(slot), v.id);
                     seen.push_back(v.id);
                     return true;
                   }),
            BindingTable::npos);
  ASSERT_EQ(seen.size(), 1500u);
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 2 * i + 1);
  // New bindings fill the freed slots before growing the storage.
  const std::size_t before = t.memoryBytes();
  for (std::uint64_t id = 5001; id <= 6500; ++id) t.insert(record(id, "vm-" + std::to_string(id)));
  EXPECT_EQ(t.size(), 3000u);
  EXPECT_LE(t.memoryBytes(), before + 3000 * 16);  // no new slots: only index growth, if any
  // Scanning stops where asked and resumes after the last visited slot.
  std::size_t visited = 0;
  std::size_t resume =
      t.scan(0, [&](std::size_t, const BindingTable::View&) { return ++visited < 10; });
  EXPECT_EQ(resume, 10u);
  t.clear();
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.get(1), std::nullopt);
  EXPECT_EQ(t.scan(0, [](std::size_t, const BindingTable::View&) { return true; }),
            BindingTable::npos);
}

// Random operations against the model. Every live binding's (instance, interface), addresses
// (per network) and MAC are kept unique, as the Ledger guarantees.
TEST(BindingTableTest, MatchesAReferenceModelUnderRandomOperations) {
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    std::mt19937_64 rng(seed);
    auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    BindingTable t(networkOf);
    std::map<std::uint64_t, BindingRecord> model;
    std::uint64_t next_id = 1;
    const std::vector<std::string> pools = {"p0", "p1", "blue-v4", "blue-v6", ""};
    const std::vector<std::string> hosts = {"", "node-1", "node-2"};

    auto taken = [&](const BindingRecord& r, std::uint64_t except) {
      for (const auto& [id, m] : model) {
        if (id == except) continue;
        if (m.instance == r.instance && m.interface == r.interface) return true;
        if (r.mac && m.mac == r.mac) return true;
        for (const auto& a : r.addresses) {
          for (const auto& b : m.addresses) {
            if (a.ip == b.ip && networkOfAddress(a) == networkOfAddress(b)) return true;
          }
        }
      }
      return false;
    };
    auto randomRecord = [&](std::uint64_t id) {
      // Instance names around the inline limit, and some long ones.
      std::string name = "i" + std::to_string(pick(300));
      if (pick(3) == 0) name += std::string(pick(30), 'x');
      BindingRecord r = record(id, name);
      r.interface = pick(4) == 0 ? "eth1" : "eth0";
      if (pick(4) != 0) r.mac = Mac(0x020000000000ull + 1 + pick(400));
      r.mac_pool = pick(2) ? "macs" : "";
      std::size_t n = pick(6) == 0 ? 8 + pick(4) : pick(3);  // sometimes past 7 addresses
      std::set<std::pair<IpAddress, std::string>> used;
      for (std::size_t i = 0; i < n; ++i) {
        std::string pool = pools[pick(pools.size())];
        bool v6 = pool == "blue-v6" || (pool.empty() && pick(2) == 0);
        std::string text = v6 ? "2001:db8::" + std::to_string(1 + pick(200))
                              : "192.0.2." + std::to_string(1 + pick(200));
        BoundAddress a{ip(text.c_str()), pool};
        if (!used.insert({a.ip, networkOf(pool)}).second) continue;  // unique per network
        r.addresses.push_back(a);
      }
      r.host = hosts[pick(hosts.size())];
      if (pick(5) == 0) r.host_mac = Mac(0x0a0000000000ull + pick(10));
      if (pick(5) == 0) r.service = "svc-" + std::to_string(pick(3));
      r.tenant = pick(2) ? "acme" : "";
      if (pick(6) == 0) r.labels["k" + std::to_string(pick(3))] = "v";
      r.state = static_cast<BindingState>(pick(4));
      r.is_static = pick(2);
      r.expires_at = pick(2) ? 0 : 1800000000000 + static_cast<Millis>(pick(1000));
      r.ttl_s = static_cast<std::int64_t>(pick(100000));
      r.version = 1 + pick(1000);
      return r;
    };

    for (int step = 0; step < 3000; ++step) {
      std::size_t op = pick(10);
      if (op < 5 || model.empty()) {
        BindingRecord r = randomRecord(next_id);
        if (taken(r, 0)) continue;
        t.insert(r);
        model[next_id++] = r;
      } else if (op < 8) {
        auto it = std::next(model.begin(), static_cast<std::ptrdiff_t>(pick(model.size())));
        BindingRecord r = randomRecord(it->first);
        if (taken(r, it->first)) continue;
        t.update(r);
        it->second = r;
      } else {
        auto it = std::next(model.begin(), static_cast<std::ptrdiff_t>(pick(model.size())));
        ASSERT_TRUE(t.erase(it->first));
        EXPECT_FALSE(t.contains(it->first));
        model.erase(it);
      }
      ASSERT_EQ(t.size(), model.size()) << "seed " << seed << " step " << step;
      if (step % 50 != 0) continue;
      // Full check: every binding and every key it holds; keys nobody holds are not found.
      for (const auto& [id, r] : model) {
        expectSame(r, t.get(id));
        EXPECT_EQ(t.idByKey(r.instance, r.interface), id);
        if (r.mac) {
          EXPECT_EQ(t.idByMac(*r.mac), id);
        }
        for (const auto& a : r.addresses) {
          EXPECT_EQ(t.idByIp(networkOfAddress(a), a.ip), id) << a.ip.toString();
        }
      }
      for (std::uint64_t m = 0; m < 400; ++m) {
        Mac mac(0x020000000000ull + 1 + m);
        auto holder = std::find_if(model.begin(), model.end(),
                                   [&](const auto& e) { return e.second.mac == mac; });
        EXPECT_EQ(t.idByMac(mac), holder == model.end()
                                      ? std::nullopt
                                      : std::optional<std::uint64_t>(holder->first));
      }
      std::set<std::uint64_t> scanned;
      t.scan(0, [&](std::size_t slot, const BindingTable::View& v) {
        const BindingRecord& r = model.at(v.id);
        EXPECT_EQ(v.instance, r.instance);
        EXPECT_EQ(v.host, r.host);
        EXPECT_EQ(v.tenant, r.tenant);
        EXPECT_EQ(v.mac_pool, r.mac_pool);
        EXPECT_EQ(v.mac, r.mac ? r.mac->value() : 0);
        EXPECT_EQ(v.state, r.state);
        EXPECT_EQ(v.is_static, r.is_static);
        EXPECT_EQ(v.expires_at, r.expires_at);
        EXPECT_EQ(v.updated_at, r.updated_at);
        EXPECT_EQ(v.address_count, r.addresses.size());
        for (const auto& a : r.addresses) {
          EXPECT_TRUE(t.hasAddress(slot, a.ip));
          EXPECT_TRUE(t.hasAddressInPool(slot, a.pool));
        }
        EXPECT_FALSE(t.hasAddressInPool(slot, "no-such-pool"));
        EXPECT_TRUE(scanned.insert(v.id).second);
        return true;
      });
      EXPECT_EQ(scanned.size(), model.size());
    }
    EXPECT_EQ(t.get(next_id), std::nullopt);
  }
}

// The footprint issue #3 is about: a million bindings like seed_store's must stay well under
// 300 bytes each in the server. Measured here on 100k with the table's own accounting.
TEST(BindingTableTest, TypicalBindingStaysCompact) {
  BindingTable t(networkOf);
  constexpr std::size_t kCount = 100000;
  t.reserve(kCount);
  const auto base = ip("2001:db8::");  // a documentation prefix with room for 100k
  for (std::size_t i = 0; i < kCount; ++i) {
    BindingRecord r = record(i + 1, "bench-" + std::to_string(i),
                             {{*base.plus(static_cast<addr::uint128>(i) + 1), "p0"}});
    r.mac = Mac(0x026e6c000000ull + i + 1);
    r.mac_pool = "bench-macs";
    r.host = "node-" + std::to_string(i % 100);
    t.insert(r);
  }
  const double per_binding = static_cast<double>(t.memoryBytes()) / kCount;
  EXPECT_LT(per_binding, 150.0);
  EXPECT_GT(per_binding, 104.0);  // the slot alone is 104: the accounting counts it
}

}  // namespace
}  // namespace netledger::ledger
