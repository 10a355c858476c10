#include "alloc/mac_allocator.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "addr/addr_test_util.h"
#include "common/clock.h"
#include "common/crypto.h"

namespace netledger::alloc {
namespace {

using addr::Mac;
using addr::MacPrefix;
using addr::testing_util::mac;
using addr::testing_util::macPrefix;
using std::chrono::milliseconds;
using std::chrono::seconds;

MacPoolLayout layout(const char* prefix, MacStrategy strategy, Duration quarantine = seconds(300)) {
  return MacPoolLayout{.prefix = macPrefix(prefix), .strategy = strategy, .quarantine = quarantine};
}

// The suffix the hash strategy starts probing from, computed independently: the first 8 bytes
// of SHA-256("<length of instance>:" + instance + interface), big-endian, masked to the prefix.
std::uint64_t hashSuffix(const MacPrefix& prefix, const std::string& instance,
                         const std::string& interface) {
  auto digest = sha256(std::to_string(instance.size()) + ":" + instance + interface);
  std::uint64_t h = 0;
  for (int i = 0; i < 8; ++i) h = (h << 8) | digest[i];
  return h & (prefix.size() - 1);
}

std::uint64_t suffixOf(const MacPrefix& prefix, Mac m) { return m.value() & (prefix.size() - 1); }

constexpr MacStrategy kAllStrategies[] = {MacStrategy::kRandom, MacStrategy::kSequential,
                                          MacStrategy::kHash};

// ---------------------------------------------------------------------------------------------
// Strategy names and the default prefix

TEST(MacStrategyTest, NamesRoundTrip) {
  EXPECT_EQ(macStrategyName(MacStrategy::kRandom), "random");
  EXPECT_EQ(macStrategyName(MacStrategy::kSequential), "sequential");
  EXPECT_EQ(macStrategyName(MacStrategy::kHash), "hash");
  for (MacStrategy s : kAllStrategies) {
    auto parsed = parseMacStrategy(macStrategyName(s));
    ASSERT_TRUE(parsed.isOk()) << macStrategyName(s);
    EXPECT_EQ(*parsed, s);
  }
}

TEST(MacStrategyTest, UnknownNameIsInvalidArgumentNamingIt) {
  for (const char* bad : {"roundrobin", "", "Random ", "hashed"}) {
    auto parsed = parseMacStrategy(bad);
    ASSERT_FALSE(parsed.isOk()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find("\"" + std::string(bad) + "\""), std::string::npos)
        << parsed.status().message();
  }
}

TEST(MacStrategyTest, DefaultPrefixIsLocallyAdministered026e6c) {
  MacPrefix p = defaultMacPrefix();
  EXPECT_EQ(p.toString(), "02:6e:6c/24");
  EXPECT_EQ(p.base().value(), 0x026e6c000000u);
  EXPECT_EQ(p.bits(), 24);
  EXPECT_TRUE(p.base().isLocallyAdministered());
  EXPECT_TRUE(p.base().isUnicast());
  EXPECT_FALSE(p.isOui());

  MacPoolLayout defaults;
  EXPECT_EQ(defaults.prefix, defaultMacPrefix());
  EXPECT_EQ(defaults.strategy, MacStrategy::kRandom);
  EXPECT_EQ(defaults.quarantine, seconds(300));
}

// ---------------------------------------------------------------------------------------------
// MacRegistry

// Each test starts from an empty registry and its own fake clock.
class MacRegistryTest : public ::testing::Test {
 protected:
  FakeClock clock;
  MacRegistry reg;
};

TEST_F(MacRegistryTest, ClaimRejectsMulticastBroadcastAndZero) {
  struct Case {
    const char* mac;
    const char* word;
  };
  for (const Case& c :
       {Case{"00:00:00:00:00:00", "all-zero"}, Case{"ff:ff:ff:ff:ff:ff", "broadcast"},
        Case{"01:00:5e:00:00:01", "multicast"}, Case{"33:33:00:00:00:01", "multicast"},
        Case{"03:6e:6c:00:00:01", "multicast"}}) {
    Status s = reg.claim(mac(c.mac), clock.now());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.mac;
    EXPECT_NE(s.message().find(c.word), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(c.mac), std::string::npos) << s.message();
    EXPECT_EQ(reg.stateOf(mac(c.mac)), MacState::kFree);
  }
  EXPECT_EQ(reg.inUseCount(), 0u);
}

TEST_F(MacRegistryTest, ClaimAndDuplicateClaim) {
  Mac m = mac("52:54:00:12:34:56");
  EXPECT_EQ(reg.stateOf(m), MacState::kFree);
  EXPECT_FALSE(reg.isTaken(m));
  ASSERT_TRUE(reg.claim(m, clock.now()).isOk());
  EXPECT_EQ(reg.stateOf(m), MacState::kInUse);
  EXPECT_TRUE(reg.isTaken(m));
  EXPECT_EQ(reg.inUseCount(), 1u);

  Status again = reg.claim(m, clock.now());
  EXPECT_EQ(again.code(), StatusCode::kConflict);
  EXPECT_NE(again.message().find("52:54:00:12:34:56"), std::string::npos);
  EXPECT_NE(again.message().find("in use"), std::string::npos);
  // allow_quarantined does not allow taking an in-use MAC.
  EXPECT_EQ(reg.claim(m, clock.now(), true).code(), StatusCode::kConflict);
  EXPECT_EQ(reg.inUseCount(), 1u);
}

TEST_F(MacRegistryTest, ReleaseQuarantinesUntilTheHoldEnds) {
  Mac m = mac("02:00:00:00:00:01");
  ASSERT_TRUE(reg.claim(m, clock.now()).isOk());
  ASSERT_TRUE(reg.release(m, clock.now(), seconds(60)).isOk());
  EXPECT_EQ(reg.stateOf(m), MacState::kQuarantined);
  EXPECT_TRUE(reg.isTaken(m));
  EXPECT_EQ(reg.inUseCount(), 0u);
  EXPECT_EQ(reg.quarantinedCount(), 1u);

  Status s = reg.claim(m, clock.now());
  EXPECT_EQ(s.code(), StatusCode::kConflict);
  EXPECT_NE(s.message().find("quarantined"), std::string::npos) << s.message();

  clock.advance(seconds(59));
  EXPECT_EQ(reg.sweepQuarantine(clock.now()), 0u);
  EXPECT_EQ(reg.stateOf(m), MacState::kQuarantined);
  EXPECT_EQ(reg.claim(m, clock.now()).code(), StatusCode::kConflict);

  clock.advance(seconds(2));
  EXPECT_EQ(reg.sweepQuarantine(clock.now()), 1u);
  EXPECT_EQ(reg.stateOf(m), MacState::kFree);
  EXPECT_EQ(reg.quarantinedCount(), 0u);
  EXPECT_EQ(reg.inUseCount(), 0u);
  EXPECT_EQ(reg.sweepQuarantine(clock.now()), 0u);
}

TEST_F(MacRegistryTest, ClaimSweepsExpiredQuarantineFirst) {
  Mac m = mac("02:00:00:00:00:01");
  ASSERT_TRUE(reg.claim(m, clock.now()).isOk());
  ASSERT_TRUE(reg.release(m, clock.now(), seconds(10)).isOk());
  clock.advance(seconds(11));
  EXPECT_TRUE(reg.claim(m, clock.now()).isOk());  // no explicit sweep needed
  EXPECT_EQ(reg.stateOf(m), MacState::kInUse);
  EXPECT_EQ(reg.inUseCount(), 1u);
  EXPECT_EQ(reg.quarantinedCount(), 0u);
}

TEST_F(MacRegistryTest, AllowQuarantinedReclaimsAndItsOldExpiryIsIgnored) {
  Mac m = mac("02:00:00:00:00:01");
  ASSERT_TRUE(reg.claim(m, clock.now()).isOk());
  ASSERT_TRUE(reg.release(m, clock.now(), seconds(10)).isOk());
  ASSERT_TRUE(reg.claim(m, clock.now(), /*allow_quarantined=*/true).isOk());
  EXPECT_EQ(reg.stateOf(m), MacState::kInUse);
  EXPECT_EQ(reg.quarantinedCount(), 0u);
  EXPECT_EQ(reg.inUseCount(), 1u);
  clock.advance(seconds(20));
  // The stale expiry must not free the MAC that is in use again.
  EXPECT_EQ(reg.sweepQuarantine(clock.now()), 0u);
  EXPECT_EQ(reg.stateOf(m), MacState::kInUse);
  EXPECT_EQ(reg.inUseCount(), 1u);

  // Re-released later: only the new expiry counts.
  ASSERT_TRUE(reg.release(m, clock.now(), seconds(30)).isOk());
  clock.advance(seconds(29));
  EXPECT_EQ(reg.sweepQuarantine(clock.now()), 0u);
  EXPECT_EQ(reg.stateOf(m), MacState::kQuarantined);
  clock.advance(seconds(2));
  EXPECT_EQ(reg.sweepQuarantine(clock.now()), 1u);
  EXPECT_EQ(reg.stateOf(m), MacState::kFree);
}

TEST_F(MacRegistryTest, ZeroHoldFreesImmediately) {
  Mac m = mac("02:00:00:00:00:01");
  ASSERT_TRUE(reg.claim(m, clock.now()).isOk());
  ASSERT_TRUE(reg.release(m, clock.now(), Duration::zero()).isOk());
  EXPECT_EQ(reg.stateOf(m), MacState::kFree);
  EXPECT_EQ(reg.quarantinedCount(), 0u);
  EXPECT_EQ(reg.inUseCount(), 0u);
  EXPECT_TRUE(reg.claim(m, clock.now()).isOk());
}

TEST_F(MacRegistryTest, ReleaseOfAMacNotInUseIsNotFound) {
  Mac m = mac("02:00:00:00:00:01");
  Status s = reg.release(m, clock.now(), seconds(60));
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("02:00:00:00:00:01"), std::string::npos);
  ASSERT_TRUE(reg.claim(m, clock.now()).isOk());
  ASSERT_TRUE(reg.release(m, clock.now(), seconds(60)).isOk());
  // Releasing a quarantined MAC again is not allowed either, and changes nothing.
  EXPECT_EQ(reg.release(m, clock.now(), seconds(600)).code(), StatusCode::kNotFound);
  EXPECT_EQ(reg.quarantinedCount(), 1u);
  clock.advance(seconds(61));
  EXPECT_EQ(reg.sweepQuarantine(clock.now()), 1u);
}

TEST_F(MacRegistryTest, ExpiriesOutOfOrderAreSweptInTimeOrder) {
  Mac a = mac("02:00:00:00:00:0a"), b = mac("02:00:00:00:00:0b"), c = mac("02:00:00:00:00:0c");
  for (Mac m : {a, b, c}) ASSERT_TRUE(reg.claim(m, clock.now()).isOk());
  ASSERT_TRUE(reg.release(a, clock.now(), seconds(100)).isOk());
  ASSERT_TRUE(reg.release(b, clock.now(), seconds(10)).isOk());
  ASSERT_TRUE(reg.release(c, clock.now(), seconds(50)).isOk());
  EXPECT_EQ(reg.quarantinedCount(), 3u);
  clock.advance(seconds(11));
  EXPECT_EQ(reg.sweepQuarantine(clock.now()), 1u);
  EXPECT_EQ(reg.stateOf(b), MacState::kFree);
  EXPECT_EQ(reg.stateOf(a), MacState::kQuarantined);
  EXPECT_EQ(reg.stateOf(c), MacState::kQuarantined);
  clock.advance(seconds(40));
  EXPECT_EQ(reg.sweepQuarantine(clock.now()), 1u);
  EXPECT_EQ(reg.stateOf(c), MacState::kFree);
  clock.advance(seconds(50));
  EXPECT_EQ(reg.sweepQuarantine(clock.now()), 1u);
  EXPECT_EQ(reg.stateOf(a), MacState::kFree);
  EXPECT_EQ(reg.quarantinedCount(), 0u);
}

TEST_F(MacRegistryTest, ForgetDropsAMacInAnyState) {
  Mac a = mac("02:00:00:00:00:0a"), b = mac("02:00:00:00:00:0b");
  ASSERT_TRUE(reg.claim(a, clock.now()).isOk());
  ASSERT_TRUE(reg.claim(b, clock.now()).isOk());
  ASSERT_TRUE(reg.release(b, clock.now(), seconds(10)).isOk());
  reg.forget(a);
  reg.forget(b);
  reg.forget(mac("02:00:00:00:00:0c"));  // unknown: no effect
  EXPECT_EQ(reg.stateOf(a), MacState::kFree);
  EXPECT_EQ(reg.stateOf(b), MacState::kFree);
  EXPECT_EQ(reg.inUseCount(), 0u);
  EXPECT_EQ(reg.quarantinedCount(), 0u);
  // b's old expiry is stale: claimed again, it stays in use after that time.
  ASSERT_TRUE(reg.claim(b, clock.now()).isOk());
  clock.advance(seconds(20));
  EXPECT_EQ(reg.sweepQuarantine(clock.now()), 0u);
  EXPECT_EQ(reg.stateOf(b), MacState::kInUse);
  EXPECT_EQ(reg.inUseCount(), 1u);
}

// ---------------------------------------------------------------------------------------------
// MacAllocator: prefixes and MAC properties

TEST(MacAllocatorTest, SizeExcludesAllZero) {
  MacRegistry reg;
  EXPECT_EQ(MacAllocator(MacPoolLayout{}, reg).size(), std::uint64_t{1} << 24);
  EXPECT_EQ(MacAllocator(layout("02:00:00:00:00:00/44", MacStrategy::kRandom), reg).size(), 16u);
  EXPECT_EQ(MacAllocator(layout("00:00:00:00:00:00/44", MacStrategy::kRandom), reg).size(), 15u);
  EXPECT_EQ(MacAllocator(layout("52:54:00", MacStrategy::kRandom), reg).size(),
            std::uint64_t{1} << 24);
}

TEST(MacAllocatorTest, DefaultPrefixGivesLocallyAdministeredUnicastMacs) {
  for (MacStrategy s : kAllStrategies) {
    SCOPED_TRACE(std::string(macStrategyName(s)));
    FakeClock clock;
    MacRegistry reg;
    MacAllocator alloc(MacPoolLayout{.strategy = s}, reg);
    std::set<Mac> seen;
    for (int i = 0; i < 300; ++i) {
      auto r = alloc.allocate(clock.now(), "vm-" + std::to_string(i), "eth0");
      ASSERT_TRUE(r.isOk()) << r.status().toString();
      Mac m = *r;
      EXPECT_TRUE(defaultMacPrefix().contains(m)) << m.toString();
      EXPECT_EQ(m.oui(), 0x026e6cu) << m.toString();
      EXPECT_TRUE(m.isLocallyAdministered()) << m.toString();
      EXPECT_TRUE(m.isUnicast()) << m.toString();
      EXPECT_FALSE(m.isZero());
      EXPECT_FALSE(m.isBroadcast());
      EXPECT_EQ(reg.stateOf(m), MacState::kInUse);
      EXPECT_TRUE(seen.insert(m).second) << "duplicate " << m.toString();
    }
    EXPECT_EQ(reg.inUseCount(), 300u);
  }
}

TEST(MacAllocatorTest, OuiPrefixGivesUniversalMacs) {
  MacPrefix xen = macPrefix("00:16:3e");  // an IEEE-assigned OUI: U/L bit clear
  EXPECT_TRUE(xen.isOui());
  for (MacStrategy s : kAllStrategies) {
    SCOPED_TRACE(std::string(macStrategyName(s)));
    FakeClock clock;
    MacRegistry reg;
    MacAllocator alloc(MacPoolLayout{.prefix = xen, .strategy = s}, reg);
    for (int i = 0; i < 100; ++i) {
      auto r = alloc.allocate(clock.now(), "vm", "eth" + std::to_string(i));
      ASSERT_TRUE(r.isOk()) << r.status().toString();
      EXPECT_TRUE(r->isUniversal()) << r->toString();
      EXPECT_TRUE(r->isUnicast()) << r->toString();
      EXPECT_EQ(r->oui(), 0x00163eu) << r->toString();
      EXPECT_EQ(r->ouiString(), "00:16:3e");
    }
  }
}

TEST(MacAllocatorTest, QemuPrefix525400IsLocallyAdministered) {
  // 0x52 = 0101'0010: the U/L bit is set, so QEMU's conventional prefix is not an IEEE OUI and
  // the MACs drawn from it are locally administered.
  MacPrefix qemu = macPrefix("52:54:00");
  EXPECT_EQ(qemu.toString(), "52:54:00/24");
  EXPECT_FALSE(qemu.isOui());
  FakeClock clock;
  MacRegistry reg;
  MacAllocator alloc(MacPoolLayout{.prefix = qemu, .strategy = MacStrategy::kSequential}, reg);
  auto r = alloc.allocate(clock.now());
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->toString(), "52:54:00:00:00:00");
  EXPECT_TRUE(r->isLocallyAdministered());
  EXPECT_TRUE(r->isUnicast());
}

// ---------------------------------------------------------------------------------------------
// Exhaustion

TEST(MacAllocatorTest, A44BitPrefixYieldsExactly16ThenPoolExhausted) {
  for (MacStrategy s : kAllStrategies) {
    SCOPED_TRACE(std::string(macStrategyName(s)));
    FakeClock clock;
    MacRegistry reg;
    MacAllocator alloc(layout("02:00:00:00:00:00/44", s), reg);
    std::set<std::uint64_t> got;
    for (int i = 0; i < 16; ++i) {
      auto r = alloc.allocate(clock.now(), "vm", "eth" + std::to_string(i));
      ASSERT_TRUE(r.isOk()) << i << ": " << r.status().toString();
      EXPECT_TRUE(alloc.layout().prefix.contains(*r)) << r->toString();
      EXPECT_TRUE(got.insert(r->value()).second) << "duplicate " << r->toString();
    }
    EXPECT_EQ(got.size(), 16u);
    EXPECT_EQ(*got.begin(), 0x020000000000u);
    EXPECT_EQ(*got.rbegin(), 0x02000000000fu);
    for (int i = 0; i < 3; ++i) {
      auto r = alloc.allocate(clock.now(), "vm", "eth-more");
      ASSERT_FALSE(r.isOk()) << r->toString();
      EXPECT_EQ(r.status().code(), StatusCode::kPoolExhausted);
      EXPECT_NE(r.status().message().find("02:00:00:00:00:00/44"), std::string::npos)
          << r.status().message();
    }
    EXPECT_EQ(reg.inUseCount(), 16u);
  }
}

TEST(MacAllocatorTest, AllZeroPrefixYields15AndNeverTheZeroMac) {
  for (MacStrategy s : kAllStrategies) {
    SCOPED_TRACE(std::string(macStrategyName(s)));
    FakeClock clock;
    MacRegistry reg;
    MacAllocator alloc(layout("00:00:00:00:00:00/44", s), reg);
    std::set<std::uint64_t> got;
    for (int i = 0; i < 15; ++i) {
      auto r = alloc.allocate(clock.now(), "", "");  // the hash strategy probes from one point
      ASSERT_TRUE(r.isOk()) << i << ": " << r.status().toString();
      EXPECT_FALSE(r->isZero());
      EXPECT_TRUE(got.insert(r->value()).second) << "duplicate " << r->toString();
    }
    EXPECT_EQ(*got.begin(), 1u);
    EXPECT_EQ(*got.rbegin(), 15u);
    auto r = alloc.allocate(clock.now());
    ASSERT_FALSE(r.isOk()) << r->toString();
    EXPECT_EQ(r.status().code(), StatusCode::kPoolExhausted);
    EXPECT_EQ(reg.stateOf(Mac(0)), MacState::kFree);
  }
}

// ---------------------------------------------------------------------------------------------
// Global uniqueness across allocators sharing one registry

TEST(MacAllocatorTest, AllocatorsWithTheSamePrefixNeverHandOutTheSameMac) {
  FakeClock clock;
  MacRegistry reg;
  std::mt19937_64 rng(99);
  MacAllocator seq(layout("02:00:00:00:01:00/40", MacStrategy::kSequential), reg);
  MacAllocator rnd(layout("02:00:00:00:01:00/40", MacStrategy::kRandom), reg,
                   [&] { return rng(); });
  MacAllocator hsh(layout("02:00:00:00:01:00/40", MacStrategy::kHash), reg);
  MacAllocator* allocs[] = {&seq, &rnd, &hsh};
  std::set<Mac> seen;
  for (int i = 0; i < 256; ++i) {
    auto r = allocs[i % 3]->allocate(clock.now(), "vm-" + std::to_string(i % 7), "eth0");
    ASSERT_TRUE(r.isOk()) << i << ": " << r.status().toString();
    EXPECT_TRUE(macPrefix("02:00:00:00:01:00/40").contains(*r)) << r->toString();
    EXPECT_TRUE(seen.insert(*r).second) << "duplicate " << r->toString() << " at " << i;
  }
  EXPECT_EQ(seen.size(), 256u);
  for (MacAllocator* a : allocs) {
    EXPECT_EQ(a->allocate(clock.now(), "x", "y").status().code(), StatusCode::kPoolExhausted);
  }
}

TEST(MacAllocatorTest, ASequentialCursorSetElsewhereGoesOnFromThereAndWraps) {
  FakeClock clock;
  MacRegistry reg;
  MacAllocator seq(layout("02:00:00:00:01:00/40", MacStrategy::kSequential), reg);
  seq.setCursor(0x1fe);  // wrapped to the prefix: suffix 0xfe
  std::vector<std::string> got;
  for (int i = 0; i < 3; ++i) got.push_back(seq.allocate(clock.now()).value().toString());
  EXPECT_EQ(got, (std::vector<std::string>{"02:00:00:00:01:fe", "02:00:00:00:01:ff",
                                           "02:00:00:00:01:00"}));
}

TEST(MacAllocatorTest, AllocatorsWithOverlappingPrefixesNeverHandOutTheSameMac) {
  FakeClock clock;
  MacRegistry reg;
  std::mt19937_64 rng(7);
  MacAllocator wide(layout("02:00:00:00:01:00/40", MacStrategy::kRandom), reg,
                    [&] { return rng(); });
  MacAllocator top16(layout("02:00:00:00:01:f0/44", MacStrategy::kSequential), reg);
  MacAllocator low64(layout("02:00:00:00:01:00/42", MacStrategy::kHash), reg);
  std::set<Mac> seen;
  int from_top = 0, from_low = 0, from_wide = 0;
  // Round-robin until every allocator is exhausted.
  for (int round = 0; round < 300; ++round) {
    bool any = false;
    struct Named {
      MacAllocator* a;
      int* count;
    };
    for (Named n : {Named{&top16, &from_top}, Named{&low64, &from_low}, Named{&wide, &from_wide}}) {
      auto r = n.a->allocate(clock.now(), "vm-" + std::to_string(round), "eth0");
      if (!r.isOk()) {
        EXPECT_EQ(r.status().code(), StatusCode::kPoolExhausted);
        continue;
      }
      any = true;
      ++*n.count;
      EXPECT_TRUE(n.a->layout().prefix.contains(*r)) << r->toString();
      EXPECT_TRUE(seen.insert(*r).second) << "duplicate " << r->toString();
    }
    if (!any) break;
  }
  EXPECT_EQ(seen.size(), 256u);
  EXPECT_EQ(from_top + from_low + from_wide, 256);
  EXPECT_LE(from_top, 16);
  EXPECT_LE(from_low, 64);
  EXPECT_EQ(reg.inUseCount(), 256u);
}

TEST(MacAllocatorTest, ExplicitlyClaimedMacsAreNeverHandedOut) {
  for (MacStrategy s : kAllStrategies) {
    SCOPED_TRACE(std::string(macStrategyName(s)));
    FakeClock clock;
    MacRegistry reg;
    MacPrefix p = macPrefix("02:00:00:00:01:00/40");
    std::set<Mac> claimed;
    for (std::uint64_t i = 0; i < 256; i += 3) {
      ASSERT_TRUE(reg.claim(p.at(i), clock.now()).isOk());
      claimed.insert(p.at(i));
    }
    ASSERT_TRUE(reg.claim(mac("02:00:00:00:02:00"), clock.now()).isOk());  // outside the prefix
    MacAllocator alloc(MacPoolLayout{.prefix = p, .strategy = s}, reg);
    std::set<Mac> got;
    for (;;) {
      auto r = alloc.allocate(clock.now(), "vm-" + std::to_string(got.size()), "eth0");
      if (!r.isOk()) {
        EXPECT_EQ(r.status().code(), StatusCode::kPoolExhausted);
        break;
      }
      EXPECT_FALSE(claimed.contains(*r)) << "handed out claimed " << r->toString();
      EXPECT_TRUE(got.insert(*r).second) << "duplicate " << r->toString();
      ASSERT_LE(got.size(), 256u);
    }
    EXPECT_EQ(got.size(), 256u - claimed.size());
  }
}

// ---------------------------------------------------------------------------------------------
// Hash strategy

TEST(MacAllocatorTest, HashStartsAtTheDigestOfInstanceAndInterface) {
  FakeClock clock;
  MacRegistry reg;
  MacAllocator alloc(MacPoolLayout{.strategy = MacStrategy::kHash}, reg);
  auto r = alloc.allocate(clock.now(), "vm-1", "eth0");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->toString(),
            defaultMacPrefix().at(hashSuffix(defaultMacPrefix(), "vm-1", "eth0")).toString());
}

TEST(MacAllocatorTest, HashKeyDoesNotConfuseWhereInstanceEndsAndInterfaceBegins) {
  FakeClock clock;
  MacRegistry registry_a, registry_b;
  MacAllocator a(layout("02:6e:6c", MacStrategy::kHash), registry_a);
  MacAllocator b(layout("02:6e:6c", MacStrategy::kHash), registry_b);
  // With a plain separator these two pairs would share a key and so a MAC.
  Mac first = a.allocate(clock.now(), "vm\neth", "0").value();
  Mac second = b.allocate(clock.now(), "vm", "eth\n0").value();
  EXPECT_NE(first, second);
}

TEST(MacAllocatorTest, HashIsStableAcrossRegistries) {
  FakeClock clock;
  MacRegistry reg1, reg2;
  MacAllocator a1(MacPoolLayout{.strategy = MacStrategy::kHash}, reg1);
  MacAllocator a2(MacPoolLayout{.strategy = MacStrategy::kHash}, reg2);
  for (int i = 0; i < 20; ++i) {
    std::string inst = "instance-" + std::to_string(i);
    auto m1 = a1.allocate(clock.now(), inst, "eth1");
    auto m2 = a2.allocate(clock.now(), inst, "eth1");
    ASSERT_TRUE(m1.isOk() && m2.isOk());
    EXPECT_EQ(m1->toString(), m2->toString());
  }
}

TEST(MacAllocatorTest, HashGivesTheSameMacBackAfterQuarantineExpires) {
  FakeClock clock;
  MacRegistry reg;
  MacAllocator alloc(MacPoolLayout{.strategy = MacStrategy::kHash, .quarantine = seconds(60)}, reg);
  auto first = alloc.allocate(clock.now(), "vm-1", "eth0");
  ASSERT_TRUE(first.isOk());
  ASSERT_TRUE(alloc.release(*first, clock.now()).isOk());
  EXPECT_EQ(reg.stateOf(*first), MacState::kQuarantined);

  // While quarantined, the same pair probes on to the next suffix.
  auto during = alloc.allocate(clock.now(), "vm-1", "eth0");
  ASSERT_TRUE(during.isOk());
  EXPECT_NE(during->value(), first->value());
  EXPECT_EQ(suffixOf(defaultMacPrefix(), *during),
            (suffixOf(defaultMacPrefix(), *first) + 1) & 0xffffff);
  ASSERT_TRUE(alloc.release(*during, clock.now()).isOk());

  clock.advance(seconds(61));
  auto again = alloc.allocate(clock.now(), "vm-1", "eth0");
  ASSERT_TRUE(again.isOk());
  EXPECT_EQ(again->toString(), first->toString());
}

TEST(MacAllocatorTest, HashOfDifferentPairsUsuallyDiffers) {
  FakeClock clock;
  MacRegistry reg;
  MacAllocator alloc(MacPoolLayout{.strategy = MacStrategy::kHash, .quarantine = Duration::zero()},
                     reg);
  std::set<Mac> distinct;
  int pairs = 0;
  for (int i = 0; i < 30; ++i) {
    for (const char* iface : {"eth0", "eth1"}) {
      // Allocated and released at once (zero hold): every pair sees an empty registry.
      auto r = alloc.allocate(clock.now(), "vm-" + std::to_string(i), iface);
      ASSERT_TRUE(r.isOk());
      ASSERT_TRUE(alloc.release(*r, clock.now()).isOk());
      distinct.insert(*r);
      ++pairs;
    }
  }
  EXPECT_EQ(reg.inUseCount(), 0u);
  // 60 draws from 2^24: a collision is possible in principle but not for these names.
  EXPECT_GE(distinct.size(), static_cast<std::size_t>(pairs - 1));
  // Instance and interface are not simply concatenated ("ab"+"c" vs "a"+"bc").
  auto ab = alloc.allocate(clock.now(), "ab", "c");
  ASSERT_TRUE(ab.isOk());
  ASSERT_TRUE(alloc.release(*ab, clock.now()).isOk());
  auto a_bc = alloc.allocate(clock.now(), "a", "bc");
  ASSERT_TRUE(a_bc.isOk());
  EXPECT_NE(ab->value(), a_bc->value());
}

TEST(MacAllocatorTest, HashCollisionProbesOnwardToAFreeMac) {
  FakeClock clock;
  MacRegistry reg;
  MacPrefix p = defaultMacPrefix();
  std::uint64_t h = hashSuffix(p, "vm-7", "eth0");
  // Someone else holds the hashed MAC and the one after it.
  ASSERT_TRUE(reg.claim(p.at(h), clock.now()).isOk());
  ASSERT_TRUE(reg.claim(p.at((h + 1) & 0xffffff), clock.now()).isOk());
  MacAllocator alloc(MacPoolLayout{.strategy = MacStrategy::kHash}, reg);
  auto r = alloc.allocate(clock.now(), "vm-7", "eth0");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->toString(), p.at((h + 2) & 0xffffff).toString());
}

TEST(MacAllocatorTest, HashProbeWrapsAroundThePrefixAndSkipsTheZeroMac) {
  FakeClock clock;
  MacRegistry reg;
  MacPrefix p = macPrefix("00:00:00:00:00:00/44");
  // A name whose hashed suffix is at least 2, so the wrap-around is visible.
  std::string inst;
  std::uint64_t h = 0;
  for (int i = 0; h < 2; ++i) {
    inst = "wrap-" + std::to_string(i);
    h = hashSuffix(p, inst, "eth0");
  }
  // Everything from the hashed suffix to the end of the prefix is taken: the probe wraps past
  // suffix 0 (the all-zero MAC) to suffix 1.
  for (std::uint64_t s = h; s < 16; ++s) ASSERT_TRUE(reg.claim(p.at(s), clock.now()).isOk());
  MacAllocator alloc(MacPoolLayout{.prefix = p, .strategy = MacStrategy::kHash}, reg);
  auto r = alloc.allocate(clock.now(), inst, "eth0");
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->toString(), "00:00:00:00:00:01");
}

// ---------------------------------------------------------------------------------------------
// Sequential strategy

TEST(MacAllocatorTest, SequentialHandsOutConsecutiveMacs) {
  FakeClock clock;
  MacRegistry reg;
  MacAllocator alloc(MacPoolLayout{.strategy = MacStrategy::kSequential}, reg);
  std::vector<std::string> got;
  for (int i = 0; i < 4; ++i) got.push_back(alloc.allocate(clock.now())->toString());
  EXPECT_EQ(got, (std::vector<std::string>{"02:6e:6c:00:00:00", "02:6e:6c:00:00:01",
                                           "02:6e:6c:00:00:02", "02:6e:6c:00:00:03"}));
  // An explicitly claimed MAC in the way is skipped.
  ASSERT_TRUE(reg.claim(mac("02:6e:6c:00:00:05"), clock.now()).isOk());
  EXPECT_EQ(alloc.allocate(clock.now())->toString(), "02:6e:6c:00:00:04");
  EXPECT_EQ(alloc.allocate(clock.now())->toString(), "02:6e:6c:00:00:06");
}

TEST(MacAllocatorTest, SequentialDoesNotReuseTheJustReleasedMacNext) {
  for (Duration hold : {Duration::zero(), Duration(seconds(300))}) {
    SCOPED_TRACE(hold == Duration::zero() ? "zero hold" : "300 s hold");
    FakeClock clock;
    MacRegistry reg;
    MacAllocator alloc(layout("02:6e:6c/24", MacStrategy::kSequential, hold), reg);
    Mac last;
    for (int i = 0; i < 4; ++i) last = alloc.allocate(clock.now()).value();
    ASSERT_EQ(last.toString(), "02:6e:6c:00:00:03");
    ASSERT_TRUE(alloc.release(last, clock.now()).isOk());
    EXPECT_EQ(alloc.allocate(clock.now())->toString(), "02:6e:6c:00:00:04");
    ASSERT_TRUE(alloc.release(mac("02:6e:6c:00:00:01"), clock.now()).isOk());
    EXPECT_EQ(alloc.allocate(clock.now())->toString(), "02:6e:6c:00:00:05");
  }
}

TEST(MacAllocatorTest, SequentialWrapsAroundToFreedMacs) {
  FakeClock clock;
  MacRegistry reg;
  MacAllocator alloc(layout("02:00:00:00:00:00/44", MacStrategy::kSequential, Duration::zero()),
                     reg);
  for (int i = 0; i < 16; ++i) ASSERT_TRUE(alloc.allocate(clock.now()).isOk());
  ASSERT_TRUE(alloc.release(mac("02:00:00:00:00:03"), clock.now()).isOk());
  EXPECT_EQ(alloc.allocate(clock.now())->toString(), "02:00:00:00:00:03");
  ASSERT_TRUE(alloc.release(mac("02:00:00:00:00:00"), clock.now()).isOk());
  ASSERT_TRUE(alloc.release(mac("02:00:00:00:00:07"), clock.now()).isOk());
  EXPECT_EQ(alloc.allocate(clock.now())->toString(), "02:00:00:00:00:07");
  EXPECT_EQ(alloc.allocate(clock.now())->toString(), "02:00:00:00:00:00");
  EXPECT_EQ(alloc.allocate(clock.now()).status().code(), StatusCode::kPoolExhausted);
}

// ---------------------------------------------------------------------------------------------
// Random strategy

TEST(MacAllocatorTest, RandomWithAStuckSourceFallsBackToScanning) {
  FakeClock clock;
  MacRegistry reg;
  int calls = 0;
  MacAllocator alloc(layout("02:00:00:00:00:00/44", MacStrategy::kRandom), reg, [&] {
    ++calls;
    return std::uint64_t{0xabcdef5};  // suffix 5, every time
  });
  std::vector<std::uint64_t> suffixes;
  for (int i = 0; i < 16; ++i) {
    auto r = alloc.allocate(clock.now());
    ASSERT_TRUE(r.isOk()) << i << ": " << r.status().toString();
    suffixes.push_back(r->value() & 0xf);
  }
  EXPECT_EQ(suffixes,
            (std::vector<std::uint64_t>{5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4}));
  EXPECT_GT(calls, 64);
  EXPECT_EQ(alloc.allocate(clock.now()).status().code(), StatusCode::kPoolExhausted);
}

TEST(MacAllocatorTest, RandomNeverReturnsTheZeroMacEvenWhenDrawn) {
  FakeClock clock;
  MacRegistry reg;
  MacAllocator alloc(layout("00:00:00:00:00:00/44", MacStrategy::kRandom), reg,
                     [] { return std::uint64_t{0}; });
  auto r = alloc.allocate(clock.now());
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->value(), 1u);
}

TEST(MacAllocatorTest, RandomUsesTheInjectedSource) {
  FakeClock clock;
  MacRegistry reg;
  std::vector<std::uint64_t> values = {0x123456, 0xffffff000042, 0x123456, 0x777};
  std::size_t next = 0;
  MacAllocator alloc(MacPoolLayout{}, reg, [&] { return values[next++ % values.size()]; });
  EXPECT_EQ(alloc.allocate(clock.now())->toString(), "02:6e:6c:12:34:56");
  EXPECT_EQ(alloc.allocate(clock.now())->toString(), "02:6e:6c:00:00:42");
  // 0x123456 is taken now: the next draw is used.
  EXPECT_EQ(alloc.allocate(clock.now())->toString(), "02:6e:6c:00:07:77");
}

TEST(MacAllocatorTest, RandomInAHugeNearlyFullPrefixReportsExhaustion) {
  // 2^28 MACs is too large to scan: after 64 colliding draws the allocator gives up.
  FakeClock clock;
  MacRegistry reg;
  MacAllocator alloc(layout("02:00:00:00:00:00/20", MacStrategy::kRandom), reg,
                     [] { return std::uint64_t{42}; });
  ASSERT_TRUE(alloc.allocate(clock.now()).isOk());
  auto r = alloc.allocate(clock.now());
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kPoolExhausted);
}

// ---------------------------------------------------------------------------------------------
// Quarantine through the allocator

TEST(MacAllocatorTest, ReleasedMacsAreQuarantinedForThePoolsHold) {
  FakeClock clock;
  MacRegistry reg;
  MacAllocator alloc(layout("02:00:00:00:00:00/44", MacStrategy::kSequential, seconds(60)), reg);
  for (int i = 0; i < 16; ++i) ASSERT_TRUE(alloc.allocate(clock.now()).isOk());
  Mac m = mac("02:00:00:00:00:05");
  ASSERT_TRUE(alloc.release(m, clock.now()).isOk());
  EXPECT_EQ(reg.stateOf(m), MacState::kQuarantined);
  EXPECT_EQ(alloc.release(m, clock.now()).code(), StatusCode::kNotFound);
  EXPECT_EQ(alloc.allocate(clock.now()).status().code(), StatusCode::kPoolExhausted);
  clock.advance(seconds(59));
  EXPECT_EQ(alloc.allocate(clock.now()).status().code(), StatusCode::kPoolExhausted);
  EXPECT_EQ(reg.claim(m, clock.now()).code(), StatusCode::kConflict);
  clock.advance(milliseconds(1001));
  auto r = alloc.allocate(clock.now());
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->toString(), "02:00:00:00:00:05");
  EXPECT_EQ(reg.stateOf(m), MacState::kInUse);
  EXPECT_EQ(reg.quarantinedCount(), 0u);
  EXPECT_EQ(alloc.release(mac("02:00:00:00:01:00"), clock.now()).code(), StatusCode::kNotFound);
}

// ---------------------------------------------------------------------------------------------
// Property test: two allocators on one registry versus a reference model.

struct PropertyConfig {
  const char* name;
  const char* prefix_a;
  MacStrategy strategy_a;
  Duration hold_a;
  const char* prefix_b;
  MacStrategy strategy_b;
  Duration hold_b;
  std::uint64_t seed;
};

void PrintTo(const PropertyConfig& c, std::ostream* os) { *os << c.name; }

class MacAllocatorPropertyTest : public ::testing::TestWithParam<PropertyConfig> {};

TEST_P(MacAllocatorPropertyTest, MatchesReferenceModel) {
  const PropertyConfig& cfg = GetParam();
  std::mt19937_64 rng(cfg.seed);
  std::mt19937_64 alloc_rng(cfg.seed ^ 0x5eed);
  FakeClock clock;
  MacRegistry reg;
  MacAllocator a(layout(cfg.prefix_a, cfg.strategy_a, cfg.hold_a), reg,
                 [&] { return alloc_rng(); });
  MacAllocator b(layout(cfg.prefix_b, cfg.strategy_b, cfg.hold_b), reg,
                 [&] { return alloc_rng(); });
  MacAllocator* allocs[] = {&a, &b};
  const Duration holds[] = {cfg.hold_a, cfg.hold_b};

  // The universe: every MAC of both prefixes (the wider one contains the other or they are
  // disjoint) plus a few outside both.
  std::set<std::uint64_t> universe;
  for (MacAllocator* al : allocs) {
    for (std::uint64_t s = 0; s < al->layout().prefix.size(); ++s) {
      universe.insert(al->layout().prefix.at(s).value());
    }
  }
  for (std::uint64_t v : {0x02ffffffff01ull, 0x02ffffffff02ull, 0x525400000001ull})
    universe.insert(v);
  std::vector<std::uint64_t> universe_list(universe.begin(), universe.end());

  // Model: mac -> quarantine end (ticks), or nullopt while in use. Absent = free.
  std::map<std::uint64_t, std::optional<Duration::rep>> model;
  auto ticks = [&] { return clock.now().time_since_epoch().count(); };
  auto modelSweep = [&] {
    std::size_t freed = 0;
    for (auto it = model.begin(); it != model.end();) {
      if (it->second && *it->second <= ticks()) {
        it = model.erase(it);
        ++freed;
      } else {
        ++it;
      }
    }
    return freed;
  };
  auto modelCounts = [&] {
    std::pair<std::size_t, std::size_t> in_use_quarantined{0, 0};
    for (const auto& [m, until] : model)
      (until ? in_use_quarantined.second : in_use_quarantined.first)++;
    return in_use_quarantined;
  };
  auto modelHasFree = [&](const MacPrefix& p) {
    for (std::uint64_t s = 0; s < p.size(); ++s) {
      Mac m = p.at(s);
      if (!m.isZero() && !model.contains(m.value())) return true;
    }
    return false;
  };
  auto randomMac = [&] { return Mac(universe_list[rng() % universe_list.size()]); };

  int allocations = 0, exhaustions = 0, releases = 0, claims = 0, expiries = 0;
  for (int step = 0; step < 8000; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    auto op = rng() % 100;
    if (op < 40) {  // allocate
      int k = static_cast<int>(rng() % 2);
      MacAllocator& al = *allocs[k];
      std::string inst = "vm-" + std::to_string(rng() % 8),
                  iface = "eth" + std::to_string(rng() % 2);
      modelSweep();  // allocation sweeps expired quarantine first
      bool has_free = modelHasFree(al.layout().prefix);
      auto r = al.allocate(clock.now(), inst, iface);
      if (r.isOk()) {
        ASSERT_TRUE(has_free);
        Mac m = *r;
        ASSERT_TRUE(al.layout().prefix.contains(m)) << m.toString();
        ASSERT_FALSE(m.isZero());
        ASSERT_TRUE(m.isUnicast()) << m.toString();
        auto it = model.find(m.value());
        ASSERT_TRUE(it == model.end())
            << m.toString()
            << (it != model.end() && it->second ? " is still quarantined" : " is already in use");
        model[m.value()] = std::nullopt;
        ++allocations;
      } else {
        ASSERT_EQ(r.status().code(), StatusCode::kPoolExhausted) << r.status().toString();
        ASSERT_FALSE(has_free) << "exhaustion reported while the model has a free MAC in "
                               << al.layout().prefix.toString();
        ++exhaustions;
      }
    } else if (op < 65) {  // release
      int k = static_cast<int>(rng() % 2);
      Mac m;
      std::vector<std::uint64_t> in_use;
      for (const auto& [v, until] : model) {
        if (!until) in_use.push_back(v);
      }
      if (!in_use.empty() && rng() % 5 != 0) {
        m = Mac(in_use[rng() % in_use.size()]);
      } else {
        m = randomMac();
      }
      Status s = allocs[k]->release(m, clock.now());
      auto it = model.find(m.value());
      if (it != model.end() && !it->second) {
        ASSERT_TRUE(s.isOk()) << s.toString();
        if (holds[k] > Duration::zero()) {
          it->second = (clock.now() + holds[k]).time_since_epoch().count();
        } else {
          model.erase(it);
        }
        ++releases;
      } else {
        ASSERT_EQ(s.code(), StatusCode::kNotFound) << m.toString();
      }
    } else if (op < 77) {  // advance the clock
      clock.advance(milliseconds(rng() % 20000));
    } else if (op < 82) {  // sweep
      std::size_t expected = modelSweep();
      ASSERT_EQ(reg.sweepQuarantine(clock.now()), expected);
      expiries += static_cast<int>(expected);
    } else {  // explicit claim
      bool allow = rng() % 4 == 0;
      Mac m;
      switch (rng() % 10) {
        case 0:
          m = Mac(0);
          break;
        case 1:
          m = Mac(0x030000000000ull | (rng() & 0xff));
          break;  // multicast
        case 2:
          m = Mac(Mac::kMask);
          break;
        default:
          m = randomMac();
      }
      Status s = reg.claim(m, clock.now(), allow);
      if (m.isZero() || m.isMulticast()) {
        ASSERT_EQ(s.code(), StatusCode::kInvalidArgument) << m.toString();
      } else {
        modelSweep();
        auto it = model.find(m.value());
        if (it == model.end()) {
          ASSERT_TRUE(s.isOk()) << s.toString();
          model[m.value()] = std::nullopt;
          ++claims;
        } else if (!it->second) {
          ASSERT_EQ(s.code(), StatusCode::kConflict) << m.toString();
        } else if (allow) {
          ASSERT_TRUE(s.isOk()) << s.toString();
          it->second = std::nullopt;
          ++claims;
        } else {
          ASSERT_EQ(s.code(), StatusCode::kConflict) << m.toString();
        }
      }
    }

    auto [in_use, quarantined] = modelCounts();
    ASSERT_EQ(reg.inUseCount(), in_use);
    ASSERT_EQ(reg.quarantinedCount(), quarantined);
    if (step % 50 == 0) {
      for (std::uint64_t v : universe_list) {
        auto it = model.find(v);
        MacState want = it == model.end() ? MacState::kFree
                        : it->second      ? MacState::kQuarantined
                                          : MacState::kInUse;
        ASSERT_EQ(reg.stateOf(Mac(v)), want) << Mac(v).toString();
      }
    }
  }
  // The sequence really exercised every path.
  EXPECT_GT(allocations, 300);
  EXPECT_GT(exhaustions, 10);
  EXPECT_GT(releases, 100);
  EXPECT_GT(claims, 20);
  if (cfg.hold_a > Duration::zero() || cfg.hold_b > Duration::zero()) {
    EXPECT_GT(expiries, 10);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Configs, MacAllocatorPropertyTest,
    ::testing::Values(PropertyConfig{"RandomAndSequentialSamePrefix", "02:aa:bb:cc:dd:00/40",
                                     MacStrategy::kRandom, seconds(30), "02:aa:bb:cc:dd:00/40",
                                     MacStrategy::kSequential, seconds(90), 1},
                      PropertyConfig{"HashAndRandomOverlapping", "02:aa:bb:cc:dd:00/40",
                                     MacStrategy::kHash, seconds(45), "02:aa:bb:cc:dd:80/41",
                                     MacStrategy::kRandom, Duration::zero(), 2},
                      PropertyConfig{"SequentialAndHashOverlapping", "02:aa:bb:cc:dd:00/42",
                                     MacStrategy::kSequential, Duration::zero(),
                                     "02:aa:bb:cc:dd:00/40", MacStrategy::kHash, seconds(20), 3},
                      PropertyConfig{"ZeroBasePrefix", "00:00:00:00:00:00/40", MacStrategy::kRandom,
                                     seconds(10), "00:00:00:00:00:00/43", MacStrategy::kSequential,
                                     seconds(60), 4}),
    [](const ::testing::TestParamInfo<PropertyConfig>& info) { return info.param.name; });

}  // namespace
}  // namespace netledger::alloc
