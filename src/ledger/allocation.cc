// Bindings::allocate: a short pipeline. The request was validated without the lock; here the
// pools are resolved, addresses taken (an AddressClaim hands them back if a later step
// refuses), the MAC claimed, and the binding recorded.
#include <algorithm>

#include <boost/json.hpp>

#include "addr/network.h"
#include "ledger/bindings.h"
#include "ledger/codec.h"

namespace netledger::ledger {

using addr::IpAddress;

namespace {

// Addresses taken for a binding not yet recorded: released at once unless kept.
class AddressClaim {
 public:
  AddressClaim() = default;
  AddressClaim(const AddressClaim&) = delete;
  AddressClaim& operator=(const AddressClaim&) = delete;
  ~AddressClaim() {
    for (auto& [block, ip] : taken_) (void)block->releaseImmediately(ip);
  }
  void add(alloc::IpAllocator* block, const IpAddress& ip) { taken_.emplace_back(block, ip); }
  void keep() { taken_.clear(); }

 private:
  std::vector<std::pair<alloc::IpAllocator*, IpAddress>> taken_;
};

Status usablePool(const PoolState& p, const std::string& name) {
  if (p.record.external) {
    return Status::conflict("pools: \"" + name +
                            "\" is external (another control plane's range); netledger "
                            "records it but does not allocate from it");
  }
  if (!p.children.empty()) {
    return Status::conflict("pools: \"" + name +
                            "\" is a parent pool; allocate from one of its children (" +
                            p.children.front() + ", ...)");
  }
  return Status::ok();
}

Result<AllocationTargets> resolveAllocationTargets(Pools& all, const Actor& actor,
                                                   const AllocateRequest& req) {
  AllocationTargets t;
  for (const auto& name : req.pools) {
    PoolState* p = all.find(name);
    if (!p || !actor.mayAccessTenant(p->record.tenant)) {
      return Status::notFound("pools: pool \"" + name + "\" not found");
    }
    if (std::find(t.pools.begin(), t.pools.end(), p) != t.pools.end()) {
      return Status::invalidArgument("pools: \"" + name + "\" is listed twice");
    }
    NL_RETURN_IF_ERROR(usablePool(*p, name));
    t.pools.push_back(p);
  }
  t.tenant = t.pools.empty() ? std::string() : t.pools.front()->record.tenant;
  for (const auto* p : t.pools) {
    if (p->record.tenant != t.tenant) {
      return Status::invalidArgument("pools: \"" + p->record.name + "\" belongs to tenant \"" +
                                     p->record.tenant + "\", not \"" + t.tenant + "\"");
    }
  }
  if (t.tenant.empty() && actor.tenants.size() == 1) t.tenant = actor.tenants.front();
  if (!actor.mayAccessTenant(t.tenant)) {
    return Status::forbidden("token \"" + actor.name +
                             "\" may not create bindings outside its tenants");
  }
  if (!req.address) return t;
  // A specific address goes to the listed pool that contains it; with no pools, to the managed
  // pool that contains it, else it is recorded as unpooled.
  for (auto* p : t.pools) {
    if (p->contains(*req.address)) t.specific = p;
  }
  if (!t.specific && !t.pools.empty()) {
    return Status::invalidArgument("address: " + req.address->toString() +
                                   " is not in the requested pools");
  }
  if (t.pools.empty()) {
    for (const auto& [name, p] : all.all()) {
      if (p.children.empty() && p.contains(*req.address) &&
          actor.mayAccessTenant(p.record.tenant)) {
        t.specific = all.find(name);
      }
    }
    if (t.specific) t.pools.push_back(t.specific);
  }
  return t;
}

}  // namespace

Result<Applied<BindingRecord>> Bindings::allocate(const AllocateRequest& req, WriteSet& ws) {
  const Actor& actor = ws.actor();
  if (auto existing = table_.idByKey(req.instance, req.interface)) {
    auto b = visible(actor, *existing);
    if (!b) return b.status();
    return Applied<BindingRecord>{std::move(b).value(), false};
  }
  auto targets = resolveAllocationTargets(pools_, actor, req);
  if (!targets) return targets.status();
  BindingRecord b;
  AddressClaim claim;
  for (auto* p : targets->pools) {
    auto ip =
        p == targets->specific ? takeSpecific(*p, *req.address, ws.now()) : takeNext(*p, ws.now());
    if (!ip) return ip.status();
    claim.add(p->blockFor(*ip), *ip);
    b.addresses.push_back({*ip, p->record.name});
  }
  if (req.address && !targets->specific) {
    if (auto holder = table_.idByIp(addr::kDefaultNetwork, *req.address)) {
      return Status::conflict("address: " + req.address->toString() + " is held by binding " +
                              std::to_string(*holder));
    }
    b.addresses.push_back({*req.address, ""});
  }
  if (req.mac) {
    if (Status s = macs_.claim(*req.mac, ws.now(), req.own_mac); !s.isOk()) {
      if (auto holder = table_.idByMac(*req.mac))
        return heldBy("mac", req.mac->toString(), *holder);
      return s;
    }
    b.mac = req.mac;
  } else if (!req.mac_pool.empty()) {
    auto mac = macs_.generate(req.mac_pool, ws.now(), req.instance, req.interface);
    if (!mac) return mac.status();
    b.mac = *mac;
    b.mac_pool = req.mac_pool;
  }
  claim.keep();
  return recordAllocation(req, std::move(b), *targets, ws);
}

Result<IpAddress> Bindings::takeSpecific(PoolState& pool, const IpAddress& ip, TimePoint now) {
  Status s = pool.blockFor(ip)->allocateSpecific(ip, now);
  if (s.isOk()) return ip;
  if (s.code() == StatusCode::kConflict) {
    if (auto holder = table_.idByIp(pool.record.network, ip)) {
      return heldBy("address", ip.toString(), *holder);
    }
  }
  return s.withContext("address");
}

Result<IpAddress> Bindings::takeNext(PoolState& pool, TimePoint now) {
  for (auto& block : pool.blocks) {
    if (auto ip = block->allocateNext(now)) return *ip;
  }
  PoolView v = pool.view();
  return Status::poolExhausted("pool \"" + pool.record.name + "\" is exhausted (" +
                               addr::toDecimal(v.counts.allocatable) + " allocatable, " +
                               addr::toDecimal(v.counts.quarantined) + " quarantined)");
}

Applied<BindingRecord> Bindings::recordAllocation(const AllocateRequest& req, BindingRecord b,
                                                  const AllocationTargets& targets, WriteSet& ws) {
  b.id = last_id_ = nextId();
  b.instance = req.instance;
  b.interface = req.interface;
  b.host = req.host;
  b.host_mac = req.host_mac;
  b.service = req.service;
  b.tenant = targets.tenant;
  b.labels = req.labels;
  b.state = req.probe ? BindingState::kReserved : BindingState::kActive;
  b.is_static = req.is_static;
  b.created_at = b.updated_at = ws.nowMs();
  std::int64_t ttl =
      req.ttl_s ? *req.ttl_s
                : (targets.pools.empty() ? 0 : targets.pools.front()->record.default_ttl_s);
  b.ttl_s = b.is_static ? 0 : ttl;
  b.expires_at = b.ttl_s == 0 ? 0 : b.created_at + b.ttl_s * 1000;
  b.version = 1;
  for (auto* p : targets.pools) ++p->bindings;
  table_.insert(b);
  if (b.mac) macs_.settled(*b.mac);
  std::string json = boost::json::serialize(toJson(b));  // the event's "after", the API's answer
  ws.put(PutBinding{b, 0});
  ws.event("binding.allocate", "binding:" + std::to_string(b.id), bindingHistoryKeys(b, true), "",
           json);
  for (auto* p : targets.pools) pools_.expandIfNeeded(*p, ws);
  return Applied<BindingRecord>{std::move(b), true, 0, std::move(json)};
}

}  // namespace netledger::ledger
