// PoolMapBuilder: cells, their precedence, block fill, and a property check against a
// per-address model.
#include "ledger/pool_map.h"
#include "addr/addr_test_util.h"

#include <map>
#include <random>

#include <gtest/gtest.h>

namespace netledger::ledger {
namespace {

addr::Prefix prefix(const char* text) { return addr::Prefix::parse(text).value(); }
using ::netledger::addr::testing_util::ip;
addr::IpRange range(const char* text) { return addr::IpRange::parse(text).value(); }

TEST(PoolMapTest, OneCellPerAddressWithPrecedence) {
  PoolMapBuilder b({prefix("192.0.2.0/28")}, 65536);
  EXPECT_EQ(b.cellBits(), 0);
  b.addAllocatable(range("192.0.2.2-192.0.2.14"));
  b.addReserved(range("192.0.2.1-192.0.2.1"));
  b.addReserved(range("192.0.2.2-192.0.2.3"));  // reserved and allocatable: reserved shows
  b.addBound(ip("192.0.2.4"), false);
  b.addBound(ip("192.0.2.5"), true);
  b.addQuarantined(ip("192.0.2.6"));
  b.addBound(ip("192.0.2.7"), false);
  b.addConflict(ip("192.0.2.7"));     // a conflict outranks used
  b.addConflict(ip("198.51.100.1"));  // outside: ignored
  auto map = b.build();
  ASSERT_EQ(map.blocks.size(), 1u);
  EXPECT_EQ(map.blocks[0].cells, "-rrrupqc.......-");
  EXPECT_TRUE(map.blocks[0].fill.empty());
  EXPECT_EQ(map.cellCount(), 16u);
}

TEST(PoolMapTest, BlocksCarryFillInTenths) {
  // A /22 in at most 4 cells: one /24 per cell.
  PoolMapBuilder b({prefix("10.0.0.0/22")}, 4);
  EXPECT_EQ(b.cellBits(), 8);
  b.addAllocatable(range("10.0.0.1-10.0.3.254"));
  for (int i = 1; i <= 128; ++i) {
    b.addBound(addr::IpAddress::parse("10.0.1." + std::to_string(i)).value(), false);
  }
  b.addQuarantined(ip("10.0.2.9"));
  b.addReserved(range("10.0.3.0-10.0.3.255"));
  auto map = b.build();
  EXPECT_EQ(map.blocks[0].cells, ".uqr");
  // 128 of 256 → 5 tenths; 1 of 256 → 0; the first and last /24 lose one address each.
  EXPECT_EQ(map.blocks[0].fill, "0500");
}

TEST(PoolMapTest, SeveralCidrsShareOneCellSize) {
  PoolMapBuilder b({prefix("10.0.0.0/24"), prefix("10.1.0.0/23")}, 3);
  EXPECT_EQ(b.cellBits(), 8);  // 1 + 2 cells
  auto map = b.build();
  ASSERT_EQ(map.blocks.size(), 2u);
  EXPECT_EQ(map.blocks[0].cells.size(), 1u);
  EXPECT_EQ(map.blocks[1].cells.size(), 2u);
  EXPECT_EQ(map.blocks[1].cells, "--");  // nothing allocatable declared
  EXPECT_EQ(map.blocks[1].fill, "--");
}

TEST(PoolMapTest, HugeIpv6PrefixesDoNotOverflow) {
  PoolMapBuilder b({prefix("2001:db8::/32")}, 65536);
  EXPECT_EQ(b.cellBits(), 80);
  b.addAllocatable(range("2001:db8::1-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
  b.addBound(ip("2001:db8::5"), false);
  b.addBound(ip("2001:db8:ffff::1"), true);
  auto map = b.build();
  ASSERT_EQ(map.blocks[0].cells.size(), 65536u);
  EXPECT_EQ(map.blocks[0].cells.front(), 'u');
  EXPECT_EQ(map.blocks[0].cells.back(), 'p');
  EXPECT_EQ(map.blocks[0].fill.front(), '0');
  // A whole address family in one cell still works.
  PoolMapBuilder all({prefix("::/0")}, 1);
  EXPECT_EQ(all.cellBits(), 128);
  all.addBound(ip("::1"), false);
  EXPECT_EQ(all.build().blocks[0].cells, "u");
}

// A block smaller than the cell at the very top of the IPv6 space: its cell counts only its own
// addresses (no wrap past ffff:...:ffff).
TEST(PoolMapTest, SmallBlockAtTheTopOfTheSpaceCountsOnlyItsAddresses) {
  PoolMapBuilder b(
      {prefix("2001:db8::/120"), prefix("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc/126")}, 2);
  EXPECT_EQ(b.cellBits(), 8);
  b.addAllocatable(
      range("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
  for (const char* a :
       {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}) {
    b.addBound(ip(a), false);
  }
  auto map = b.build();
  ASSERT_EQ(map.blocks.size(), 2u);
  EXPECT_EQ(map.blocks[1].cells, "u");
  EXPECT_EQ(map.blocks[1].fill, "9");  // 4 of its 4 addresses: full
}

// Property: for random pools and random marks, each block cell is the most notable state of
// the per-address model over its addresses, and fill matches the model's counts.
TEST(PoolMapTest, BlocksAgreeWithAPerAddressModel) {
  std::mt19937 rng(20261122);
  const std::string order = "cqupr.-";
  for (int round = 0; round < 200; ++round) {
    const int len = 20 + static_cast<int>(rng() % 9);  // /20 .. /28
    const int size = 1 << (32 - len);
    auto cidr = addr::Prefix::containing(ip("10.0.0.0"), len);
    const std::size_t max_cells = 1 + rng() % 64;
    PoolMapBuilder b({cidr}, max_cells);
    std::vector<char> model(static_cast<std::size_t>(size), '-');
    std::vector<bool> allocatable(static_cast<std::size_t>(size), false);
    std::vector<bool> taken(static_cast<std::size_t>(size), false);
    auto at = [&](int i) { return cidr.first().plus(static_cast<unsigned>(i)).value(); };
    auto mark = [&](int i, char c) {
      if (order.find(c) < order.find(model[static_cast<std::size_t>(i)])) {
        model[static_cast<std::size_t>(i)] = c;
      }
    };
    int lo = 1 + static_cast<int>(rng() % 4), hi = size - 2;
    b.addAllocatable(addr::IpRange::make(at(lo), at(hi)).value());
    for (int i = lo; i <= hi; ++i) {
      allocatable[static_cast<std::size_t>(i)] = true;
      mark(i, '.');
    }
    for (int k = 0; k < size / 4; ++k) {
      int i = lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo + 1));
      if (taken[static_cast<std::size_t>(i)]) continue;
      switch (rng() % 5) {
        case 0:
          b.addQuarantined(at(i));
          mark(i, 'q');
          taken[static_cast<std::size_t>(i)] = true;
          break;
        case 1:
          b.addBound(at(i), false);
          mark(i, 'u');
          taken[static_cast<std::size_t>(i)] = true;
          break;
        case 2:
          b.addBound(at(i), true);
          mark(i, 'p');
          taken[static_cast<std::size_t>(i)] = true;
          break;
        case 3:
          b.addConflict(at(i));
          mark(i, 'c');
          break;
        default:
          b.addReserved(addr::IpRange(at(i)));
          mark(i, 'r');
          break;
      }
    }
    auto map = b.build();
    ASSERT_LE(map.cellCount(), max_cells);
    const int per_cell = 1 << map.cell_bits;
    const auto& cells = map.blocks[0].cells;
    ASSERT_EQ(static_cast<int>(cells.size()), (size + per_cell - 1) / per_cell);
    for (std::size_t cell = 0; cell < cells.size(); ++cell) {
      char best = '-';
      int alloc = 0, used = 0;
      for (int i = static_cast<int>(cell) * per_cell;
           i < std::min(size, (static_cast<int>(cell) + 1) * per_cell); ++i) {
        if (order.find(model[static_cast<std::size_t>(i)]) < order.find(best))
          best = model[static_cast<std::size_t>(i)];
        alloc += allocatable[static_cast<std::size_t>(i)];
        used += taken[static_cast<std::size_t>(i)];
      }
      ASSERT_EQ(cells[cell], best) << "round " << round << " cell " << cell;
      if (per_cell > 1) {
        char want = alloc == 0 ? '-' : static_cast<char>('0' + std::min(9, used * 10 / alloc));
        ASSERT_EQ(map.blocks[0].fill[cell], want) << "round " << round << " cell " << cell;
      }
    }
  }
}

}  // namespace
}  // namespace netledger::ledger
