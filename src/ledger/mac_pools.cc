#include "ledger/mac_pools.h"

#include <boost/json.hpp>

#include "ledger/codec.h"

namespace netledger::ledger {

void MacPools::setHolders(const alloc::MacHolders* holders) {
  holders_ = holders;
  registry_.setHolders(holders);
}

void MacPools::clear() {
  pools_.clear();
  registry_ = alloc::MacRegistry(holders_);
}

void MacPools::adopt(const MacPoolRecord& r) {
  alloc::MacPoolLayout layout{r.prefix, r.strategy, std::chrono::seconds(r.quarantine_s)};
  auto allocator = std::make_unique<alloc::MacAllocator>(std::move(layout), registry_);
  if (spread_slot_ != 0 && r.strategy == alloc::MacStrategy::kSequential) {
    const std::uint64_t share = (spread_slot_ * 633u) % 1024u;  // 633/1024 ~ the golden ratio
    const std::uint64_t space = r.prefix.size();
    allocator->setCursor(space >= 1024 ? share * (space / 1024) : share * space / 1024);
  }
  pools_.insert_or_assign(r.name, PoolState{r, std::move(allocator)});
}

Result<MacPoolRecord> MacPools::create(MacPoolRecord r, WriteSet& ws) {
  if (pools_.contains(r.name)) return Status::conflict("name: MAC pool \"" + r.name + "\" exists");
  r.version = 1;
  r.created_at = r.updated_at = ws.nowMs();
  adopt(r);
  ws.put(PutMacPool{r, 0});
  ws.event("macpool.create", "macpool:" + r.name, {}, "", boost::json::serialize(toJson(r)));
  return r;
}

Result<MacPoolRecord> MacPools::remove(const std::string& name, std::size_t users, WriteSet& ws) {
  auto it = pools_.find(name);
  if (it == pools_.end()) return Status::notFound("MAC pool \"" + name + "\" not found");
  if (users > 0) {
    return Status::conflict("MAC pool \"" + name + "\" has " + std::to_string(users) +
                            " bindings; release them first");
  }
  MacPoolRecord r = it->second.record;
  pools_.erase(it);
  ws.put(DeleteMacPool{name, r.version});
  ws.event("macpool.delete", "macpool:" + name, {}, boost::json::serialize(toJson(r)), "");
  return r;
}

Result<MacPoolRecord> MacPools::get(const std::string& name) const {
  auto it = pools_.find(name);
  if (it == pools_.end()) return Status::notFound("MAC pool \"" + name + "\" not found");
  return it->second.record;
}

std::vector<MacPoolRecord> MacPools::list() const {
  std::vector<MacPoolRecord> out;
  for (const auto& [name, p] : pools_) out.push_back(p.record);
  return out;
}

Result<addr::Mac> MacPools::generate(const std::string& pool, TimePoint now,
                                     std::string_view instance, std::string_view interface) {
  auto it = pools_.find(pool);
  if (it == pools_.end()) {
    return Status::notFound("mac_pool: MAC pool \"" + pool + "\" not found");
  }
  auto mac = it->second.allocator->allocate(now, instance, interface);
  if (!mac) return mac.status().withContext("mac_pool \"" + pool + "\"");
  return *mac;
}

void MacPools::release(addr::Mac mac, const std::string& pool, WriteSet& ws) {
  std::int64_t hold = default_quarantine_s_;
  if (auto it = pools_.find(pool); it != pools_.end()) hold = it->second.record.quarantine_s;
  if (registry_.release(mac, ws.now(), std::chrono::seconds(hold)).isOk() && hold > 0) {
    ws.put(PutQuarantine{{"mac", pool, mac.toString(), ws.nowMs() + hold * 1000}});
  }
}

void MacPools::restoreQuarantine(const QuarantineRecord& q, TimePoint now) {
  TimePoint until{std::chrono::milliseconds(q.until)};
  if (until <= now) return;
  auto mac = addr::Mac::parse(q.key);
  if (mac && registry_.claim(*mac, now).isOk()) {
    (void)registry_.release(*mac, now, until - now);
  }
}

}  // namespace netledger::ledger
