#pragma once
// Pools: the IP pools in memory. Each pool has an allocator per CIDR (a block) that decides
// which address is free, a carver per CIDR that hands out aligned child prefixes, its child
// pools and how many bindings draw from it. The overlap index refuses two managed pools that
// overlap in one network. Not thread-safe: the Ledger's lock guards it.
//
// Commands (create, update, remove, expandIfNeeded) check, change memory and record their
// writes in the WriteSet only once nothing can fail any more. adopt/forget apply records that
// are already durable (start-up, another replica's writes) and check nothing.

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "addr/ip_address.h"
#include "alloc/ip_allocator.h"
#include "alloc/pool_overlap_index.h"
#include "alloc/prefix_allocator.h"
#include "common/clock.h"
#include "common/status.h"
#include "ledger/actor.h"
#include "ledger/commands.h"
#include "ledger/model.h"
#include "ledger/views.h"
#include "ledger/write_set.h"

namespace netledger::ledger {

struct PoolState {
  PoolRecord record;
  std::vector<std::unique_ptr<alloc::IpAllocator>> blocks;       // one per CIDR
  std::vector<std::unique_ptr<alloc::PrefixAllocator>> carvers;  // one per CIDR
  std::vector<std::string> children;
  std::size_t bindings = 0;  // addresses of bindings drawn from this pool

  // The block whose CIDR holds `ip`, or nullptr.
  alloc::IpAllocator* blockFor(const addr::IpAddress& ip) const;
  bool contains(const addr::IpAddress& ip) const { return blockFor(ip) != nullptr; }
  PoolView view() const;
};

// An address a binding holds in a pool: kept when the pool's layout is rebuilt.
struct HeldAddress {
  addr::IpAddress ip;
  std::uint64_t binding = 0;
  std::string instance;
};

class Pools {
 public:
  Pools() = default;
  Pools(const Pools&) = delete;
  Pools& operator=(const Pools&) = delete;

  void clear();
  // A writer of a shared store (slot > 0, Store::writerSlot) starts each new block's next-fit
  // cursor at its own fraction of the block (golden-ratio steps), so replicas allocating in one
  // pool take addresses far apart instead of racing for the same next one. 0: at the start.
  void spreadCursors(std::uint32_t slot) { spread_slot_ = slot; }
  // Start-up: every pool, parents before children whatever the order of `records`.
  Status load(const std::vector<PoolRecord>& records);
  // A durable record: a new pool, or the new layout of an existing one keeping `held` (and its
  // quarantine). An error means memory could not follow (a missing parent): reload.
  Status adopt(const PoolRecord& record, const std::vector<HeldAddress>& held, TimePoint now);
  // A durable deletion: the pool leaves the indexes and its parent.
  void forget(const std::string& name);

  // The pool as requested, or kInvalidArgument/kNotFound/kConflict/kPoolExhausted naming the
  // field. The record must have passed validatePool.
  Result<PoolView> create(const Actor& actor, PoolCreate create, WriteSet& ws);
  // kConflict when the new layout would make a held address unallocatable.
  Result<PoolView> update(const Actor& actor, const std::string& name, const PoolPatch& patch,
                          const std::vector<HeldAddress>& held, WriteSet& ws);
  // kConflict while the pool has bindings or children.
  Result<PoolRecord> remove(const Actor& actor, const std::string& name, WriteSet& ws);
  // Adds one prefix from the parent to an auto-expanding pool over its threshold.
  void expandIfNeeded(PoolState& pool, WriteSet& ws);

  // Puts `ip` of `pool` into the pool's quarantine and records it. Nothing when the pool is gone
  // or the address was not in use.
  void releaseAddress(const std::string& pool, const addr::IpAddress& ip, WriteSet& ws);
  // A durable quarantine entry (start-up, another replica's release).
  void restoreQuarantine(const QuarantineRecord& entry, TimePoint now);

  PoolState* find(std::string_view name);
  const PoolState* find(std::string_view name) const;
  // The pool if `actor` may see it; kNotFound alike for absent and out of scope.
  Result<const PoolState*> visible(const Actor& actor, std::string_view name) const;
  std::vector<PoolView> list(const Actor& actor) const;
  const std::map<std::string, PoolState, std::less<>>& all() const { return pools_; }
  // The network of `pool` ("default" for none or an unknown pool).
  std::string networkOf(std::string_view pool) const;
  // Every network with a pool, and the default one.
  std::set<std::string> networks() const;

 private:
  Status addPool(const PoolRecord& record);
  addr::uint128 spreadOffset(const addr::Prefix& cidr) const;
  // A root pool's CIDRs: given, and overlapping no managed pool of its network.
  Status placeRoot(const PoolRecord& r, const std::optional<int>& prefix_length) const;
  void detach(const PoolState& pool);
  Result<std::unique_ptr<alloc::IpAllocator>> makeBlock(const PoolRecord& r,
                                                        const addr::Prefix& cidr) const;
  // Blocks for `r`'s layout holding what `old` holds; `strict`: refuse a held address that no
  // longer fits (an update) instead of forcing it (a durable record).
  Result<std::vector<std::unique_ptr<alloc::IpAllocator>>> rebuildBlocks(
      const PoolState& old, const PoolRecord& r, const std::vector<HeldAddress>& held,
      TimePoint now, bool strict) const;
  void replaceLayout(PoolState& pool, const PoolRecord& r,
                     std::vector<std::unique_ptr<alloc::IpAllocator>> blocks);

  std::map<std::string, PoolState, std::less<>> pools_;
  alloc::PoolOverlapIndex overlap_;
  std::uint32_t spread_slot_ = 0;  // kept across clear()
};

}  // namespace netledger::ledger
