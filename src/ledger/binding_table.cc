#include "ledger/binding_table.h"

#include <algorithm>

namespace netledger::ledger {

// ---- SymbolTable ----

SymbolTable::SymbolTable() { intern(""); }

Symbol SymbolTable::intern(std::string_view s) {
  if (auto it = ids_.find(s); it != ids_.end()) return it->second;
  names_.emplace_back(s);
  Symbol id = static_cast<Symbol>(names_.size() - 1);
  ids_.emplace(std::string_view(names_.back()), id);
  return id;
}

std::optional<Symbol> SymbolTable::find(std::string_view s) const {
  auto it = ids_.find(s);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

// ---- hashing ----

namespace {

std::size_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return static_cast<std::size_t>(x);
}

std::size_t hashKey(std::string_view instance, Symbol interface) {
  return mix(std::hash<std::string_view>{}(instance) ^ (std::uint64_t{interface} << 40));
}

}  // namespace

std::size_t BindingTable::IpKeyHash::operator()(const IpKey& k) const noexcept {
  return mix(k.hi * 31 ^ k.lo ^ (std::uint64_t{k.network} << 8) ^ k.family);
}

std::size_t BindingTable::SlotKeyHash::operator()(std::uint32_t slot) const noexcept {
  const auto& b = table->slots_[slot];
  return hashKey(b.instance, b.interface);
}

std::size_t BindingTable::SlotKeyHash::operator()(const KeyView& k) const noexcept {
  return hashKey(k.instance, k.interface);
}

bool BindingTable::SlotKeyEq::operator()(const KeyView& k, std::uint32_t slot) const noexcept {
  const auto& b = table->slots_[slot];
  return b.interface == k.interface && b.instance == k.instance;
}

// ---- conversion ----

addr::IpAddress BindingTable::CompactAddress::ip() const {
  addr::uint128 bits = (static_cast<addr::uint128>(hi) << 64) | lo;
  return addr::IpAddress::fromBits(family == 4 ? addr::IpFamily::kV4 : addr::IpFamily::kV6, bits);
}

BindingTable::IpKey BindingTable::ipKey(const CompactAddress& a) {
  return IpKey{a.hi, a.lo, a.network, a.family};
}

BindingTable::BindingTable(std::function<std::string(const std::string&)> network_of)
    : network_of_(std::move(network_of)), by_key_(0, SlotKeyHash{this}, SlotKeyEq{this}) {}

BindingTable::Binding BindingTable::compact(const BindingRecord& r) {
  Binding b;
  b.id = r.id;
  b.instance = r.instance;
  b.interface = symbols_.intern(r.interface);
  b.host = symbols_.intern(r.host);
  b.service = symbols_.intern(r.service);
  b.tenant = symbols_.intern(r.tenant);
  b.mac_pool = symbols_.intern(r.mac_pool);
  b.state = r.state;
  b.is_static = r.is_static;
  b.version = static_cast<std::uint32_t>(r.version);
  b.mac = r.mac ? r.mac->value() : 0;
  b.host_mac = r.host_mac ? r.host_mac->value() : 0;
  b.expires_at = r.expires_at;
  b.ttl_s = static_cast<std::int32_t>(r.ttl_s);
  b.created_at = r.created_at;
  b.updated_at = r.updated_at;
  b.address_count = static_cast<std::uint8_t>(r.addresses.size());
  for (std::size_t i = 0; i < r.addresses.size(); ++i) {
    const auto& a = r.addresses[i];
    CompactAddress c;
    c.hi = static_cast<std::uint64_t>(a.ip.bits() >> 64);
    c.lo = static_cast<std::uint64_t>(a.ip.bits());
    c.family = a.ip.isV4() ? 4 : 6;
    c.pool = symbols_.intern(a.pool);
    c.network = symbols_.intern(network_of_(a.pool));
    if (i == 0) {
      b.first = c;
    } else {
      if (!b.more) b.more = std::make_unique<std::vector<CompactAddress>>();
      b.more->push_back(c);
    }
  }
  if (!r.labels.empty()) b.labels = std::make_unique<Labels>(r.labels);
  return b;
}

BindingRecord BindingTable::expand(const Binding& b) const {
  BindingRecord r;
  r.id = b.id;
  r.instance = b.instance;
  r.interface = symbols_.name(b.interface);
  r.host = symbols_.name(b.host);
  r.service = symbols_.name(b.service);
  r.tenant = symbols_.name(b.tenant);
  r.mac_pool = symbols_.name(b.mac_pool);
  r.state = b.state;
  r.is_static = b.is_static;
  r.version = b.version;
  if (b.mac) r.mac = addr::Mac(b.mac);
  if (b.host_mac) r.host_mac = addr::Mac(b.host_mac);
  r.expires_at = b.expires_at;
  r.ttl_s = b.ttl_s;
  r.created_at = b.created_at;
  r.updated_at = b.updated_at;
  for (std::size_t i = 0; i < b.address_count; ++i) {
    const auto& a = b.address(i);
    r.addresses.push_back({a.ip(), symbols_.name(a.pool)});
  }
  if (b.labels) r.labels = *b.labels;
  return r;
}

// ---- indexes ----

void BindingTable::index(std::uint32_t slot) {
  const Binding& b = slots_[slot];
  by_id_[b.id] = slot;
  by_key_.insert(slot);
  for (std::size_t i = 0; i < b.address_count; ++i) {
    const auto& a = b.address(i);
    if (a.family == 4) {
      by_ipv4_[(std::uint64_t{a.network} << 32) | a.lo] = slot;
    } else {
      by_ipv6_[ipKey(a)] = slot;
    }
  }
  if (b.mac) by_mac_[b.mac] = slot;
}

void BindingTable::unindex(std::uint32_t slot) {
  const Binding& b = slots_[slot];
  by_id_.erase(b.id);
  by_key_.erase(slot);
  for (std::size_t i = 0; i < b.address_count; ++i) {
    const auto& a = b.address(i);
    // Only drop index entries that still point here (a moved address points elsewhere).
    if (a.family == 4) {
      auto it = by_ipv4_.find((std::uint64_t{a.network} << 32) | a.lo);
      if (it != by_ipv4_.end() && it->second == slot) by_ipv4_.erase(it);
    } else {
      auto it = by_ipv6_.find(ipKey(a));
      if (it != by_ipv6_.end() && it->second == slot) by_ipv6_.erase(it);
    }
  }
  if (b.mac) {
    auto it = by_mac_.find(b.mac);
    if (it != by_mac_.end() && it->second == slot) by_mac_.erase(it);
  }
}

void BindingTable::reserve(std::size_t n) {
  by_id_.reserve(n);
  by_key_.reserve(n);
  by_ipv4_.reserve(n);
  by_mac_.reserve(n);
}

void BindingTable::clear() {
  slots_.clear();
  free_slots_.clear();
  by_id_.clear();
  by_key_.clear();
  by_ipv4_.clear();
  by_ipv6_.clear();
  by_mac_.clear();
}

void BindingTable::insert(const BindingRecord& r) {
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[slot] = compact(r);
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.push_back(compact(r));
  }
  index(slot);
}

void BindingTable::update(const BindingRecord& r) {
  auto it = by_id_.find(r.id);
  if (it == by_id_.end()) return insert(r);
  std::uint32_t slot = it->second;
  unindex(slot);
  slots_[slot] = compact(r);
  index(slot);
}

bool BindingTable::erase(std::uint64_t id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return false;
  std::uint32_t slot = it->second;
  unindex(slot);
  slots_[slot] = Binding();
  free_slots_.push_back(slot);
  return true;
}

std::optional<BindingRecord> BindingTable::get(std::uint64_t id) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return expand(slots_[it->second]);
}

std::optional<std::uint64_t> BindingTable::idByKey(std::string_view instance,
                                                   std::string_view interface) const {
  auto sym = symbols_.find(interface);
  if (!sym) return std::nullopt;
  auto it = by_key_.find(KeyView{instance, *sym});
  if (it == by_key_.end()) return std::nullopt;
  return slots_[*it].id;
}

std::optional<std::uint64_t> BindingTable::idByIp(std::string_view network,
                                                  const addr::IpAddress& ip) const {
  auto net = symbols_.find(network);
  if (!net) return std::nullopt;
  if (ip.isV4()) {
    auto it = by_ipv4_.find((std::uint64_t{*net} << 32) | static_cast<std::uint64_t>(ip.bits()));
    if (it == by_ipv4_.end()) return std::nullopt;
    return slots_[it->second].id;
  }
  auto it = by_ipv6_.find(IpKey{static_cast<std::uint64_t>(ip.bits() >> 64),
                                static_cast<std::uint64_t>(ip.bits()), *net, 6});
  if (it == by_ipv6_.end()) return std::nullopt;
  return slots_[it->second].id;
}

std::optional<std::uint64_t> BindingTable::idByMac(addr::Mac mac) const {
  auto it = by_mac_.find(mac.value());
  if (it == by_mac_.end()) return std::nullopt;
  return slots_[it->second].id;
}

std::size_t BindingTable::scan(std::size_t start,
                               const std::function<bool(std::size_t, const View&)>& fn) const {
  for (std::size_t slot = start; slot < slots_.size(); ++slot) {
    const Binding& b = slots_[slot];
    if (b.id == 0) continue;
    View v{b.id,
           b.instance,
           symbols_.name(b.host),
           symbols_.name(b.tenant),
           symbols_.name(b.mac_pool),
           b.mac,
           b.state,
           b.is_static,
           b.expires_at,
           b.updated_at,
           b.address_count};
    if (!fn(slot, v)) return slot + 1;
  }
  return npos;
}

bool BindingTable::hasAddressInPool(std::size_t slot, std::string_view pool) const {
  auto sym = symbols_.find(pool);
  if (!sym) return false;
  const Binding& b = slots_[slot];
  for (std::size_t i = 0; i < b.address_count; ++i) {
    if (b.address(i).pool == *sym) return true;
  }
  return false;
}

bool BindingTable::hasAddress(std::size_t slot, const addr::IpAddress& ip) const {
  const Binding& b = slots_[slot];
  for (std::size_t i = 0; i < b.address_count; ++i) {
    if (b.address(i).ip() == ip) return true;
  }
  return false;
}

std::size_t BindingTable::memoryBytes() const {
  std::size_t per_slot = sizeof(Binding);
  std::size_t bytes = slots_.size() * per_slot;
  bytes += by_id_.bucket_count() * (sizeof(std::uint64_t) + sizeof(std::uint32_t) + 1);
  bytes += by_key_.bucket_count() * (sizeof(std::uint32_t) + 1);
  bytes += by_ipv4_.bucket_count() * (sizeof(std::uint64_t) + sizeof(std::uint32_t) + 1);
  bytes += by_ipv6_.bucket_count() * (sizeof(IpKey) + sizeof(std::uint32_t) + 1);
  bytes += by_mac_.bucket_count() * (sizeof(std::uint64_t) + sizeof(std::uint32_t) + 1);
  return bytes;
}

}  // namespace netledger::ledger
