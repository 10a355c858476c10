#pragma once
// MacPools: the MAC pools and the one registry of every MAC in the ledger (generated from a
// pool or registered explicitly), so a MAC is unique across all pools, even overlapping ones.
// Not thread-safe: the Ledger's lock guards it.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "addr/mac.h"
#include "alloc/mac_allocator.h"
#include "common/clock.h"
#include "common/status.h"
#include "ledger/model.h"
#include "ledger/write_set.h"

namespace netledger::ledger {

class MacPools {
 public:
  // `default_quarantine_s`: how long an explicitly registered MAC is held after release.
  explicit MacPools(std::int64_t default_quarantine_s)
      : default_quarantine_s_(default_quarantine_s) {}
  MacPools(const MacPools&) = delete;
  MacPools& operator=(const MacPools&) = delete;

  // With a writer slot > 0 (a replica of a shared store), each sequential pool's cursor starts at
  // the slot's golden-ratio fraction of the prefix, as Pools::spreadCursors does for addresses.
  void spreadCursors(std::uint32_t slot) { spread_slot_ = slot; }
  // Who holds the MACs of bindings (the binding table), so the registry keeps no copy of them;
  // kept across clear(). Call settled() once a claimed MAC is held there.
  void setHolders(const alloc::MacHolders* holders);
  void clear();
  // Durable records (start-up, another replica's writes).
  void adopt(const MacPoolRecord& record);
  void forget(const std::string& name) { pools_.erase(name); }

  // kConflict when the name exists. The record must have passed validateMacPool.
  Result<MacPoolRecord> create(MacPoolRecord record, WriteSet& ws);
  // kConflict while `users` bindings still hold a MAC of it.
  Result<MacPoolRecord> remove(const std::string& name, std::size_t users, WriteSet& ws);
  Result<MacPoolRecord> get(const std::string& name) const;
  std::vector<MacPoolRecord> list() const;

  // Claims an explicit MAC (kConflict when held or quarantined; `allow_quarantined` for a
  // durable record that holds it).
  Status claim(addr::Mac mac, TimePoint now, bool allow_quarantined = false) {
    return registry_.claim(mac, now, allow_quarantined);
  }
  // A new MAC from pool `pool` (kNotFound naming the field "mac_pool" when there is none).
  Result<addr::Mac> generate(const std::string& pool, TimePoint now, std::string_view instance,
                             std::string_view interface);
  // Releases `mac`, drawn from `pool` ("" when explicit), into its hold and records the
  // quarantine entry. Call it while the binding table still holds the MAC (before the binding
  // leaves it or changes its MAC): the registry finds a held MAC only there.
  void release(addr::Mac mac, const std::string& pool, WriteSet& ws);
  // Forgets `mac` at once (a durable deletion whose quarantine, if any, arrives as a record).
  void forget(addr::Mac mac) { registry_.forget(mac); }
  // `mac` is held by the holders now (see alloc::MacRegistry::settled).
  void settled(addr::Mac mac) { registry_.settled(mac); }
  // A durable quarantine entry.
  void restoreQuarantine(const QuarantineRecord& entry, TimePoint now);

 private:
  struct PoolState {
    MacPoolRecord record;
    std::unique_ptr<alloc::MacAllocator> allocator;
  };

  const std::int64_t default_quarantine_s_;
  std::uint32_t spread_slot_ = 0;               // kept across clear()
  const alloc::MacHolders* holders_ = nullptr;  // kept across clear()
  alloc::MacRegistry registry_;                 // before pools_: their allocators point at it
  std::map<std::string, PoolState> pools_;
};

}  // namespace netledger::ledger
