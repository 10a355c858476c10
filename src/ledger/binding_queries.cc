// The reads over the bindings: search (by index for exact keys, by scan otherwise), holders of
// an address or MAC, the consistency engine's wire look-ups and the pool heat map's addresses.
#include <algorithm>
#include <cctype>

#include "addr/network.h"
#include "common/parse.h"
#include "ledger/bindings.h"

namespace netledger::ledger {

using addr::IpAddress;
using addr::Mac;
using addr::Prefix;

namespace {

bool containsFolded(std::string_view haystack, std::string_view needle) {
  auto it =
      std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                  [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  return it != haystack.end();
}

std::vector<IpAddress> ipsOf(const BindingRecord& b) {
  std::vector<IpAddress> out;
  for (const auto& a : b.addresses) out.push_back(a.ip);
  return out;
}

bool holdsIp(const BindingRecord& b, const IpAddress& ip) {
  return std::any_of(b.addresses.begin(), b.addresses.end(),
                     [&](const BoundAddress& a) { return a.ip == ip; });
}

bool drawsFrom(const BindingRecord& b, const std::string& pool) {
  return std::any_of(b.addresses.begin(), b.addresses.end(),
                     [&](const BoundAddress& a) { return a.pool == pool; });
}

// Whether a whole record passes every filter (the index path's few candidates).
bool matches(const Actor& actor, const BindingFilter& f, const BindingRecord& b) {
  return actor.mayAccessTenant(b.tenant) && (!f.instance || b.instance == *f.instance) &&
         (!f.host || b.host == *f.host) && (!f.state || b.state == *f.state) &&
         (!f.ip || holdsIp(b, *f.ip)) && (!f.mac || b.mac == f.mac) &&
         (!f.text || matchesSearchText(*f.text, b.instance, b.host, b.mac, ipsOf(b))) &&
         (!f.pool || drawsFrom(b, *f.pool));
}

}  // namespace

bool couldStartAddress(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) || c == '.' || c == ':' || c == '-';
  });
}

bool matchesSearchText(std::string_view text, std::string_view instance, std::string_view host,
                       std::optional<Mac> mac, const std::vector<IpAddress>& ips) {
  if (text.empty()) return true;
  if (containsFolded(instance, text) || containsFolded(host, text)) return true;
  // Addresses and MACs match by prefix, and only text that could start one is tried.
  if (!couldStartAddress(text)) return false;
  if (mac) {
    std::string m = mac->toString();
    std::string t(text);
    std::replace(t.begin(), t.end(), '-', ':');
    if (m.starts_with(t)) return true;
  }
  for (const auto& ip : ips) {
    if (ip.toString().starts_with(text)) return true;
  }
  return false;
}

Result<BindingRecord> Bindings::get(const Actor& actor, std::uint64_t id) const {
  return visible(actor, id);
}

std::vector<std::uint64_t> Bindings::holdersOfIp(const IpAddress& ip) const {
  std::vector<std::uint64_t> out;
  for (const auto& n : pools_.networks()) {
    if (auto id = table_.idByIp(n, ip)) out.push_back(*id);
  }
  return out;
}

Result<Page<BindingRecord>> Bindings::search(const Actor& actor, const BindingFilter& f,
                                             const std::string& cursor, std::size_t limit) const {
  // The cursor is where to resume: the table slot after the last one returned when scanning
  // (stable for bindings that exist throughout the paging, whatever is allocated or released
  // meanwhile), or how many candidates were returned on the index path.
  std::size_t start = 0;
  if (!cursor.empty()) {
    auto parsed = parseUnsigned("cursor", cursor, std::numeric_limits<std::uint64_t>::max());
    if (!parsed) return parsed.status();
    start = static_cast<std::size_t>(*parsed);
  }
  if (limit == 0 || limit > 1000) return Status::invalidArgument("limit: must be 1 to 1000");
  Page<BindingRecord> page;
  // Exact-key filters use the indexes instead of a scan.
  if (f.mac || f.ip) {
    std::vector<std::uint64_t> ids;
    if (f.mac) {
      if (auto id = table_.idByMac(*f.mac)) ids.push_back(*id);
    } else {
      ids = holdersOfIp(*f.ip);
    }
    std::sort(ids.begin(), ids.end());
    for (std::size_t i = start; i < ids.size(); ++i) {
      if (page.items.size() == limit) {
        page.next_cursor = std::to_string(i);
        break;
      }
      auto b = table_.get(ids[i]);
      if (matches(actor, f, *b)) page.items.push_back(std::move(*b));
    }
    return page;
  }
  std::vector<IpAddress> ips;
  const bool text_addressy = f.text && couldStartAddress(*f.text);
  std::size_t resume = table_.scan(start, [&](std::size_t slot, const BindingTable::View& v) {
    if (!actor.mayAccessTenant(v.tenant)) return true;
    if (f.instance && v.instance != *f.instance) return true;
    if (f.host && v.host != *f.host) return true;
    if (f.state && v.state != *f.state) return true;
    if (f.pool && !table_.hasAddressInPool(slot, *f.pool)) return true;
    if (f.text) {
      ips.clear();
      // Formatting addresses is the costly part of a scan: only for text that could start one.
      if (text_addressy) {
        table_.forEachAddress(slot, [&](const IpAddress& ip) { ips.push_back(ip); });
      }
      std::optional<Mac> mac;
      if (v.mac != 0) mac = Mac(v.mac);
      if (!matchesSearchText(*f.text, v.instance, v.host, mac, ips)) return true;
    }
    if (page.items.size() == limit) return false;  // one more match exists: stop before it
    page.items.push_back(*table_.get(v.id));
    return true;
  });
  if (resume != BindingTable::npos) page.next_cursor = std::to_string(resume - 1);
  return page;
}

Result<BindingRecord> Bindings::holderOfAddress(const Actor& actor, const IpAddress& ip) const {
  for (auto id : holdersOfIp(ip)) {
    auto b = table_.get(id);
    if (actor.mayAccessTenant(b->tenant)) return std::move(*b);
  }
  return Status::notFound("address " + ip.toString() + " is not held");
}

Result<BindingRecord> Bindings::holderOfMac(const Actor& actor, Mac mac) const {
  if (auto id = table_.idByMac(mac)) {
    auto b = table_.get(*id);
    if (actor.mayAccessTenant(b->tenant)) return std::move(*b);
  }
  return Status::notFound("mac " + mac.toString() + " is not held");
}

std::vector<AddressNetwork> Bindings::addressNetworks(const BindingRecord& binding) const {
  std::vector<AddressNetwork> out;
  out.reserve(binding.addresses.size());
  for (const auto& a : binding.addresses) {
    AddressNetwork n{a.ip, a.pool, std::nullopt, std::nullopt};
    if (const PoolState* pool = a.pool.empty() ? nullptr : pools_.find(a.pool)) {
      const PoolRecord& record = pool->record;
      auto cidr = std::find_if(record.cidrs.begin(), record.cidrs.end(),
                               [&](const Prefix& c) { return c.contains(a.ip); });
      if (cidr != record.cidrs.end()) n.prefix = *cidr;
      if (n.prefix && record.gateway && n.prefix->contains(*record.gateway)) {
        n.gateway = record.gateway;
      }
    }
    out.push_back(std::move(n));
  }
  return out;
}

BindingBrief Bindings::brief(std::uint64_t id) const {
  // On the engine's path for every observation: read the compact slot, build no BindingRecord.
  BindingBrief brief;
  auto v = table_.view(id);
  if (!v) return brief;
  brief.id = v->id;
  brief.instance.assign(v->instance);
  brief.host.assign(v->host);
  if (v->mac != 0) brief.mac = addr::Mac(v->mac);
  brief.state = v->state;
  brief.is_static = v->is_static;
  brief.expires_at = v->expires_at;
  brief.updated_at = v->updated_at;
  return brief;
}

namespace {

// What the pools of `network` say about `ip`.
void poolFacts(const Pools& pools, std::string_view network, const IpAddress& ip, WireFacts& f) {
  auto inside = [&](const PoolRecord& r) {
    return std::any_of(r.cidrs.begin(), r.cidrs.end(),
                       [&](const Prefix& c) { return c.contains(ip); });
  };
  for (const auto& [name, p] : pools.all()) {
    if (p.record.network != network) continue;
    f.network_managed = true;
    if (!p.children.empty()) continue;  // a parent: the address belongs to a child
    if (p.record.external) {
      f.external = f.external || inside(p.record);
      continue;
    }
    if (!f.pool.empty() || !inside(p.record)) continue;  // after the pool: external ones only
    f.pool = name;
    f.gateway = p.record.gateway == ip;
    f.reserved = std::any_of(p.record.reserved.begin(), p.record.reserved.end(),
                             [&](const addr::IpRange& r) { return r.contains(ip); });
  }
}

}  // namespace

std::vector<WireFacts> Bindings::lookupWire(std::span<const WireQuery> queries) const {
  std::vector<WireFacts> out(queries.size());
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const WireQuery& q = queries[i];
    WireFacts& f = out[i];
    if (auto id = table_.idByMac(q.mac)) f.mac_holder = brief(*id);
    if (!q.ip) continue;
    if (auto id = table_.idByIp(q.network, *q.ip)) {
      f.ip_holder = f.mac_holder && f.mac_holder->id == *id ? f.mac_holder : brief(*id);
    }
    poolFacts(pools_, q.network, *q.ip, f);
  }
  return out;
}

std::pair<std::vector<std::uint64_t>, std::size_t> Bindings::unchangedSince(
    Millis before, std::size_t cursor, std::size_t limit) const {
  std::vector<std::uint64_t> ids;
  std::size_t next = table_.scan(cursor, [&](std::size_t, const BindingTable::View& v) {
    if (v.state == BindingState::kActive && v.updated_at < before) ids.push_back(v.id);
    return ids.size() < limit;
  });
  return {std::move(ids), next == BindingTable::npos ? 0 : next};
}

std::vector<HeldAddress> Bindings::heldIn(const std::string& pool) const {
  std::vector<HeldAddress> held;
  table_.scan(0, [&](std::size_t slot, const BindingTable::View& v) {
    if (!table_.hasAddressInPool(slot, pool)) return true;
    const BindingRecord b = *table_.get(v.id);
    for (const auto& a : b.addresses) {
      if (a.pool == pool) held.push_back({a.ip, v.id, std::string(v.instance)});
    }
    return true;
  });
  return held;
}

std::map<std::string, std::vector<HeldAddress>> Bindings::heldByPool() const {
  std::map<std::string, std::vector<HeldAddress>> held;
  table_.scan(0, [&](std::size_t, const BindingTable::View& v) {
    const BindingRecord b = *table_.get(v.id);
    for (const auto& a : b.addresses) {
      if (!a.pool.empty()) held[a.pool].push_back({a.ip, v.id, b.instance});
    }
    return true;
  });
  return held;
}

std::size_t Bindings::macPoolUsers(const std::string& pool) const {
  std::size_t users = 0;
  table_.scan(0, [&](std::size_t, const BindingTable::View& v) {
    users += v.mac_pool == pool;
    return true;
  });
  return users;
}

void Bindings::paint(const std::string& pool, PoolMapBuilder& builder) const {
  table_.forEachAddressInPool(pool, [&](const IpAddress& ip, BindingState state) {
    builder.addBound(ip, state == BindingState::kReserved);
  });
}

}  // namespace netledger::ledger
