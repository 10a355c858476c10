#include "ledger/pool_map.h"

#include <algorithm>

namespace netledger::ledger {

namespace {

// Cells of a block of `host_bits` host bits with cells of `cell_bits` bits (saturating: the
// caller only asks for counts that fit, at most kMaxCells).
uint128 cellsOf(int host_bits, int cell_bits) {
  if (host_bits <= cell_bits) return 1;
  int diff = host_bits - cell_bits;
  return diff >= 127 ? kUint128Max : uint128{1} << diff;
}

char stateOf(bool conflict, bool quarantined, bool used, bool probing, bool reserved,
             uint128 allocatable) {
  if (conflict) return 'c';
  if (quarantined) return 'q';
  if (used) return 'u';
  if (probing) return 'p';
  if (reserved) return 'r';
  return allocatable > 0 ? '.' : '-';
}

}  // namespace

std::size_t PoolMap::cellCount() const {
  std::size_t n = 0;
  for (const auto& b : blocks) n += b.cells.size();
  return n;
}

PoolMapBuilder::PoolMapBuilder(const std::vector<addr::Prefix>& cidrs, std::size_t max_cells) {
  max_cells = std::clamp<std::size_t>(max_cells, 1, kMaxCells);
  // The smallest cell that fits every block into max_cells (and at least one cell per block).
  for (cell_bits_ = 0; cell_bits_ < 128; ++cell_bits_) {
    uint128 total = 0;
    bool fits = true;
    for (const auto& p : cidrs) {
      uint128 n = cellsOf(p.hostBits(), cell_bits_);
      if (n > max_cells - total) {
        fits = false;
        break;
      }
      total += n;
    }
    if (fits) break;
  }
  for (const auto& p : cidrs) {
    Block b{p, {}};
    b.cells.resize(static_cast<std::size_t>(cellsOf(p.hostBits(), cell_bits_)));
    blocks_.push_back(std::move(b));
  }
}

PoolMapBuilder::Block* PoolMapBuilder::blockOf(const addr::IpAddress& ip, std::size_t& index) {
  for (auto& b : blocks_) {
    if (!b.cidr.contains(ip)) continue;
    uint128 offset = ip.bits() - b.cidr.first().bits();
    index = cell_bits_ >= 128 ? 0 : static_cast<std::size_t>(offset >> cell_bits_);
    return &b;
  }
  return nullptr;
}

template <typename Fn>
void PoolMapBuilder::forEachCell(const addr::IpRange& range, Fn fn) {
  for (auto& b : blocks_) {
    if (range.family() != b.cidr.first().family()) continue;
    const uint128 lo = std::max(range.first(), b.cidr.first()).bits();
    const uint128 hi = std::min(range.last(), b.cidr.last()).bits();
    if (lo > hi) continue;
    const uint128 base = b.cidr.first().bits();
    const std::size_t first_cell =
        cell_bits_ >= 128 ? 0 : static_cast<std::size_t>((lo - base) >> cell_bits_);
    const std::size_t last_cell =
        cell_bits_ >= 128 ? 0 : static_cast<std::size_t>((hi - base) >> cell_bits_);
    for (std::size_t i = first_cell; i <= last_cell; ++i) {
      // The part of [lo, hi] inside cell i.
      // The cell's addresses inside this block. A cell can be larger than a small block (one
      // /126 of a pool whose cells are /120s), so its end is capped at the block's last address
      // — which also keeps `cell_lo + span` from wrapping at the top of the IPv6 space.
      const uint128 cell_lo = cell_bits_ >= 128 ? base : base + (uint128{i} << cell_bits_);
      const uint128 span = cell_bits_ >= 128 ? kUint128Max : (uint128{1} << cell_bits_) - 1;
      const uint128 block_last = b.cidr.last().bits();
      const uint128 cell_hi = block_last - cell_lo <= span ? block_last : cell_lo + span;
      const uint128 a = std::max(lo, cell_lo);
      const uint128 z = std::min(hi, cell_hi);
      fn(b.cells[i], z - a + 1);  // wraps to 0 only for all 2^128 addresses: never a pool
    }
  }
}

void PoolMapBuilder::addAllocatable(const addr::IpRange& range) {
  forEachCell(range, [](Cell& c, uint128 n) { c.allocatable += n; });
}

void PoolMapBuilder::addReserved(const addr::IpRange& range) {
  forEachCell(range, [](Cell& c, uint128) { c.reserved = true; });
}

void PoolMapBuilder::addQuarantined(const addr::IpAddress& ip) {
  std::size_t i = 0;
  if (Block* b = blockOf(ip, i)) {
    b->cells[i].quarantined = true;
    ++b->cells[i].taken;
  }
}

void PoolMapBuilder::addBound(const addr::IpAddress& ip, bool probing) {
  std::size_t i = 0;
  if (Block* b = blockOf(ip, i)) {
    (probing ? b->cells[i].probing : b->cells[i].used) = true;
    ++b->cells[i].taken;
  }
}

void PoolMapBuilder::addConflict(const addr::IpAddress& ip) {
  std::size_t i = 0;
  if (Block* b = blockOf(ip, i)) b->cells[i].conflict = true;
}

PoolMap PoolMapBuilder::build() const {
  PoolMap map;
  map.cell_bits = cell_bits_;
  for (const auto& b : blocks_) {
    PoolMapBlock out{b.cidr, {}, {}};
    out.cells.reserve(b.cells.size());
    for (const auto& c : b.cells) {
      out.cells.push_back(
          stateOf(c.conflict, c.quarantined, c.used, c.probing, c.reserved, c.allocatable));
    }
    if (cell_bits_ > 0) {
      out.fill.reserve(b.cells.size());
      for (const auto& c : b.cells) {
        if (c.allocatable == 0) {
          out.fill.push_back('-');
          continue;
        }
        // Tenths, rounded down, 9 at most ("90 % or more").
        uint128 tenths = uint128{c.taken} * 10 / c.allocatable;
        out.fill.push_back(static_cast<char>('0' + std::min<uint128>(tenths, 9)));
      }
    }
    map.blocks.push_back(std::move(out));
  }
  return map;
}

}  // namespace netledger::ledger
