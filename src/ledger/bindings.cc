#include "ledger/bindings.h"

#include <algorithm>
#include <optional>
#include <system_error>
#include <thread>

#include <boost/json.hpp>

#include "ledger/codec.h"

namespace netledger::ledger {

using addr::IpAddress;
using addr::Mac;

namespace {

std::string dump(const BindingRecord& b) { return boost::json::serialize(toJson(b)); }

std::string subjectOf(std::uint64_t id) { return "binding:" + std::to_string(id); }

}  // namespace

std::vector<std::string> bindingHistoryKeys(const BindingRecord& b, bool with_addresses) {
  // The binding itself is the event's subject; keys are what history is asked about.
  std::vector<std::string> keys = {"instance:" + b.instance};
  if (with_addresses) {
    for (const auto& a : b.addresses) keys.push_back("ip:" + a.ip.toString());
    if (b.mac) keys.push_back("mac:" + b.mac->toString());
  }
  return keys;
}

Bindings::Bindings(Pools& pools, MacPools& macs)
    : pools_(pools),
      macs_(macs),
      table_([&pools](const std::string& pool) { return pools.networkOf(pool); }) {
  macs_.setHolders(&table_macs_);
}

std::uint64_t Bindings::nextId() const { return nextForWriter(last_id_, id_slot_); }

void Bindings::clear() {
  table_.clear();
  last_id_ = 0;
}

// ---------------------------------------------------------------------------------------------
// Durable records

void Bindings::claimAllocations(const BindingRecord& b, TimePoint now) {
  for (const auto& a : b.addresses) {
    PoolState* pool = pools_.find(a.pool);
    if (!pool) continue;
    // The store is the truth: keep the address even if the pool's layout changed since.
    if (auto* block = pool->blockFor(a.ip)) (void)block->allocateSpecific(a.ip, now, true);
    ++pool->bindings;
  }
  // The binding is durable and the table takes it next (at start-up on another thread, which
  // settled() does not read): no claim of the registry's own, and no quarantine, is kept.
  if (b.mac) macs_.settled(*b.mac);
  raiseLastId(b.id);
}

void Bindings::take(const BindingRecord& b, TimePoint now) {
  claimAllocations(b, now);
  table_.insert(b);
}

void Bindings::load(std::vector<BindingRecord>& bindings, TimePoint now) {
  table_.reserve(bindings.size());
  // A million bindings: the table (slots and four indexes) fills on a helper thread while this
  // one claims the addresses and MACs. The two share only reads of the pools' networks.
  auto fill_table = [&] {
    for (const auto& b : bindings) table_.insert(b);
  };
  std::optional<std::jthread> helper;  // joins on every way out
  if (bindings.size() >= kParallelLoadMinimum && std::thread::hardware_concurrency() > 1) {
    try {
      helper.emplace(fill_table);
    } catch (const std::system_error&) {
      // No thread to be had: fill it below, just slower.
    }
  }
  for (const auto& b : bindings) claimAllocations(b, now);
  if (helper) {
    helper->join();
  } else {
    fill_table();
  }
}

void Bindings::adopt(const BindingRecord& binding, TimePoint now) {
  forget(binding.id);
  take(binding, now);
}

void Bindings::forget(std::uint64_t id) {
  auto b = table_.get(id);
  if (!b) return;
  for (const auto& a : b->addresses) {
    PoolState* pool = pools_.find(a.pool);
    if (!pool) continue;
    if (auto* block = pool->blockFor(a.ip)) (void)block->releaseImmediately(a.ip);
    --pool->bindings;
  }
  if (b->mac) macs_.forget(*b->mac);
  table_.erase(id);
}

// ---------------------------------------------------------------------------------------------
// Commands

Result<BindingRecord> Bindings::visible(const Actor& actor, std::uint64_t id) const {
  auto b = table_.get(id);
  const std::string what = "binding " + std::to_string(id);
  if (!b) return Status::notFound(what + " not found");
  NL_RETURN_IF_ERROR(hiddenOutsideTenants(actor, b->tenant, what));
  return std::move(*b);
}

Status Bindings::heldBy(std::string_view field, const std::string& what, std::uint64_t id) const {
  return Status::conflict(std::string(field) + ": " + what + " is held by binding " +
                          std::to_string(id) + " (" + table_.get(id)->instance + ")");
}

Applied<BindingRecord> Bindings::record(std::string op, BindingRecord b, std::uint64_t expected,
                                        std::string before, bool address_keys, WriteSet& ws) {
  b.version += 1;
  table_.update(b);
  ws.put(PutBinding{b, expected});
  ws.event(std::move(op), subjectOf(b.id), bindingHistoryKeys(b, address_keys), std::move(before),
           dump(b));
  return Applied<BindingRecord>{std::move(b)};
}

Result<Applied<BindingRecord>> Bindings::renew(std::uint64_t id, std::optional<std::int64_t> ttl_s,
                                               WriteSet& ws) {
  auto found = visible(ws.actor(), id);
  if (!found) return found.status();
  BindingRecord& b = *found;
  std::string before = dump(b);
  if (ttl_s && !b.is_static) b.ttl_s = *ttl_s;
  const std::uint64_t expected = b.version;
  b.updated_at = ws.nowMs();
  b.expires_at = b.ttl_s > 0 ? b.updated_at + b.ttl_s * 1000 : 0;
  // No state change: a reserved binding is still being probed, and only the probe's outcome
  // (activate) may put it in use. Agents heartbeat all their bindings, probed or not.
  return record("binding.renew", std::move(b), expected, std::move(before), false, ws);
}

Result<Applied<std::size_t>> Bindings::renewHost(const std::string& host, WriteSet& ws) {
  std::vector<std::uint64_t> ids;
  table_.scan(0, [&](std::size_t, const BindingTable::View& v) {
    if (v.host == host && ws.actor().mayAccessTenant(v.tenant)) ids.push_back(v.id);
    return true;
  });
  const Millis now = ws.nowMs();
  for (auto id : ids) {
    BindingRecord b = *table_.get(id);
    const std::uint64_t expected = b.version;
    b.updated_at = now;
    if (b.ttl_s > 0) b.expires_at = now + b.ttl_s * 1000;
    b.version += 1;
    table_.update(b);
    ws.put(PutBinding{std::move(b), expected});
  }
  boost::json::object after;
  after["host"] = host;
  after["renewed"] = ids.size();
  // One event for the whole heartbeat: a node's bulk renew is one act, and a per-binding event
  // every interval would drown the audit log.
  ws.event("host.renew", "host:" + host, {}, "", boost::json::serialize(after));
  return Applied<std::size_t>{ids.size()};
}

Result<Applied<BindingRecord>> Bindings::activate(std::uint64_t id, WriteSet& ws) {
  auto found = visible(ws.actor(), id);
  if (!found) return found.status();
  BindingRecord& b = *found;
  if (b.state != BindingState::kReserved) return Applied<BindingRecord>{std::move(b), false};
  std::string before = dump(b);
  const std::uint64_t expected = b.version;
  b.state = BindingState::kActive;
  b.updated_at = ws.nowMs();
  // The addresses join their histories here: from now on the binding really uses them.
  return record("binding.activate", std::move(b), expected, std::move(before), true, ws);
}

Result<BindingRecord> Bindings::end(std::uint64_t id, bool expire, WriteSet& ws) {
  auto found = visible(ws.actor(), id);
  if (!found) return found.status();
  BindingRecord b = std::move(*found);
  for (const auto& a : b.addresses) {
    PoolState* pool = pools_.find(a.pool);
    if (!pool) continue;
    --pool->bindings;
    pools_.releaseAddress(a.pool, a.ip, ws);
  }
  if (b.mac) macs_.release(*b.mac, b.mac_pool, ws);  // before the table lets go of it
  table_.erase(id);
  std::string before = dump(b);
  ws.put(DeleteBinding{b.id, b.version});
  b.state = expire ? BindingState::kExpired : BindingState::kReleased;
  b.updated_at = ws.nowMs();
  b.version += 1;
  ws.event(expire ? "binding.expire" : "binding.release", subjectOf(b.id),
           bindingHistoryKeys(b, true), std::move(before), dump(b));
  return b;
}

std::vector<std::uint64_t> Bindings::dueForExpiry(Millis now) const {
  std::vector<std::uint64_t> due;
  table_.scan(0, [&](std::size_t, const BindingTable::View& v) {
    if (!v.is_static && v.expires_at != 0 && v.expires_at <= now) due.push_back(v.id);
    return true;
  });
  return due;
}

Result<Applied<BindingRecord>> Bindings::migrate(std::uint64_t id, const std::string& host,
                                                 std::optional<Mac> host_mac, WriteSet& ws) {
  auto found = visible(ws.actor(), id);
  if (!found) return found.status();
  BindingRecord& b = *found;
  std::string before = dump(b);
  const std::uint64_t expected = b.version;
  b.host = host;
  if (host_mac) b.host_mac = host_mac;
  b.updated_at = ws.nowMs();  // a migration is not a renewal: the lease end stays
  return record("binding.migrate", std::move(b), expected, std::move(before), true, ws);
}

Result<Applied<BindingRecord>> Bindings::update(std::uint64_t id, const BindingUpdate& update,
                                                WriteSet& ws) {
  auto found = visible(ws.actor(), id);
  if (!found) return found.status();
  BindingRecord b = std::move(*found);
  const bool new_mac = update.mac && update.mac != b.mac;
  const bool new_host = update.host && *update.host != b.host;
  const bool new_host_mac = update.host_mac && update.host_mac != b.host_mac;
  // The chained CNI plugin repeats its PATCH on every repeated ADD: facts already recorded are
  // no change, and no audit event.
  if (!new_mac && !new_host && !new_host_mac) return Applied<BindingRecord>{std::move(b), false};
  std::string before = dump(b);
  const std::uint64_t expected = b.version;
  std::optional<Mac> old_mac;
  if (new_mac) {
    // Claimed before anything else changes: a refusal leaves memory as it was.
    if (Status s = macs_.claim(*update.mac, ws.now()); !s.isOk()) {
      if (auto holder = table_.idByMac(*update.mac)) {
        return heldBy("mac", update.mac->toString(), *holder);
      }
      return s.withContext("mac");
    }
    if (b.mac) {
      old_mac = b.mac;
      // The old MAC's quarantine goes in the binding update's own batch: a crash cannot keep
      // one without the other. Released while the table still holds it (table_.update below).
      macs_.release(*b.mac, b.mac_pool, ws);
    }
    b.mac = update.mac;
    b.mac_pool.clear();  // no longer the pool's: an observed MAC
  }
  if (update.host) b.host = *update.host;
  if (update.host_mac) b.host_mac = update.host_mac;
  // Not a renewal (the lease end stays) and not an activation (a reserved binding is still
  // being probed; only the probe's outcome puts it in use).
  b.version += 1;
  b.updated_at = ws.nowMs();
  table_.update(b);
  if (new_mac) macs_.settled(*b.mac);
  auto keys = bindingHistoryKeys(b, true);
  // The old MAC's history ends here: its lineage must show where it went.
  if (old_mac) keys.push_back("mac:" + old_mac->toString());
  ws.put(PutBinding{b, expected});
  ws.event("binding.update", subjectOf(b.id), std::move(keys), std::move(before), dump(b));
  return Applied<BindingRecord>{std::move(b)};
}

Result<Applied<BindingRecord>> Bindings::moveAddress(const IpAddress& ip, std::uint64_t to,
                                                     WriteSet& ws) {
  auto holders = holdersOfIp(ip);
  if (holders.empty()) return Status::notFound("address " + ip.toString() + " is not held");
  if (holders.size() > 1) {
    return Status::conflict("address " + ip.toString() + " is held in " +
                            std::to_string(holders.size()) +
                            " networks; move it with the binding's own pools instead");
  }
  const std::uint64_t from = holders.front();
  if (!table_.contains(to)) {
    return Status::notFound("to: binding " + std::to_string(to) + " not found");
  }
  auto source = visible(ws.actor(), from);
  if (!source) return source.status();
  auto target = visible(ws.actor(), to);
  if (!target) return target.status().withContext("to");
  BindingRecord& a = *source;
  BindingRecord& b = *target;
  if (from == to) {
    return Status::invalidArgument("to: binding " + std::to_string(to) + " already holds " +
                                   ip.toString());
  }
  if (a.tenant != b.tenant) {
    return Status::invalidArgument("to: binding " + std::to_string(to) +
                                   " belongs to another tenant");
  }
  std::string before = dump(a);
  auto pos = std::find_if(a.addresses.begin(), a.addresses.end(),
                          [&](const BoundAddress& x) { return x.ip == ip; });
  b.addresses.push_back(*pos);
  a.addresses.erase(pos);
  const std::uint64_t ea = a.version, eb = b.version;
  a.version += 1;
  b.version += 1;
  a.updated_at = b.updated_at = ws.nowMs();
  table_.update(a);
  table_.update(b);
  ws.put(PutBinding{a, ea});
  ws.put(PutBinding{b, eb});
  ws.event("address.move", subjectOf(to),
           {"ip:" + ip.toString(), "instance:" + a.instance, "instance:" + b.instance},
           std::move(before), dump(b));
  return Applied<BindingRecord>{std::move(b)};
}

Result<Applied<BindingRecord>> Bindings::reassignAddress(std::uint64_t id, const IpAddress& ip,
                                                         WriteSet& ws) {
  auto found = visible(ws.actor(), id);
  if (!found) return found.status();
  BindingRecord b = std::move(*found);
  if (b.is_static) {
    return Status::conflict("binding " + std::to_string(id) +
                            " is static: its addresses are never moved automatically");
  }
  auto pos = std::find_if(b.addresses.begin(), b.addresses.end(),
                          [&](const BoundAddress& a) { return a.ip == ip; });
  if (pos == b.addresses.end()) {
    return Status::invalidArgument("ip: binding " + std::to_string(id) + " does not hold " +
                                   ip.toString());
  }
  PoolState* pool = pools_.find(pos->pool);
  if (!pool) {
    return Status::conflict("ip: " + ip.toString() +
                            " is not from a pool; there is nothing to reassign from");
  }
  // Take the new address first, so it cannot be the contested one.
  std::optional<IpAddress> fresh;
  for (auto& block : pool->blocks) {
    if (auto next = block->allocateNext(ws.now())) {
      fresh = *next;
      break;
    }
  }
  if (!fresh) return Status::poolExhausted("pool \"" + pos->pool + "\" is exhausted");
  pools_.releaseAddress(pos->pool, ip, ws);
  std::string before = dump(b);
  const std::uint64_t expected = b.version;
  pos->ip = *fresh;
  b.version += 1;
  b.updated_at = ws.nowMs();
  table_.update(b);
  auto keys = bindingHistoryKeys(b, true);
  keys.push_back("ip:" + ip.toString());
  ws.put(PutBinding{b, expected});
  ws.event("binding.reassign", subjectOf(b.id), std::move(keys), std::move(before), dump(b));
  return Applied<BindingRecord>{std::move(b)};
}

}  // namespace netledger::ledger
