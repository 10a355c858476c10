#include "alloc/pool_overlap_index.h"

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "addr/addr_test_util.h"

namespace netledger::alloc {
namespace {

using addr::IpAddress;
using addr::Prefix;
using addr::testing_util::cidr;
using addr::testing_util::ip;

std::string poolAt(const PoolOverlapIndex& idx, const std::string& network, const char* address) {
  return idx.poolContaining(network, ip(address)).value_or("<none>");
}

void expectConflictNaming(const Status& s, const std::string& pool, const std::string& pool_cidr,
                          const std::string& network) {
  EXPECT_EQ(s.code(), StatusCode::kConflict) << s.toString();
  EXPECT_NE(s.message().find("\"" + pool + "\""), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("(" + pool_cidr + ")"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(network), std::string::npos) << s.message();
}

TEST(PoolOverlapIndexTest, DisjointPoolsInOneNetworkAreAccepted) {
  PoolOverlapIndex idx;
  EXPECT_TRUE(idx.add("default", cidr("10.0.0.0/16"), "a").isOk());
  EXPECT_TRUE(idx.add("default", cidr("10.1.0.0/16"), "b").isOk());     // adjacent above
  EXPECT_TRUE(idx.add("default", cidr("9.255.255.0/24"), "c").isOk());  // adjacent below
  EXPECT_TRUE(idx.add("default", cidr("192.168.0.0/24"), "d").isOk());
  EXPECT_TRUE(idx.check("default", cidr("10.2.0.0/15")).isOk());
}

TEST(PoolOverlapIndexTest, ContainedCidrIsRefusedNamingThePool) {
  PoolOverlapIndex idx;
  ASSERT_TRUE(idx.add("default", cidr("10.0.0.0/16"), "pool-a").isOk());
  for (const char* c : {"10.0.1.0/24", "10.0.0.0/17", "10.0.255.255/32", "10.0.128.0/17"}) {
    SCOPED_TRACE(c);
    expectConflictNaming(idx.check("default", cidr(c)), "pool-a", "10.0.0.0/16", "default");
    expectConflictNaming(idx.add("default", cidr(c), "pool-x"), "pool-a", "10.0.0.0/16", "default");
  }
  EXPECT_EQ(poolAt(idx, "default", "10.0.1.1"), "pool-a");  // the refused adds left no trace
}

TEST(PoolOverlapIndexTest, ContainingCidrIsRefusedNamingThePool) {
  PoolOverlapIndex idx;
  ASSERT_TRUE(idx.add("default", cidr("10.0.128.0/24"), "pool-c").isOk());
  for (const char* c : {"10.0.0.0/16", "10.0.128.0/23", "10.0.0.0/8", "0.0.0.0/0"}) {
    SCOPED_TRACE(c);
    expectConflictNaming(idx.add("default", cidr(c), "pool-x"), "pool-c", "10.0.128.0/24",
                         "default");
  }
  // With neighbours on both sides that do not overlap the candidate.
  ASSERT_TRUE(idx.add("default", cidr("10.0.0.0/24"), "low").isOk());
  ASSERT_TRUE(idx.add("default", cidr("10.0.200.0/24"), "high").isOk());
  expectConflictNaming(idx.check("default", cidr("10.0.128.0/18")), "pool-c", "10.0.128.0/24",
                       "default");
  expectConflictNaming(idx.check("default", cidr("10.0.192.0/18")), "high", "10.0.200.0/24",
                       "default");
  EXPECT_TRUE(idx.check("default", cidr("10.0.64.0/18")).isOk());
}

TEST(PoolOverlapIndexTest, EqualCidrIsRefusedNamingThePool) {
  PoolOverlapIndex idx;
  ASSERT_TRUE(idx.add("prod", cidr("2001:db8::/48"), "v6-pool").isOk());
  Status s = idx.add("prod", cidr("2001:db8::/48"), "v6-pool-2");
  expectConflictNaming(s, "v6-pool", "2001:db8::/48", "prod");
  EXPECT_NE(s.message().find("cidr 2001:db8::/48"), std::string::npos) << s.message();
  EXPECT_EQ(poolAt(idx, "prod", "2001:db8::1"), "v6-pool");
}

TEST(PoolOverlapIndexTest, DifferentNetworksMayOverlap) {
  PoolOverlapIndex idx;
  ASSERT_TRUE(idx.add("blue", cidr("10.0.0.0/16"), "blue-pool").isOk());
  EXPECT_TRUE(idx.check("red", cidr("10.0.0.0/16")).isOk());
  EXPECT_TRUE(idx.add("red", cidr("10.0.0.0/16"), "red-pool").isOk());
  EXPECT_TRUE(idx.add("green", cidr("10.0.0.0/8"), "green-pool").isOk());
  EXPECT_EQ(poolAt(idx, "blue", "10.0.3.4"), "blue-pool");
  EXPECT_EQ(poolAt(idx, "red", "10.0.3.4"), "red-pool");
  EXPECT_EQ(poolAt(idx, "green", "10.0.3.4"), "green-pool");
  EXPECT_EQ(poolAt(idx, "yellow", "10.0.3.4"), "<none>");
  expectConflictNaming(idx.check("red", cidr("10.0.3.0/24")), "red-pool", "10.0.0.0/16", "red");
}

TEST(PoolOverlapIndexTest, RemoveThenReAdd) {
  PoolOverlapIndex idx;
  ASSERT_TRUE(idx.add("default", cidr("10.0.0.0/16"), "a").isOk());
  EXPECT_FALSE(idx.remove("default", cidr("10.0.0.0/17")));  // same start, other length
  EXPECT_FALSE(idx.remove("other", cidr("10.0.0.0/16")));
  EXPECT_FALSE(idx.remove("default", cidr("10.1.0.0/16")));
  EXPECT_EQ(poolAt(idx, "default", "10.0.0.1"), "a");

  EXPECT_TRUE(idx.remove("default", cidr("10.0.0.0/16")));
  EXPECT_FALSE(idx.remove("default", cidr("10.0.0.0/16")));
  EXPECT_EQ(poolAt(idx, "default", "10.0.0.1"), "<none>");
  EXPECT_TRUE(idx.check("default", cidr("10.0.1.0/24")).isOk());
  ASSERT_TRUE(idx.add("default", cidr("10.0.1.0/24"), "b").isOk());
  ASSERT_TRUE(idx.add("default", cidr("10.0.2.0/24"), "c").isOk());
  EXPECT_EQ(poolAt(idx, "default", "10.0.1.9"), "b");
  EXPECT_EQ(poolAt(idx, "default", "10.0.0.9"), "<none>");
  // The old /16 no longer fits: it would contain b.
  expectConflictNaming(idx.add("default", cidr("10.0.0.0/16"), "a"), "b", "10.0.1.0/24", "default");
  EXPECT_TRUE(idx.remove("default", cidr("10.0.1.0/24")));
  expectConflictNaming(idx.add("default", cidr("10.0.0.0/16"), "a"), "c", "10.0.2.0/24", "default");
  EXPECT_TRUE(idx.remove("default", cidr("10.0.2.0/24")));
  EXPECT_TRUE(idx.add("default", cidr("10.0.0.0/16"), "a").isOk());
}

TEST(PoolOverlapIndexTest, PoolContaining) {
  PoolOverlapIndex idx;
  ASSERT_TRUE(idx.add("n", cidr("192.0.2.0/24"), "doc").isOk());
  ASSERT_TRUE(idx.add("n", cidr("198.51.100.0/25"), "low").isOk());
  ASSERT_TRUE(idx.add("n", cidr("198.51.100.128/25"), "high").isOk());
  EXPECT_EQ(poolAt(idx, "n", "192.0.2.0"), "doc");
  EXPECT_EQ(poolAt(idx, "n", "192.0.2.255"), "doc");
  EXPECT_EQ(poolAt(idx, "n", "192.0.3.0"), "<none>");
  EXPECT_EQ(poolAt(idx, "n", "192.0.1.255"), "<none>");
  EXPECT_EQ(poolAt(idx, "n", "0.0.0.0"), "<none>");
  EXPECT_EQ(poolAt(idx, "n", "198.51.100.127"), "low");
  EXPECT_EQ(poolAt(idx, "n", "198.51.100.128"), "high");
  EXPECT_EQ(poolAt(idx, "n", "255.255.255.255"), "<none>");
  EXPECT_EQ(poolAt(idx, "other", "192.0.2.1"), "<none>");
}

TEST(PoolOverlapIndexTest, Ipv4AndIpv6InOneNetworkDoNotInterfere) {
  PoolOverlapIndex idx;
  ASSERT_TRUE(idx.add("default", cidr("0.0.0.0/0"), "all-v4").isOk());
  // ::/0 starts at the same numeric value as 0.0.0.0/0 but is another family.
  EXPECT_TRUE(idx.check("default", cidr("::/0")).isOk());
  ASSERT_TRUE(idx.add("default", cidr("::/0"), "all-v6").isOk());
  EXPECT_EQ(poolAt(idx, "default", "10.1.2.3"), "all-v4");
  EXPECT_EQ(poolAt(idx, "default", "::a01:203"), "all-v6");  // same low 32 bits as 10.1.2.3
  EXPECT_EQ(poolAt(idx, "default", "::ffff:10.1.2.3"), "all-v6");
  expectConflictNaming(idx.check("default", cidr("10.0.0.0/8")), "all-v4", "0.0.0.0/0", "default");
  expectConflictNaming(idx.check("default", cidr("2001:db8::/32")), "all-v6", "::/0", "default");
  EXPECT_TRUE(idx.remove("default", cidr("0.0.0.0/0")));
  EXPECT_TRUE(idx.check("default", cidr("10.0.0.0/8")).isOk());
  EXPECT_EQ(poolAt(idx, "default", "10.1.2.3"), "<none>");
  EXPECT_EQ(poolAt(idx, "default", "::a01:203"), "all-v6");
  EXPECT_FALSE(idx.remove("default", cidr("0.0.0.0/0")));
}

TEST(PoolOverlapIndexTest, Ipv4PoolsBeforeAnIpv6PoolAreStillChecked) {
  PoolOverlapIndex idx;
  ASSERT_TRUE(idx.add("n", cidr("255.255.255.0/24"), "top-v4").isOk());
  ASSERT_TRUE(idx.add("n", cidr("::/96"), "low-v6").isOk());
  ASSERT_TRUE(idx.add("n", cidr("10.0.0.0/8"), "ten").isOk());
  expectConflictNaming(idx.check("n", cidr("255.255.255.128/25")), "top-v4", "255.255.255.0/24",
                       "n");
  expectConflictNaming(idx.check("n", cidr("::1/128")), "low-v6", "::/96", "n");
  EXPECT_TRUE(idx.check("n", cidr("::1:0:0/96")).isOk());
  EXPECT_EQ(poolAt(idx, "n", "255.255.255.255"), "top-v4");
  EXPECT_EQ(poolAt(idx, "n", "::ffff:ffff"), "low-v6");
}

// Property test: random adds / removes / lookups versus a brute-force list of entries.
TEST(PoolOverlapIndexTest, MatchesBruteForce) {
  struct Entry {
    std::string network;
    Prefix cidr;
    std::string pool;
  };
  std::mt19937_64 rng(77);
  PoolOverlapIndex idx;
  std::vector<Entry> model;
  const char* networks[] = {"a", "b"};
  auto randomPrefix = [&] {
    int len = 16 + static_cast<int>(rng() % 13);  // /16 .. /28 inside 10.0.0.0/14
    std::uint32_t v = 0x0a000000u | static_cast<std::uint32_t>(rng() & 0x3ffff) << 8;
    if (rng() % 4 == 0) {
      return Prefix::containing(IpAddress::fromBits(addr::IpFamily::kV6, addr::uint128{v}),
                                len + 100);
    }
    return Prefix::containing(IpAddress::fromBits(addr::IpFamily::kV4, v), len);
  };
  int added = 0, refused = 0, removed = 0;
  for (int step = 0; step < 3000; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    std::string net = networks[rng() % 2];
    auto op = rng() % 10;
    if (op < 5) {
      Prefix c = randomPrefix();
      std::string pool = "p" + std::to_string(step);
      const Entry* clash = nullptr;
      for (const auto& e : model) {
        if (e.network == net && e.cidr.overlaps(c)) clash = &e;
      }
      Status s = idx.add(net, c, pool);
      if (clash == nullptr) {
        ASSERT_TRUE(s.isOk()) << c.toString() << ": " << s.toString();
        model.push_back({net, c, pool});
        ++added;
      } else {
        ASSERT_EQ(s.code(), StatusCode::kConflict) << c.toString();
        // The named pool must be one that really overlaps (there may be several).
        bool named = false;
        for (const auto& e : model) {
          if (e.network == net && e.cidr.overlaps(c) &&
              s.message().find("\"" + e.pool + "\" (" + e.cidr.toString() + ")") !=
                  std::string::npos) {
            named = true;
          }
        }
        ASSERT_TRUE(named) << s.message();
        ++refused;
      }
    } else if (op < 7) {
      if (model.empty()) continue;
      std::size_t i = rng() % model.size();
      bool exact = rng() % 4 != 0;
      Prefix c = exact ? model[i].cidr : randomPrefix();
      std::string n = exact ? model[i].network : net;
      bool present = false;
      for (std::size_t k = 0; k < model.size(); ++k) {
        if (model[k].network == n && model[k].cidr == c) {
          model.erase(model.begin() + static_cast<long>(k));
          present = true;
          break;
        }
      }
      ASSERT_EQ(idx.remove(n, c), present) << n << " " << c.toString();
      if (present) ++removed;
    } else {
      Prefix probe = randomPrefix();
      IpAddress a = probe.first();
      std::optional<std::string> want;
      for (const auto& e : model) {
        if (e.network == net && e.cidr.contains(a)) want = e.pool;
      }
      ASSERT_EQ(idx.poolContaining(net, a), want) << a.toString();
    }
  }
  EXPECT_GT(added, 100);
  EXPECT_GT(refused, 100);
  EXPECT_GT(removed, 50);
}

}  // namespace
}  // namespace netledger::alloc
