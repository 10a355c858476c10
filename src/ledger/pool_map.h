#pragma once
// PoolMap: a pool's address space as a picture (the dashboard's heat map). Each CIDR of the pool
// is cut into cells of one size, a power of two chosen so the whole pool fits in `max_cells`:
// one cell per address for a /16 and smaller, one per aligned block (a /24 of a /8, ...) above.
// A cell shows its most notable state:
//
//   c conflict > q quarantined > u used > p probing (reserved binding) > r reserved (gateway,
//   reserved ranges) > . free > - unusable (network, broadcast, outside the allocation ranges)
//
// and, for blocks, how full its allocatable addresses are (`fill`, a digit 0..9 per cell).
//
// The builder is plain data in, string out, so the Ledger fills it under its lock and the tests
// can drive it directly.

#include <cstdint>
#include <string>
#include <vector>

#include "addr/ip_address.h"
#include "addr/ip_range.h"
#include "addr/prefix.h"
#include "addr/uint128.h"

namespace netledger::ledger {

using addr::kUint128Max;
using addr::uint128;

struct PoolMapBlock {
  addr::Prefix cidr;
  std::string cells;  // one state character per cell, in address order from cidr.first()
  std::string fill;   // blocks only (cell size > 1): '0'..'9' per cell, '-' without allocatable
};

struct PoolMap {
  int cell_bits = 0;  // each cell covers 2^cell_bits addresses
  std::vector<PoolMapBlock> blocks;
  std::size_t cellCount() const;
};

class PoolMapBuilder {
 public:
  static constexpr std::size_t kDefaultMaxCells = 65536;
  static constexpr std::size_t kMaxCells = 262144;

  // `cidrs`: the pool's blocks; `max_cells` in 1..kMaxCells. Every block gets at least one
  // cell, so a pool of more CIDRs than max_cells (never near kMaxCells in practice) gets one
  // cell per CIDR.
  PoolMapBuilder(const std::vector<addr::Prefix>& cidrs, std::size_t max_cells);

  int cellBits() const { return cell_bits_; }

  // Inputs; addresses outside every block are ignored.
  void addAllocatable(const addr::IpRange& range);
  void addReserved(const addr::IpRange& range);
  void addQuarantined(const addr::IpAddress& ip);
  void addBound(const addr::IpAddress& ip, bool probing);
  void addConflict(const addr::IpAddress& ip);

  PoolMap build() const;

 private:
  struct Cell {
    uint128 allocatable = 0;
    std::uint64_t taken = 0;  // used + quarantined
    bool conflict = false, quarantined = false, used = false, probing = false, reserved = false;
  };
  struct Block {
    addr::Prefix cidr;
    std::vector<Cell> cells;
  };
  // The block holding `ip` and the cell index in it, or nullptr.
  Block* blockOf(const addr::IpAddress& ip, std::size_t& index);
  // Calls `fn(cell, addresses of the range in it)` for each cell `range` touches.
  template <typename Fn>
  void forEachCell(const addr::IpRange& range, Fn fn);

  int cell_bits_ = 0;
  std::vector<Block> blocks_;
};

}  // namespace netledger::ledger
