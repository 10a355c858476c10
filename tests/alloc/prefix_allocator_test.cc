#include "alloc/prefix_allocator.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "addr/addr_test_util.h"
#include "addr/uint128.h"

namespace netledger::alloc {
namespace {

using addr::AddressCount;
using addr::IpAddress;
using addr::Prefix;
using addr::uint128;
using addr::testing_util::cidr;
using addr::testing_util::texts;

std::string allocateStr(PrefixAllocator& a, int length) {
  auto r = a.allocate(length);
  return r.isOk() ? r->toString() : r.status().toString();
}

TEST(PrefixAllocatorTest, StartsWithTheParentFree) {
  PrefixAllocator a(cidr("10.0.0.0/16"));
  EXPECT_EQ(a.parent().toString(), "10.0.0.0/16");
  EXPECT_EQ(texts(a.freeBlocks()), std::vector<std::string>{"10.0.0.0/16"});
  EXPECT_EQ(a.freeAddresses().toString(), "65536");
  EXPECT_TRUE(a.allocated().empty());
}

TEST(PrefixAllocatorTest, Slash24sFromASlash16ComeOutInOrder) {
  PrefixAllocator a(cidr("10.0.0.0/16"));
  for (int i = 0; i < 256; ++i) {
    ASSERT_EQ(allocateStr(a, 24), "10.0." + std::to_string(i) + ".0/24");
  }
  EXPECT_EQ(a.allocated().size(), 256u);
  EXPECT_TRUE(a.freeBlocks().empty());
  EXPECT_EQ(a.freeAddresses().toString(), "0");
  auto r = a.allocate(24);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kPoolExhausted);
  EXPECT_NE(r.status().message().find("10.0.0.0/16"), std::string::npos) << r.status().message();
  EXPECT_EQ(a.allocate(32).status().code(), StatusCode::kPoolExhausted);
}

TEST(PrefixAllocatorTest, MixedSizesTakeTheSmallestFittingBlock) {
  PrefixAllocator a(cidr("10.0.0.0/16"));
  EXPECT_EQ(allocateStr(a, 26), "10.0.0.0/26");
  EXPECT_EQ(allocateStr(a, 24), "10.0.1.0/24");    // the free /24 left by the split
  EXPECT_EQ(allocateStr(a, 25), "10.0.0.128/25");  // the free /25
  EXPECT_EQ(allocateStr(a, 28), "10.0.0.64/28");   // carved from the free /26
  EXPECT_EQ(allocateStr(a, 20), "10.0.16.0/20");   // the free /20, keeping the /17 whole
  EXPECT_EQ(allocateStr(a, 26), "10.0.2.0/26");    // from the free /23
  EXPECT_EQ(allocateStr(a, 17), "10.0.128.0/17");
  EXPECT_EQ(a.allocate(17).status().code(), StatusCode::kPoolExhausted);
  EXPECT_EQ(texts(a.allocated()),
            (std::vector<std::string>{"10.0.0.0/26", "10.0.0.64/28", "10.0.0.128/25", "10.0.1.0/24",
                                      "10.0.2.0/26", "10.0.16.0/20", "10.0.128.0/17"}));
  // 65536 - (64 + 16 + 128 + 256 + 64 + 4096 + 32768)
  EXPECT_EQ(a.freeAddresses().toString(), "28144");
}

TEST(PrefixAllocatorTest, MixedSizesStayAlignedAndNeverOverlap) {
  PrefixAllocator a(cidr("172.16.0.0/12"));
  const int lengths[] = {20, 24, 13, 30, 16, 22, 28, 14, 19, 27, 32, 15, 21};
  std::vector<Prefix> got;
  for (int round = 0; round < 20; ++round) {
    for (int len : lengths) {
      auto r = a.allocate(len);
      if (!r.isOk()) {
        EXPECT_EQ(r.status().code(), StatusCode::kPoolExhausted);
        continue;
      }
      EXPECT_EQ(r->length(), len);
      EXPECT_TRUE(cidr("172.16.0.0/12").contains(*r)) << r->toString();
      // Aligned: the network has no host bits set (round trip through strict parsing).
      EXPECT_TRUE(Prefix::parse(r->toString()).isOk()) << r->toString();
      for (const auto& g : got)
        EXPECT_FALSE(g.overlaps(*r)) << g.toString() << " vs " << r->toString();
      got.push_back(*r);
    }
  }
  EXPECT_GT(got.size(), 50u);
  uint128 taken = 0;
  for (const auto& g : got) taken += uint128{1} << g.hostBits();
  EXPECT_EQ(a.freeAddresses().toString(), addr::toDecimal((uint128{1} << 20) - taken));
}

TEST(PrefixAllocatorTest, ReserveExcludesTheChildAndAllocateSkipsIt) {
  PrefixAllocator a(cidr("10.0.0.0/16"));
  ASSERT_TRUE(a.reserve(cidr("10.0.5.0/24")).isOk());
  EXPECT_EQ(texts(a.allocated()), std::vector<std::string>{"10.0.5.0/24"});
  EXPECT_EQ(a.freeAddresses().toString(), "65280");
  // Smallest blocks first: the /24 buddy of the reserved one, then the /23 next to them.
  EXPECT_EQ(allocateStr(a, 24), "10.0.4.0/24");
  EXPECT_EQ(allocateStr(a, 24), "10.0.6.0/24");
  EXPECT_EQ(allocateStr(a, 24), "10.0.7.0/24");
  EXPECT_EQ(allocateStr(a, 24), "10.0.0.0/24");
  std::set<std::string> seen = {"10.0.4.0/24", "10.0.6.0/24", "10.0.7.0/24", "10.0.0.0/24"};
  for (;;) {
    auto r = a.allocate(24);
    if (!r.isOk()) {
      EXPECT_EQ(r.status().code(), StatusCode::kPoolExhausted);
      break;
    }
    EXPECT_NE(r->toString(), "10.0.5.0/24");
    EXPECT_TRUE(seen.insert(r->toString()).second) << r->toString();
  }
  EXPECT_EQ(seen.size(), 255u);
  EXPECT_FALSE(seen.contains("10.0.5.0/24"));
}

TEST(PrefixAllocatorTest, ReserveOfTheWholeParentAndOfAHost) {
  PrefixAllocator a(cidr("192.0.2.0/24"));
  ASSERT_TRUE(a.reserve(cidr("192.0.2.0/24")).isOk());
  EXPECT_TRUE(a.freeBlocks().empty());
  EXPECT_EQ(a.allocate(32).status().code(), StatusCode::kPoolExhausted);
  ASSERT_TRUE(a.release(cidr("192.0.2.0/24")).isOk());
  ASSERT_TRUE(a.reserve(cidr("192.0.2.77/32")).isOk());
  EXPECT_EQ(a.freeAddresses().toString(), "255");
  EXPECT_EQ(allocateStr(a, 32), "192.0.2.76/32");
}

TEST(PrefixAllocatorTest, ReserveOfAnOverlappingChildIsConflictNamingIt) {
  PrefixAllocator a(cidr("10.0.0.0/16"));
  ASSERT_EQ(allocateStr(a, 24), "10.0.0.0/24");
  const auto free_before = texts(a.freeBlocks());
  struct Case {
    const char* child;
    const char* why;
  };
  for (const Case& c : {Case{"10.0.0.0/23", "contains it"}, Case{"10.0.0.128/25", "inside it"},
                        Case{"10.0.0.0/24", "equal"}, Case{"10.0.0.255/32", "a host inside"},
                        Case{"10.0.0.0/16", "the parent"}}) {
    Status s = a.reserve(cidr(c.child));
    EXPECT_EQ(s.code(), StatusCode::kConflict) << c.child << " (" << c.why << ")";
    EXPECT_NE(s.message().find("10.0.0.0/24"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(c.child), std::string::npos) << s.message();
  }
  // Failed reservations change nothing.
  EXPECT_EQ(texts(a.freeBlocks()), free_before);
  EXPECT_EQ(texts(a.allocated()), std::vector<std::string>{"10.0.0.0/24"});
  // The neighbour is still available.
  EXPECT_TRUE(a.reserve(cidr("10.0.1.0/24")).isOk());
}

TEST(PrefixAllocatorTest, ReserveOutsideTheParentIsInvalidArgument) {
  PrefixAllocator a(cidr("10.0.0.0/16"));
  for (const char* c : {"10.1.0.0/24", "10.0.0.0/15", "0.0.0.0/0", "2001:db8::/64"}) {
    Status s = a.reserve(cidr(c));
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c;
    EXPECT_NE(s.message().find("10.0.0.0/16"), std::string::npos) << s.message();
  }
  EXPECT_EQ(texts(a.freeBlocks()), std::vector<std::string>{"10.0.0.0/16"});
}

TEST(PrefixAllocatorTest, ReleaseMergesBuddiesBackIntoTheParent) {
  PrefixAllocator a(cidr("10.0.0.0/16"));
  std::vector<Prefix> got;
  for (int len : {26, 24, 25, 28, 20, 26, 32, 17, 30, 22}) got.push_back(a.allocate(len).value());
  ASSERT_TRUE(a.reserve(cidr("10.0.99.0/24")).isOk());
  got.push_back(cidr("10.0.99.0/24"));

  std::mt19937_64 rng(5);
  std::shuffle(got.begin(), got.end(), rng);
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_TRUE(a.release(got[i]).isOk()) << got[i].toString();
    if (i + 1 < got.size()) {
      EXPECT_NE(texts(a.freeBlocks()), std::vector<std::string>{"10.0.0.0/16"});
    }
  }
  EXPECT_EQ(texts(a.freeBlocks()), std::vector<std::string>{"10.0.0.0/16"});
  EXPECT_EQ(a.freeAddresses().toString(), "65536");
  EXPECT_TRUE(a.allocated().empty());
  EXPECT_EQ(allocateStr(a, 16), "10.0.0.0/16");
}

TEST(PrefixAllocatorTest, ReleaseMergesOnlyWithAFreeBuddy) {
  PrefixAllocator a(cidr("10.0.0.0/22"));
  ASSERT_EQ(allocateStr(a, 24), "10.0.0.0/24");
  ASSERT_EQ(allocateStr(a, 24), "10.0.1.0/24");
  ASSERT_EQ(allocateStr(a, 24), "10.0.2.0/24");
  ASSERT_TRUE(a.release(cidr("10.0.1.0/24")).isOk());
  // 10.0.1.0/24's buddy 10.0.0.0/24 is taken: no merge.
  EXPECT_EQ(texts(a.freeBlocks()), (std::vector<std::string>{"10.0.1.0/24", "10.0.3.0/24"}));
  ASSERT_TRUE(a.release(cidr("10.0.2.0/24")).isOk());
  // 10.0.2.0/24 merges with 10.0.3.0/24; 10.0.2.0/23 cannot merge with the half-taken 10.0.0.0/23.
  EXPECT_EQ(texts(a.freeBlocks()), (std::vector<std::string>{"10.0.1.0/24", "10.0.2.0/23"}));
  ASSERT_TRUE(a.release(cidr("10.0.0.0/24")).isOk());
  EXPECT_EQ(texts(a.freeBlocks()), std::vector<std::string>{"10.0.0.0/22"});
}

TEST(PrefixAllocatorTest, ReleaseOfSomethingNotAllocatedIsNotFound) {
  PrefixAllocator a(cidr("10.0.0.0/16"));
  ASSERT_EQ(allocateStr(a, 24), "10.0.0.0/24");
  EXPECT_EQ(a.release(cidr("10.0.1.0/24")).code(), StatusCode::kNotFound);
  EXPECT_EQ(a.release(cidr("10.0.0.0/25")).code(), StatusCode::kNotFound);  // part of one
  EXPECT_EQ(a.release(cidr("10.0.0.0/23")).code(), StatusCode::kNotFound);  // contains one
  Status s = a.release(cidr("192.168.0.0/24"));
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("192.168.0.0/24"), std::string::npos);
  ASSERT_TRUE(a.release(cidr("10.0.0.0/24")).isOk());
  EXPECT_EQ(a.release(cidr("10.0.0.0/24")).code(), StatusCode::kNotFound);  // twice
  EXPECT_EQ(texts(a.freeBlocks()), std::vector<std::string>{"10.0.0.0/16"});
}

TEST(PrefixAllocatorTest, LengthOutsideTheParentOrTheFamilyIsInvalidArgument) {
  PrefixAllocator v4(cidr("10.0.0.0/16"));
  for (int len : {33, 64, 15, 8, 0, -1}) {
    auto r = v4.allocate(len);
    ASSERT_FALSE(r.isOk()) << len;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << len;
    EXPECT_NE(r.status().message().find("/" + std::to_string(len)), std::string::npos)
        << r.status().message();
  }
  EXPECT_EQ(allocateStr(v4, 32), "10.0.0.0/32");
  EXPECT_EQ(v4.allocate(16).status().code(), StatusCode::kPoolExhausted);  // no longer whole

  PrefixAllocator v6(cidr("2001:db8::/48"));
  EXPECT_EQ(v6.allocate(129).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(v6.allocate(47).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(allocateStr(v6, 128), "2001:db8::/128");
}

TEST(PrefixAllocatorTest, ExhaustionIsPoolExhausted) {
  PrefixAllocator a(cidr("10.0.0.0/30"));
  ASSERT_TRUE(a.reserve(cidr("10.0.0.1/32")).isOk());
  ASSERT_TRUE(a.reserve(cidr("10.0.0.2/32")).isOk());
  // Two addresses are free (.0 and .3), but no aligned /31 or /30.
  EXPECT_EQ(a.freeAddresses().toString(), "2");
  EXPECT_EQ(a.allocate(31).status().code(), StatusCode::kPoolExhausted);
  EXPECT_EQ(a.allocate(30).status().code(), StatusCode::kPoolExhausted);
  EXPECT_EQ(allocateStr(a, 32), "10.0.0.0/32");
  EXPECT_EQ(allocateStr(a, 32), "10.0.0.3/32");
  auto r = a.allocate(32);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kPoolExhausted);
  EXPECT_NE(r.status().message().find("/32"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("10.0.0.0/30"), std::string::npos) << r.status().message();
  EXPECT_EQ(a.freeAddresses().toString(), "0");
  EXPECT_TRUE(a.freeBlocks().empty());
  // Releasing .1 and .2 does not merge them (they are not buddies) ...
  ASSERT_TRUE(a.release(cidr("10.0.0.1/32")).isOk());
  ASSERT_TRUE(a.release(cidr("10.0.0.2/32")).isOk());
  EXPECT_EQ(texts(a.freeBlocks()), (std::vector<std::string>{"10.0.0.1/32", "10.0.0.2/32"}));
  EXPECT_EQ(a.allocate(31).status().code(), StatusCode::kPoolExhausted);
  // ... until their buddies come back.
  ASSERT_TRUE(a.release(cidr("10.0.0.0/32")).isOk());
  ASSERT_TRUE(a.release(cidr("10.0.0.3/32")).isOk());
  EXPECT_EQ(texts(a.freeBlocks()), std::vector<std::string>{"10.0.0.0/30"});
}

TEST(PrefixAllocatorTest, Ipv6Slash48IntoSlash64s) {
  PrefixAllocator a(cidr("2001:db8::/48"));
  EXPECT_EQ(allocateStr(a, 64), "2001:db8::/64");
  EXPECT_EQ(allocateStr(a, 64), "2001:db8:0:1::/64");
  EXPECT_EQ(allocateStr(a, 64), "2001:db8:0:2::/64");
  EXPECT_EQ(allocateStr(a, 64), "2001:db8:0:3::/64");
  // 2^80 - 4 * 2^64
  EXPECT_TRUE(a.freeAddresses() == AddressCount((uint128{1} << 80) - (uint128{4} << 64)));
  for (int i = 4; i < 300; ++i) ASSERT_TRUE(a.allocate(64).isOk());
  EXPECT_EQ(allocateStr(a, 64), "2001:db8:0:12c::/64");  // the 301st: 300 = 0x12c
  ASSERT_TRUE(a.release(cidr("2001:db8:0:7::/64")).isOk());
  EXPECT_EQ(allocateStr(a, 64), "2001:db8:0:7::/64");
  EXPECT_EQ(allocateStr(a, 56), "2001:db8:0:200::/56");
}

TEST(PrefixAllocatorTest, WholeAddressSpaceParents) {
  PrefixAllocator v6(cidr("::/0"));
  EXPECT_TRUE(v6.freeAddresses().isTwoTo128());
  EXPECT_EQ(allocateStr(v6, 1), "::/1");
  EXPECT_TRUE(v6.freeAddresses() == AddressCount(uint128{1} << 127));
  ASSERT_TRUE(v6.release(cidr("::/1")).isOk());
  EXPECT_TRUE(v6.freeAddresses().isTwoTo128());
  EXPECT_EQ(texts(v6.freeBlocks()), std::vector<std::string>{"::/0"});

  PrefixAllocator v4(cidr("0.0.0.0/0"));
  EXPECT_EQ(v4.freeAddresses().toString(), "4294967296");
  EXPECT_EQ(allocateStr(v4, 8), "0.0.0.0/8");
  EXPECT_EQ(v4.freeAddresses().toString(), std::to_string(4294967296ull - 16777216ull));
}

// ---------------------------------------------------------------------------------------------
// Property test: random allocate / release / reserve versus a reference set of allocated
// prefixes and an occupancy map of every address of the (small) parent.

void runPrefixProperty(const char* parent_text, std::uint64_t seed, int steps) {
  SCOPED_TRACE(parent_text);
  const Prefix parent = cidr(parent_text);
  const int host_bits = parent.hostBits();
  ASSERT_LE(host_bits, 16);
  const int width = parent.network().width();
  const std::uint64_t size = std::uint64_t{1} << host_bits;
  const uint128 base = parent.network().bits();
  std::mt19937_64 rng(seed);
  PrefixAllocator a(parent);
  std::set<Prefix> model;
  std::vector<std::uint8_t> used(size, 0);

  auto offsetOf = [&](const Prefix& p) {
    return static_cast<std::uint64_t>(p.network().bits() - base);
  };
  auto countOf = [&](const Prefix& p) { return std::uint64_t{1} << p.hostBits(); };
  auto rangeFree = [&](const Prefix& p) {
    for (std::uint64_t o = offsetOf(p), e = o + countOf(p); o < e; ++o) {
      if (used[o]) return false;
    }
    return true;
  };
  auto mark = [&](const Prefix& p, std::uint8_t v) {
    for (std::uint64_t o = offsetOf(p), e = o + countOf(p); o < e; ++o) used[o] = v;
  };
  auto randomLength = [&] { return parent.length() + static_cast<int>(rng() % (host_bits + 1)); };
  auto randomChild = [&](int len) {
    std::uint64_t o = rng() % size;
    return Prefix::containing(IpAddress::fromBits(parent.family(), base + o), len);
  };
  auto modelAllocated = [&] {
    std::uint64_t n = 0;
    for (const auto& p : model) n += countOf(p);
    return n;
  };
  auto checkFreeBlocks = [&] {
    auto blocks = a.freeBlocks();
    std::uint64_t total = 0;
    std::set<Prefix> block_set(blocks.begin(), blocks.end());
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      const Prefix& b = blocks[i];
      ASSERT_TRUE(parent.contains(b)) << b.toString();
      ASSERT_TRUE(rangeFree(b)) << "free block " << b.toString() << " overlaps an allocation";
      if (i > 0) {
        ASSERT_LT(blocks[i - 1].last(), b.first()) << "free blocks overlap or are unsorted";
      }
      // Fully merged: a free block's buddy is never free as a whole.
      if (b.length() > parent.length()) {
        uint128 buddy = b.network().bits() ^ (uint128{1} << b.hostBits());
        ASSERT_FALSE(block_set.contains(
            Prefix::containing(IpAddress::fromBits(parent.family(), buddy), b.length())))
            << "unmerged buddies at " << b.toString();
      }
      total += countOf(b);
    }
    ASSERT_EQ(total + modelAllocated(), size);
  };

  int allocs = 0, exhausted = 0, reserves = 0, conflicts = 0, releases = 0;
  for (int step = 0; step < steps; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    auto op = rng() % 100;
    if (op < 45) {  // allocate
      int len = randomLength();
      if (rng() % 50 == 0) len = rng() % 2 ? parent.length() - 1 : width + 1;
      auto r = a.allocate(len);
      if (len < parent.length() || len > width) {
        ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument) << len;
      } else if (r.isOk()) {
        const Prefix& c = *r;
        ASSERT_EQ(c.length(), len);
        ASSERT_TRUE(parent.contains(c)) << c.toString();
        ASSERT_TRUE(rangeFree(c)) << c.toString() << " overlaps an allocated prefix";
        mark(c, 1);
        model.insert(c);
        ++allocs;
      } else {
        ASSERT_EQ(r.status().code(), StatusCode::kPoolExhausted) << r.status().toString();
        // No aligned free /len may exist anywhere in the parent.
        const std::uint64_t block = std::uint64_t{1} << (width - len);
        for (std::uint64_t o = 0; o < size; o += block) {
          ASSERT_FALSE(
              rangeFree(Prefix::containing(IpAddress::fromBits(parent.family(), base + o), len)))
              << "exhausted for /" << len << " although offset " << o << " is free";
        }
        ++exhausted;
      }
    } else if (op < 75) {  // release
      Prefix c;
      if (!model.empty() && rng() % 5 != 0) {
        auto it = model.begin();
        std::advance(it, static_cast<long>(rng() % model.size()));
        c = *it;
      } else {
        c = randomChild(randomLength());
      }
      Status s = a.release(c);
      if (model.contains(c)) {
        ASSERT_TRUE(s.isOk()) << c.toString() << ": " << s.toString();
        mark(c, 0);
        model.erase(c);
        ++releases;
      } else {
        ASSERT_EQ(s.code(), StatusCode::kNotFound) << c.toString();
      }
    } else {                                                             // reserve
      Prefix c = randomChild(std::max(randomLength(), randomLength()));  // skewed to small
      Status s = a.reserve(c);
      if (rangeFree(c)) {
        ASSERT_TRUE(s.isOk()) << c.toString() << ": " << s.toString();
        mark(c, 1);
        model.insert(c);
        ++reserves;
      } else {
        ASSERT_EQ(s.code(), StatusCode::kConflict) << c.toString();
        bool named = false;
        for (const auto& m : model) {
          if (m.overlaps(c) && s.message().find(m.toString()) != std::string::npos) named = true;
        }
        ASSERT_TRUE(named) << "conflict does not name an overlapping prefix: " << s.message();
        ++conflicts;
      }
    }

    ASSERT_EQ(texts(a.allocated()), texts({model.begin(), model.end()}));
    ASSERT_EQ(a.freeAddresses().toString(), std::to_string(size - modelAllocated()));
    if (step % 25 == 0) {
      checkFreeBlocks();
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  EXPECT_GT(allocs, steps / 10);
  EXPECT_GT(exhausted, 10);
  EXPECT_GT(reserves, 10);
  EXPECT_GT(conflicts, 10);
  EXPECT_GT(releases, steps / 10);

  // Pairwise disjoint (also implied by the occupancy map, checked directly here).
  std::vector<Prefix> all(model.begin(), model.end());
  for (std::size_t i = 0; i + 1 < all.size(); ++i) {
    ASSERT_LT(all[i].last(), all[i + 1].first())
        << all[i].toString() << " / " << all[i + 1].toString();
  }
  // Releasing everything, in random order, gives back exactly the parent.
  std::shuffle(all.begin(), all.end(), rng);
  for (const auto& c : all) ASSERT_TRUE(a.release(c).isOk()) << c.toString();
  EXPECT_EQ(texts(a.freeBlocks()), std::vector<std::string>{parent.toString()});
  EXPECT_EQ(a.freeAddresses().toString(), std::to_string(size));
  EXPECT_TRUE(a.allocated().empty());
}

TEST(PrefixAllocatorPropertyTest, Ipv4Slash16) { runPrefixProperty("10.0.0.0/16", 11, 3000); }
TEST(PrefixAllocatorPropertyTest, Ipv4Slash24) { runPrefixProperty("192.168.7.0/24", 12, 3000); }
TEST(PrefixAllocatorPropertyTest, Ipv6Slash112) { runPrefixProperty("2001:db8::/112", 13, 3000); }
TEST(PrefixAllocatorPropertyTest, Ipv6Slash120) {
  runPrefixProperty("2001:db8::ab00/120", 14, 3000);
}

}  // namespace
}  // namespace netledger::alloc
