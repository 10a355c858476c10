#include "ledger/pools.h"

#include <algorithm>

#include <boost/json.hpp>

#include "addr/network.h"
#include "ledger/codec.h"
#include "ledger/validation.h"

namespace netledger::ledger {

using addr::IpAddress;
using addr::Prefix;

namespace {

std::string dump(const PoolRecord& r) { return boost::json::serialize(toJson(r)); }

Status poolNotFound(std::string_view name) {
  return Status::notFound("pool \"" + std::string(name) + "\" not found");
}

// Child prefixes taken from a parent for a pool being created: given back unless kept.
class CarvedPrefixes {
 public:
  explicit CarvedPrefixes(PoolState* parent) : parent_(parent) {}
  CarvedPrefixes(const CarvedPrefixes&) = delete;
  CarvedPrefixes& operator=(const CarvedPrefixes&) = delete;
  ~CarvedPrefixes() {
    if (!parent_) return;
    for (const auto& cidr : taken_) {
      for (auto& carver : parent_->carvers) {
        if (carver->parent().contains(cidr)) (void)carver->release(cidr);
      }
    }
  }
  void add(const Prefix& cidr) { taken_.push_back(cidr); }
  void keep() { taken_.clear(); }

 private:
  PoolState* parent_;
  std::vector<Prefix> taken_;
};

PoolRecord patched(PoolRecord r, const PoolPatch& patch) {
  if (patch.gateway) r.gateway = *patch.gateway;
  if (patch.ranges) r.ranges = *patch.ranges;
  if (patch.reserved) r.reserved = *patch.reserved;
  if (patch.tenant) r.tenant = *patch.tenant;
  if (patch.cluster) r.cluster = *patch.cluster;
  if (patch.vlan) r.vlan = *patch.vlan;
  if (patch.vni) r.vni = *patch.vni;
  if (patch.default_ttl_s) r.default_ttl_s = *patch.default_ttl_s;
  if (patch.quarantine_s) r.quarantine_s = *patch.quarantine_s;
  if (patch.threshold) r.threshold = *patch.threshold;
  if (patch.auto_expand) r.auto_expand = *patch.auto_expand;
  if (patch.expand_prefix_length) r.expand_prefix_length = *patch.expand_prefix_length;
  if (patch.dhcp) r.dhcp = *patch.dhcp;
  if (patch.enforcement) r.enforcement = *patch.enforcement;
  return r;
}

// Whether a /length prefix can exist in one of the parent's CIDRs at all (same family, not
// shorter than the CIDR): an impossible length is bad input, not an exhausted or busy parent.
Status checkCarvable(const PoolState& parent, int length,
                     std::string_view field = "prefix_length") {
  for (const auto& carver : parent.carvers) {
    if (length >= carver->parent().length() && length <= carver->parent().network().width()) {
      return Status::ok();
    }
  }
  return Status::invalidArgument(std::string(field) + ": /" + std::to_string(length) +
                                 " does not fit in pool \"" + parent.record.name + "\"");
}

// A new expand_prefix_length must be carvable from the parent the pool expands from.
Status checkExpandLength(const PoolState* parent, int length) {
  if (length <= 0) return Status::ok();
  if (parent == nullptr) {
    return Status::invalidArgument("expand_prefix_length: needs a parent pool to expand from");
  }
  return checkCarvable(*parent, length, "expand_prefix_length");
}

// Carves a child prefix of `length` (checkCarvable passed) from the parent's CIDRs.
Result<Prefix> carve(PoolState& parent, int length) {
  Status last = Status::poolExhausted("parent: pool \"" + parent.record.name + "\" has no free /" +
                                      std::to_string(length));
  for (auto& carver : parent.carvers) {
    int width = carver->parent().network().width();
    if (length < carver->parent().length() || length > width) continue;
    auto carved = carver->allocate(length);
    if (carved) return *carved;
    if (carved.status().code() != StatusCode::kPoolExhausted) last = carved.status();
  }
  return last;
}

// A child pool's CIDRs: carved from the parent by prefix length, or given and reserved there.
Status placeChild(PoolState& parent, PoolRecord& r, const std::optional<int>& prefix_length,
                  CarvedPrefixes& carved) {
  if (prefix_length) NL_RETURN_IF_ERROR(checkCarvable(parent, *prefix_length));
  if (parent.bindings > 0) {
    return Status::conflict("parent: pool \"" + r.parent + "\" has " +
                            std::to_string(parent.bindings) +
                            " bindings; only a pool with none can be divided into children");
  }
  if (r.network != addr::kDefaultNetwork && r.network != parent.record.network) {
    return Status::invalidArgument("network: a child pool is in its parent's network \"" +
                                   parent.record.network + "\"");
  }
  r.network = parent.record.network;
  if (r.tenant.empty()) r.tenant = parent.record.tenant;
  if (prefix_length) {
    if (!r.cidrs.empty()) {
      return Status::invalidArgument("cidr: give either cidr or prefix_length, not both");
    }
    auto cidr = carve(parent, *prefix_length);
    if (!cidr) return cidr.status();
    carved.add(*cidr);
    r.cidrs.push_back(*cidr);
    return Status::ok();
  }
  if (r.cidrs.empty()) return Status::invalidArgument("cidr: required (or prefix_length)");
  for (const auto& cidr : r.cidrs) {
    Status reserved = Status::invalidArgument("cidr: " + cidr.toString() +
                                              " is not inside parent pool \"" + r.parent + "\"");
    for (auto& carver : parent.carvers) {
      if (carver->parent().contains(cidr)) reserved = carver->reserve(cidr);
    }
    NL_RETURN_IF_ERROR(reserved);
    carved.add(cidr);
  }
  return Status::ok();
}

}  // namespace

alloc::IpAllocator* PoolState::blockFor(const IpAddress& ip) const {
  for (const auto& b : blocks) {
    if (b->layout().cidr.contains(ip)) return b.get();
  }
  return nullptr;
}

PoolView PoolState::view() const {
  PoolView v;
  v.record = record;
  v.children = children;
  v.bindings = bindings;
  for (const auto& b : blocks) {
    auto c = b->counts();
    v.counts.size = addr::AddressCount(v.counts.size.saturated() + c.size.saturated());
    v.counts.allocatable += c.allocatable;
    v.counts.used += c.used;
    v.counts.quarantined += c.quarantined;
    v.counts.free += c.free;
    v.counts.reserved += c.reserved;
  }
  return v;
}

void Pools::clear() {
  pools_.clear();
  overlap_ = alloc::PoolOverlapIndex();
}

Result<std::unique_ptr<alloc::IpAllocator>> Pools::makeBlock(const PoolRecord& r,
                                                             const Prefix& cidr) const {
  alloc::IpPoolLayout layout;
  layout.cidr = cidr;
  if (r.gateway && cidr.contains(*r.gateway)) layout.gateway = r.gateway;
  // A CIDR's allocation ranges are the pool's ranges inside it; none there means all of it
  // (so a prefix added by auto-expansion is usable whole).
  for (const auto& range : r.ranges) {
    if (cidr.contains(range.first())) layout.ranges.push_back(range);
  }
  for (const auto& range : r.reserved) {
    if (cidr.contains(range.first())) layout.reserved.push_back(range);
  }
  layout.quarantine = std::chrono::seconds(r.quarantine_s);
  return alloc::IpAllocator::create(std::move(layout));
}

addr::uint128 Pools::spreadOffset(const addr::Prefix& cidr) const {
  const addr::uint128 share = (spread_slot_ * 633u) % 1024u;  // 633/1024 ~ the golden ratio
  const int bits = cidr.hostBits();
  return bits >= 10 ? share << (bits - 10) : (share << bits) >> 10;
}

Status Pools::addPool(const PoolRecord& record) {
  PoolState state;
  state.record = record;
  for (const auto& cidr : record.cidrs) {
    auto block = makeBlock(record, cidr);
    if (!block) return block.status().withContext("pool " + record.name);
    if (spread_slot_ != 0) (*block)->setCursor(spreadOffset(cidr));
    state.blocks.push_back(std::move(block).value());
    state.carvers.push_back(std::make_unique<alloc::PrefixAllocator>(cidr));
  }
  if (!record.parent.empty()) {
    auto parent = pools_.find(record.parent);
    if (parent == pools_.end()) {
      return Status::notFound("parent: pool \"" + record.parent + "\" not found");
    }
    parent->second.children.push_back(record.name);
  } else if (!record.external) {
    for (const auto& cidr : record.cidrs) {
      NL_RETURN_IF_ERROR(overlap_.add(record.network, cidr, record.name));
    }
  }
  pools_.emplace(record.name, std::move(state));
  return Status::ok();
}

Status Pools::load(const std::vector<PoolRecord>& records) {
  // Parents before children, whatever order the store returns.
  std::vector<const PoolRecord*> ordered;
  for (const auto& r : records) ordered.push_back(&r);
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto* a, const auto* b) {
    return a->parent.empty() > b->parent.empty();
  });
  std::set<std::string> done;
  while (done.size() < ordered.size()) {
    std::size_t progress = done.size();
    for (const auto* p : ordered) {
      if (done.contains(p->name) || (!p->parent.empty() && !done.contains(p->parent))) continue;
      NL_RETURN_IF_ERROR(adopt(*p, {}, TimePoint()));
      done.insert(p->name);
    }
    if (done.size() == progress) return Status::internal("store: pool parents form a cycle");
  }
  return Status::ok();
}

Status Pools::adopt(const PoolRecord& record, const std::vector<HeldAddress>& held, TimePoint now) {
  PoolState* pool = find(record.name);
  if (!pool) {
    NL_RETURN_IF_ERROR(addPool(record));
    if (PoolState* parent = find(record.parent)) {
      for (const auto& cidr : record.cidrs) {
        for (auto& carver : parent->carvers) {
          if (carver->parent().contains(cidr)) (void)carver->reserve(cidr);
        }
      }
    }
    return Status::ok();
  }
  auto blocks = rebuildBlocks(*pool, record, held, now, false);
  if (!blocks) return blocks.status();
  // Prefixes added elsewhere (auto-expansion): taken from the parent, or indexed for overlaps.
  PoolState* parent = find(record.parent);
  for (const auto& cidr : record.cidrs) {
    if (std::find(pool->record.cidrs.begin(), pool->record.cidrs.end(), cidr) !=
        pool->record.cidrs.end()) {
      continue;
    }
    if (parent) {
      for (auto& carver : parent->carvers) {
        if (carver->parent().contains(cidr)) (void)carver->reserve(cidr);
      }
    } else if (!record.external) {
      (void)overlap_.add(record.network, cidr, record.name);
    }
  }
  replaceLayout(*pool, record, std::move(blocks).value());
  return Status::ok();
}

void Pools::detach(const PoolState& pool) {
  const PoolRecord& r = pool.record;
  if (r.parent.empty()) {
    if (!r.external) {
      for (const auto& cidr : r.cidrs) overlap_.remove(r.network, cidr);
    }
    return;
  }
  if (PoolState* parent = find(r.parent)) {
    auto& kids = parent->children;
    kids.erase(std::remove(kids.begin(), kids.end(), r.name), kids.end());
    for (auto& carver : parent->carvers) {
      for (const auto& cidr : r.cidrs) {
        if (carver->parent().contains(cidr)) (void)carver->release(cidr);
      }
    }
  }
}

void Pools::forget(const std::string& name) {
  auto it = pools_.find(name);
  if (it == pools_.end()) return;
  detach(it->second);
  pools_.erase(it);
}

Status Pools::placeRoot(const PoolRecord& r, const std::optional<int>& prefix_length) const {
  if (prefix_length) return Status::invalidArgument("prefix_length: only with a parent pool");
  if (r.cidrs.empty()) return Status::invalidArgument("cidr: required");
  for (std::size_t i = 0; i < r.cidrs.size(); ++i) {
    if (!r.external) NL_RETURN_IF_ERROR(overlap_.check(r.network, r.cidrs[i]));
    for (std::size_t j = 0; j < i; ++j) {
      if (r.cidrs[i].overlaps(r.cidrs[j])) {
        return Status::invalidArgument("cidrs: " + r.cidrs[i].toString() + " overlaps " +
                                       r.cidrs[j].toString());
      }
    }
  }
  return Status::ok();
}

Result<PoolView> Pools::create(const Actor& actor, PoolCreate create, WriteSet& ws) {
  PoolRecord r = std::move(create.record);
  if (pools_.contains(r.name)) return Status::conflict("name: pool \"" + r.name + "\" exists");
  PoolState* parent = nullptr;
  if (!r.parent.empty()) {
    parent = find(r.parent);
    if (!parent || !actor.mayAccessTenant(parent->record.tenant)) {
      return Status::notFound("parent: pool \"" + r.parent + "\" not found");
    }
  }
  NL_RETURN_IF_ERROR(checkExpandLength(parent, r.expand_prefix_length));
  CarvedPrefixes carved(parent);
  if (parent) {
    NL_RETURN_IF_ERROR(placeChild(*parent, r, create.prefix_length, carved));
  } else {
    NL_RETURN_IF_ERROR(placeRoot(r, create.prefix_length));
  }
  NL_RETURN_IF_ERROR(validatePoolLayout(r));
  r.version = 1;
  r.created_at = r.updated_at = ws.nowMs();
  NL_RETURN_IF_ERROR(addPool(r));
  carved.keep();
  ws.put(PutPool{r, 0});
  ws.event("pool.create", "pool:" + r.name, {}, "", dump(r));
  return pools_.at(r.name).view();
}

Result<std::vector<std::unique_ptr<alloc::IpAllocator>>> Pools::rebuildBlocks(
    const PoolState& old, const PoolRecord& r, const std::vector<HeldAddress>& held, TimePoint now,
    bool strict) const {
  std::vector<std::unique_ptr<alloc::IpAllocator>> blocks;
  for (const auto& cidr : r.cidrs) {
    auto block = makeBlock(r, cidr);
    if (!block) return block.status();
    for (const auto& previous : old.blocks) {
      if (previous->layout().cidr != cidr) continue;
      (*block)->setCursor(previous->cursor());
      for (const auto& [ip, until] : previous->quarantined()) {
        (void)(*block)->restoreQuarantine(ip, until);
      }
    }
    blocks.push_back(std::move(block).value());
  }
  // Every held address is replayed; one the new layout cannot hold refuses an update.
  for (const auto& h : held) {
    for (auto& block : blocks) {
      if (!block->layout().cidr.contains(h.ip)) continue;
      Status s = block->allocateSpecific(h.ip, now, true);
      if (!s.isOk() && strict) {
        return Status::conflict("address " + h.ip.toString() + " is held by binding " +
                                std::to_string(h.binding) + " (" + h.instance +
                                ") and would become unallocatable: " + s.message());
      }
    }
  }
  return blocks;
}

void Pools::replaceLayout(PoolState& pool, const PoolRecord& r,
                          std::vector<std::unique_ptr<alloc::IpAllocator>> blocks) {
  for (const auto& cidr : r.cidrs) {
    bool known = std::any_of(pool.carvers.begin(), pool.carvers.end(),
                             [&](const auto& c) { return c->parent() == cidr; });
    if (!known) pool.carvers.push_back(std::make_unique<alloc::PrefixAllocator>(cidr));
  }
  pool.record = r;
  pool.blocks = std::move(blocks);
}

Result<PoolView> Pools::update(const Actor& actor, const std::string& name, const PoolPatch& patch,
                               const std::vector<HeldAddress>& held, WriteSet& ws) {
  PoolState* pool = find(name);
  if (!pool || !actor.mayAccessTenant(pool->record.tenant)) return poolNotFound(name);
  if (patch.expand_prefix_length) {
    const PoolState* parent = pool->record.parent.empty() ? nullptr : find(pool->record.parent);
    NL_RETURN_IF_ERROR(checkExpandLength(parent, *patch.expand_prefix_length));
  }
  PoolRecord r = patched(pool->record, patch);
  NL_RETURN_IF_ERROR(validatePool(r));
  NL_RETURN_IF_ERROR(validatePoolLayout(r));
  NL_RETURN_IF_ERROR(requireTenant(actor, r.tenant, "move pools").withContext("tenant"));
  if (patch.tenant && pool->bindings > 0 && r.tenant != pool->record.tenant) {
    return Status::conflict("tenant: pool \"" + name + "\" has bindings; empty it first");
  }
  // The new layout must keep every held address allocatable, and keeps the quarantine.
  auto blocks = rebuildBlocks(*pool, r, held, ws.now(), true);
  if (!blocks) return blocks.status();
  std::string before = dump(pool->record);
  const std::uint64_t expected = pool->record.version;
  r.version = expected + 1;
  r.updated_at = ws.nowMs();
  replaceLayout(*pool, r, std::move(blocks).value());
  ws.put(PutPool{r, expected});
  ws.event("pool.update", "pool:" + name, {}, std::move(before), dump(r));
  return pool->view();
}

Result<PoolRecord> Pools::remove(const Actor& actor, const std::string& name, WriteSet& ws) {
  PoolState* pool = find(name);
  if (!pool || !actor.mayAccessTenant(pool->record.tenant)) return poolNotFound(name);
  if (pool->bindings > 0) {
    return Status::conflict("pool \"" + name + "\" has " + std::to_string(pool->bindings) +
                            " bindings; release them first");
  }
  if (!pool->children.empty()) {
    return Status::conflict("pool \"" + name + "\" has child pools (" + pool->children.front() +
                            ", ...); delete them first");
  }
  PoolRecord r = pool->record;
  for (const auto& block : pool->blocks) {
    for (const auto& [ip, until] : block->quarantined()) {
      ws.put(DeleteQuarantine{"ip", ip.toString(), name});
    }
  }
  forget(name);
  ws.put(DeletePool{name, r.version});
  ws.event("pool.delete", "pool:" + name, {}, dump(r), "");
  return r;
}

void Pools::expandIfNeeded(PoolState& pool, WriteSet& ws) {
  if (!pool.record.auto_expand || pool.record.parent.empty()) return;
  if (pool.view().counts.utilization() < pool.record.threshold) return;
  PoolState* parent = find(pool.record.parent);
  if (!parent) return;
  int length = pool.record.expand_prefix_length > 0 ? pool.record.expand_prefix_length
                                                    : pool.record.cidrs.front().length();
  for (auto& carver : parent->carvers) {
    if (carver->parent().family() != pool.record.cidrs.front().family()) continue;
    auto carved = carver->allocate(length);
    if (!carved) continue;
    auto block = makeBlock(pool.record, *carved);
    if (!block) {
      (void)carver->release(*carved);
      continue;
    }
    std::string before = dump(pool.record);
    std::uint64_t expected = pool.record.version;
    pool.record.cidrs.push_back(*carved);
    pool.record.version += 1;
    pool.record.updated_at = ws.nowMs();
    pool.blocks.push_back(std::move(block).value());
    pool.carvers.push_back(std::make_unique<alloc::PrefixAllocator>(*carved));
    ws.put(PutPool{pool.record, expected});
    ws.event("pool.expand", "pool:" + pool.record.name, {}, std::move(before), dump(pool.record));
    return;
  }
}

void Pools::releaseAddress(const std::string& pool, const IpAddress& ip, WriteSet& ws) {
  PoolState* p = find(pool);
  if (!p) return;
  auto* block = p->blockFor(ip);
  if (!block || !block->release(ip, ws.now()).isOk()) return;
  if (p->record.quarantine_s > 0) {
    ws.put(PutQuarantine{{"ip", pool, ip.toString(), ws.nowMs() + p->record.quarantine_s * 1000}});
  }
}

void Pools::restoreQuarantine(const QuarantineRecord& q, TimePoint now) {
  TimePoint until{std::chrono::milliseconds(q.until)};
  if (until <= now) return;
  PoolState* pool = find(q.pool);
  auto ip = IpAddress::parse(q.key);
  if (!pool || !ip) return;
  if (auto* block = pool->blockFor(*ip)) (void)block->restoreQuarantine(*ip, until);
}

PoolState* Pools::find(std::string_view name) {
  auto it = pools_.find(name);
  return it == pools_.end() ? nullptr : &it->second;
}

const PoolState* Pools::find(std::string_view name) const {
  auto it = pools_.find(name);
  return it == pools_.end() ? nullptr : &it->second;
}

Result<const PoolState*> Pools::visible(const Actor& actor, std::string_view name) const {
  const PoolState* pool = find(name);
  if (!pool || !actor.mayAccessTenant(pool->record.tenant)) return poolNotFound(name);
  return pool;
}

std::vector<PoolView> Pools::list(const Actor& actor) const {
  std::vector<PoolView> out;
  for (const auto& [name, p] : pools_) {
    if (actor.mayAccessTenant(p.record.tenant)) out.push_back(p.view());
  }
  return out;
}

std::string Pools::networkOf(std::string_view pool) const {
  const PoolState* p = find(pool);
  return p ? p->record.network : std::string(addr::kDefaultNetwork);
}

std::set<std::string> Pools::networks() const {
  std::set<std::string> out = {std::string(addr::kDefaultNetwork)};
  for (const auto& [name, p] : pools_) out.insert(p.record.network);
  return out;
}

}  // namespace netledger::ledger
