#pragma once
// Bindings: the unit of truth (instance, interface, MAC, addresses, host) and its lifecycle:
// allocate, renew, activate, migrate, update, move an address, reassign, release and expire;
// plus the reads over the table (search, holders, wire look-ups, heat maps). The addresses come
// from Pools and the MACs from MacPools, so a binding's addresses and MAC are always held in
// their allocators while it exists. Not thread-safe: the Ledger's lock guards it.
//
// Commands change memory only once nothing can fail any more (taken addresses are handed back
// by an AddressClaim when a later step refuses) and record their writes and events in the
// WriteSet. adopt/forget apply bindings that are already durable.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "addr/ip_address.h"
#include "addr/mac.h"
#include "common/status.h"
#include "ledger/actor.h"
#include "ledger/binding_table.h"
#include "ledger/commands.h"
#include "ledger/mac_pools.h"
#include "ledger/model.h"
#include "ledger/pool_map.h"
#include "ledger/pools.h"
#include "ledger/views.h"
#include "ledger/write_set.h"

namespace netledger::ledger {

// Whether text (lower-case) could be the start of an address or MAC: hex digits, '.', ':', '-'.
bool couldStartAddress(std::string_view text);
// Whether a binding's instance, host, MAC and addresses match BindingFilter::text.
bool matchesSearchText(std::string_view text, std::string_view instance, std::string_view host,
                       std::optional<addr::Mac> mac, const std::vector<addr::IpAddress>& ips);

// The history keys of a binding's events: its instance, and (`with_addresses`) its addresses and
// MAC.
std::vector<std::string> bindingHistoryKeys(const BindingRecord& b, bool with_addresses);

// Where an allocation's addresses come from (allocation.cc).
struct AllocationTargets {
  std::vector<PoolState*> pools;
  PoolState* specific = nullptr;  // the pool of the requested address, if it is pooled
  std::string tenant;             // the binding's tenant
};

class Bindings {
 public:
  // `pools` and `macs` must outlive the Bindings. The table answers for the MACs it holds
  // (MacPools::setHolders) until the Bindings are gone.
  Bindings(Pools& pools, MacPools& macs);
  ~Bindings() { macs_.setHolders(nullptr); }
  Bindings(const Bindings&) = delete;
  Bindings& operator=(const Bindings&) = delete;

  void clear();
  void reserve(std::size_t n) { table_.reserve(n); }
  std::size_t size() const { return table_.size(); }
  std::uint64_t lastId() const { return last_id_; }
  void raiseLastId(std::uint64_t id) { last_id_ = std::max(last_id_, id); }
  // A writer of a shared store (slot > 0, Store::writerSlot) takes only the ids of its slot
  // (nextForWriter), so two replicas allocating at once never pick the same new id (ids stay
  // increasing across replicas, with gaps). 0: every id in turn.
  void strideIds(std::uint32_t slot) { id_slot_ = slot; }
  std::uint64_t nextId() const;

  // Start-up: bindings from the store, none of them known yet. From kParallelLoadMinimum on,
  // the table fills on a helper thread while the allocators are claimed on this one.
  void load(std::vector<BindingRecord>& bindings, TimePoint now);
  static constexpr std::size_t kParallelLoadMinimum = 50'000;
  // A durable binding (another replica's write): its addresses and MAC are taken
  // whatever the allocators say (they follow the store), replacing the earlier version if any.
  void adopt(const BindingRecord& binding, TimePoint now);
  // A durable deletion: the addresses and MAC are freed at once (their quarantine, if any, is a
  // record of its own).
  void forget(std::uint64_t id);

  // ---- commands (see Ledger for their contracts) ----
  // The commands act for ws.actor(): a binding outside its tenants reads as absent.
  Result<Applied<BindingRecord>> allocate(const AllocateRequest& request, WriteSet& ws);
  Result<Applied<BindingRecord>> renew(std::uint64_t id, std::optional<std::int64_t> ttl_s,
                                       WriteSet& ws);
  Result<Applied<std::size_t>> renewHost(const std::string& host, WriteSet& ws);
  Result<Applied<BindingRecord>> activate(std::uint64_t id, WriteSet& ws);
  Result<Applied<BindingRecord>> migrate(std::uint64_t id, const std::string& host,
                                         std::optional<addr::Mac> host_mac, WriteSet& ws);
  Result<Applied<BindingRecord>> update(std::uint64_t id, const BindingUpdate& update,
                                        WriteSet& ws);
  Result<Applied<BindingRecord>> moveAddress(const addr::IpAddress& ip, std::uint64_t to,
                                             WriteSet& ws);
  Result<Applied<BindingRecord>> reassignAddress(std::uint64_t id, const addr::IpAddress& ip,
                                                 WriteSet& ws);
  // Releases (or, `expire`, expires) binding `id`: addresses and MAC go to quarantine.
  Result<BindingRecord> end(std::uint64_t id, bool expire, WriteSet& ws);
  // The dynamic bindings whose lease ended by `now`.
  std::vector<std::uint64_t> dueForExpiry(Millis now) const;

  // ---- reads; `actor` scopes what is visible (out of scope reads as absent) ----
  Result<BindingRecord> get(const Actor& actor, std::uint64_t id) const;
  Result<Page<BindingRecord>> search(const Actor& actor, const BindingFilter& filter,
                                     const std::string& cursor, std::size_t limit) const;
  Result<BindingRecord> holderOfAddress(const Actor& actor, const addr::IpAddress& ip) const;
  Result<BindingRecord> holderOfMac(const Actor& actor, addr::Mac mac) const;
  std::vector<AddressNetwork> addressNetworks(const BindingRecord& binding) const;
  std::vector<WireFacts> lookupWire(std::span<const WireQuery> queries) const;
  std::pair<std::vector<std::uint64_t>, std::size_t> unchangedSince(Millis before,
                                                                    std::size_t cursor,
                                                                    std::size_t limit) const;
  // Every address of a binding drawn from `pool` (to rebuild the pool's layout).
  std::vector<HeldAddress> heldIn(const std::string& pool) const;
  // Every pooled address of every binding, by pool, in one pass (the self-check).
  std::map<std::string, std::vector<HeldAddress>> heldByPool() const;
  // How many bindings hold a MAC of MAC pool `pool`.
  std::size_t macPoolUsers(const std::string& pool) const;
  // The bound addresses of `pool` painted onto `builder`.
  void paint(const std::string& pool, PoolMapBuilder& builder) const;

 private:
  // The allocation pipeline's steps (allocation.cc).
  Result<addr::IpAddress> takeSpecific(PoolState& pool, const addr::IpAddress& ip, TimePoint now);
  Result<addr::IpAddress> takeNext(PoolState& pool, TimePoint now);
  Applied<BindingRecord> recordAllocation(const AllocateRequest& request, BindingRecord b,
                                          const AllocationTargets& targets, WriteSet& ws);
  // Bumps the version, re-indexes, and records the write with its audit event (`address_keys`:
  // whether the event joins the IP and MAC histories).
  Applied<BindingRecord> record(std::string op, BindingRecord b, std::uint64_t expected,
                                std::string before, bool address_keys, WriteSet& ws);
  // Binding `id` as `actor` may see it: kNotFound alike for absent and out of scope.
  Result<BindingRecord> visible(const Actor& actor, std::uint64_t id) const;
  // Takes a durable binding's addresses and MAC and indexes it (it must not be in the table).
  void take(const BindingRecord& b, TimePoint now);
  // take() without the table: the allocators' half (pool bitmaps, MAC registry, last id).
  void claimAllocations(const BindingRecord& b, TimePoint now);
  // The bindings holding `ip`, one per network at most, in network-name order.
  std::vector<std::uint64_t> holdersOfIp(const addr::IpAddress& ip) const;
  BindingBrief brief(std::uint64_t id) const;
  // kConflict: "<field>: <what> is held by binding <id> (<instance>)".
  Status heldBy(std::string_view field, const std::string& what, std::uint64_t id) const;

  // The table's MAC index as the registry's holders: one copy of each MAC, not two.
  struct TableMacs final : alloc::MacHolders {
    explicit TableMacs(const BindingTable& t) : table(t) {}
    bool holds(addr::Mac mac) const override { return table.idByMac(mac).has_value(); }
    const BindingTable& table;
  };

  Pools& pools_;
  MacPools& macs_;
  BindingTable table_;
  TableMacs table_macs_{table_};
  std::uint64_t last_id_ = 0;
  std::uint32_t id_slot_ = 0;  // kept across clear()
};

}  // namespace netledger::ledger
