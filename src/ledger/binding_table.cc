#include "ledger/binding_table.h"

#include <algorithm>
#include <cstring>

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

std::size_t SymbolTable::memoryBytes() const {
  std::size_t bytes = names_.size() * sizeof(std::string) +
                      ids_.bucket_count() * (sizeof(std::string_view) + sizeof(Symbol) + 1);
  for (const auto& n : names_) {
    if (n.capacity() > 15) bytes += n.capacity() + 1;  // beyond the small-string buffer
  }
  return bytes;
}

// ---- CompactString ----

CompactString::CompactString(std::string_view s) {
  if (s.size() <= kInlineCapacity) {
    std::memcpy(raw_, s.data(), s.size());
    raw_[kTagByte] = static_cast<char>(s.size());
    return;
  }
  char* data = new char[s.size()];
  std::memcpy(data, s.data(), s.size());
  std::memcpy(raw_, &data, sizeof(data));
  for (std::size_t i = 0; i < 7; ++i) raw_[8 + i] = static_cast<char>(s.size() >> (8 * i));
  raw_[kTagByte] = static_cast<char>(kHeapTag);
}

CompactString::CompactString(CompactString&& other) noexcept {
  std::memcpy(raw_, other.raw_, sizeof(raw_));
  other.raw_[kTagByte] = 0;  // now empty: the heap block (if any) is ours
}

CompactString& CompactString::operator=(CompactString&& other) noexcept {
  if (this != &other) {
    release();
    std::memcpy(raw_, other.raw_, sizeof(raw_));
    other.raw_[kTagByte] = 0;
  }
  return *this;
}

std::size_t CompactString::size() const {
  if (!onHeap()) return static_cast<unsigned char>(raw_[kTagByte]);
  std::size_t n = 0;
  for (std::size_t i = 0; i < 7; ++i) {
    n |= std::size_t{static_cast<unsigned char>(raw_[8 + i])} << (8 * i);
  }
  return n;
}

const char* CompactString::heapData() const {
  const char* data;
  std::memcpy(&data, raw_, sizeof(data));
  return data;
}

std::string_view CompactString::view() const {
  return onHeap() ? std::string_view(heapData(), size()) : std::string_view(raw_, size());
}

void CompactString::release() {
  if (onHeap()) delete[] heapData();
  raw_[kTagByte] = 0;
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

}  // namespace

std::size_t BindingTable::hashOf(const IdKey& k) { return mix(k.id); }

std::size_t BindingTable::hashOf(const NameKey& k) {
  return mix(std::hash<std::string_view>{}(k.instance) ^ (std::uint64_t{k.interface} << 40));
}

std::size_t BindingTable::hashOf(const MacKey& k) { return mix(k.mac); }

std::size_t BindingTable::hashOf(const IpKey& k) {
  return mix(k.lo ^ mix(k.hi ^ (std::uint64_t{k.network} << 1) ^ std::uint64_t{k.v6}));
}

template <typename Key>
void BindingTable::put(Index<Key>& index, const Key& key, std::uint32_t entry) {
  if (auto it = index.find(key); it != index.end()) index.erase(it);
  index.insert(entry);
}

template <typename Key>
void BindingTable::drop(Index<Key>& index, const Key& key, std::uint32_t entry) {
  if (auto it = index.find(key); it != index.end() && *it == entry) index.erase(it);
}

// ---- conversion ----

addr::IpAddress BindingTable::CompactAddress::ip() const {
  addr::uint128 bits = (static_cast<addr::uint128>(hi) << 64) | lo;
  return addr::IpAddress::fromBits(v6 ? addr::IpFamily::kV6 : addr::IpFamily::kV4, bits);
}

BindingTable::IpKey BindingTable::ipKey(const CompactAddress& a) {
  return IpKey{a.hi, a.lo, a.network, a.v6 != 0};
}

bool BindingTable::PackedTimes::fits(const Times& t) {
  constexpr Millis kEnd = Millis{1} << kBits;
  auto in = [](Millis m) { return m >= 0 && m < kEnd; };
  return in(t.expires_at) && in(t.created_at) && in(t.updated_at);
}

void BindingTable::PackedTimes::set(const Times& t) {
  const auto e = static_cast<std::uint64_t>(t.expires_at);
  const auto c = static_cast<std::uint64_t>(t.created_at);
  const auto u = static_cast<std::uint64_t>(t.updated_at);
  constexpr int kLowPart = 64 - kBits;  // created's bits that fit in low_
  low_ = e | (c << kBits);
  high_ = (c >> kLowPart) | (u << (kBits - kLowPart));
}

BindingTable::Times BindingTable::PackedTimes::get() const {
  constexpr std::uint64_t kMask = (std::uint64_t{1} << kBits) - 1;
  constexpr int kLowPart = 64 - kBits;
  const std::uint64_t e = low_ & kMask;
  const std::uint64_t c = ((low_ >> kBits) | (high_ << kLowPart)) & kMask;
  const std::uint64_t u = (high_ >> (kBits - kLowPart)) & kMask;
  return {static_cast<Millis>(e), static_cast<Millis>(c), static_cast<Millis>(u)};
}

BindingTable::BindingTable(std::function<std::string(const std::string&)> network_of)
    : network_of_(std::move(network_of)),
      by_id_(0, EntryHash<IdKey>{this}, EntryEq<IdKey>{this}),
      by_key_(0, EntryHash<NameKey>{this}, EntryEq<NameKey>{this}),
      by_mac_(0, EntryHash<MacKey>{this}, EntryEq<MacKey>{this}),
      by_ip_(0, EntryHash<IpKey>{this}, EntryEq<IpKey>{this}) {}

BindingTable::Binding BindingTable::compact(const BindingRecord& r) {
  Binding b;
  b.id = r.id;
  b.instance = CompactString(r.instance);
  b.interface = symbols_.intern(r.interface);
  b.host = symbols_.intern(r.host);
  b.tenant = symbols_.intern(r.tenant);
  b.mac_pool = symbols_.intern(r.mac_pool);
  b.state = static_cast<std::uint8_t>(r.state);
  b.is_static = r.is_static;
  b.version = static_cast<std::uint32_t>(r.version);
  b.mac = r.mac ? r.mac->value() : 0;
  b.ttl_s = static_cast<std::int32_t>(r.ttl_s);
  const Times times{r.expires_at, r.created_at, r.updated_at};
  const bool packed = PackedTimes::fits(times);
  if (packed) b.packed_times.set(times);
  Symbol service = symbols_.intern(r.service);
  std::uint64_t host_mac = r.host_mac ? r.host_mac->value() : 0;
  if (service != 0 || host_mac != 0 || r.addresses.size() > 1 || !r.labels.empty() || !packed) {
    b.extra = std::make_unique<Extra>();
    b.extra->service = service;
    b.extra->host_mac = host_mac;
    b.extra->labels = r.labels;
    if (r.addresses.size() > 1) b.extra->more.reserve(r.addresses.size() - 1);
    if (!packed) b.extra->times = std::make_unique<Times>(times);
  }
  for (std::size_t i = 0; i < r.addresses.size(); ++i) {
    const auto& a = r.addresses[i];
    CompactAddress c;
    c.hi = static_cast<std::uint64_t>(a.ip.bits() >> 64);
    c.lo = static_cast<std::uint64_t>(a.ip.bits());
    c.v6 = a.ip.isV4() ? 0 : 1;
    c.pool = symbols_.intern(a.pool);
    c.network = symbols_.intern(network_of_(a.pool));
    if (i == 0) {
      b.first = c;
      b.has_first = 1;
    } else {
      b.extra->more.push_back(c);
    }
  }
  return b;
}

BindingRecord BindingTable::expand(const Binding& b) const {
  BindingRecord r;
  r.id = b.id;
  r.instance = b.instance.view();
  r.interface = symbols_.name(b.interface);
  r.host = symbols_.name(b.host);
  r.tenant = symbols_.name(b.tenant);
  r.mac_pool = symbols_.name(b.mac_pool);
  r.state = static_cast<BindingState>(b.state);
  r.is_static = b.is_static;
  r.version = b.version;
  if (b.mac) r.mac = addr::Mac(b.mac);
  const Times times = b.times();
  r.expires_at = times.expires_at;
  r.ttl_s = b.ttl_s;
  r.created_at = times.created_at;
  r.updated_at = times.updated_at;
  const std::size_t n = b.addressCount();
  r.addresses.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& a = b.address(i);
    r.addresses.push_back({a.ip(), symbols_.name(a.pool)});
  }
  if (b.extra) {
    r.service = symbols_.name(b.extra->service);
    if (b.extra->host_mac) r.host_mac = addr::Mac(b.extra->host_mac);
    r.labels = b.extra->labels;
  }
  return r;
}

// ---- indexes ----

void BindingTable::index(std::uint32_t slot) {
  const Binding& b = at(slot);
  put(by_id_, IdKey{b.id}, slot);
  put(by_key_, NameKey{b.instance.view(), b.interface}, slot);
  for (std::size_t i = 0; i < b.addressCount(); ++i) {
    const IpKey key = ipKey(b.address(i));
    if (slot < kRefSlots && i < kRefAddresses) {
      by_ip_more_.erase(key);
      put(by_ip_, key, static_cast<std::uint32_t>(slot << 3 | i));
    } else {
      if (auto it = by_ip_.find(key); it != by_ip_.end()) by_ip_.erase(it);
      by_ip_more_[key] = slot;
    }
  }
  if (b.mac) put(by_mac_, MacKey{b.mac}, slot);
}

void BindingTable::unindex(std::uint32_t slot) {
  const Binding& b = at(slot);
  // Only drop index entries that still point here (a moved address points elsewhere).
  drop(by_id_, IdKey{b.id}, slot);
  drop(by_key_, NameKey{b.instance.view(), b.interface}, slot);
  for (std::size_t i = 0; i < b.addressCount(); ++i) {
    const IpKey key = ipKey(b.address(i));
    if (auto it = by_ip_.find(key); it != by_ip_.end()) {
      if ((*it >> 3) == slot) by_ip_.erase(it);
    } else if (auto more = by_ip_more_.find(key);
               more != by_ip_more_.end() && more->second == slot) {
      by_ip_more_.erase(more);
    }
  }
  if (b.mac) drop(by_mac_, MacKey{b.mac}, slot);
}

void BindingTable::reserve(std::size_t n) {
  by_id_.reserve(n);
  by_key_.reserve(n);
  by_ip_.reserve(n);
  by_mac_.reserve(n);
  chunks_.reserve((n + kChunkSlots - 1) >> kChunkShift);
}

void BindingTable::clear() {
  // Indexes first: their hash functors read the slots.
  by_id_.clear();
  by_key_.clear();
  by_ip_.clear();
  by_ip_more_.clear();
  by_mac_.clear();
  chunks_.clear();
  chunks_.shrink_to_fit();
  slot_count_ = 0;
  free_slots_.clear();
}

void BindingTable::insert(const BindingRecord& r) {
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slot_count_);
    if ((slot_count_ >> kChunkShift) == chunks_.size()) {
      chunks_.push_back(std::make_unique<Binding[]>(kChunkSlots));
    }
    ++slot_count_;
  }
  at(slot) = compact(r);
  index(slot);
}

void BindingTable::update(const BindingRecord& r) {
  std::size_t slot = slotOf(r.id);
  if (slot == npos) return insert(r);
  unindex(static_cast<std::uint32_t>(slot));
  at(slot) = compact(r);
  index(static_cast<std::uint32_t>(slot));
}

bool BindingTable::erase(std::uint64_t id) {
  std::size_t slot = slotOf(id);
  if (slot == npos) return false;
  unindex(static_cast<std::uint32_t>(slot));
  at(slot) = Binding();
  free_slots_.push_back(static_cast<std::uint32_t>(slot));
  return true;
}

std::size_t BindingTable::slotOf(std::uint64_t id) const {
  auto it = by_id_.find(IdKey{id});
  return it == by_id_.end() ? npos : *it;
}

std::optional<BindingRecord> BindingTable::get(std::uint64_t id) const {
  std::size_t slot = slotOf(id);
  if (slot == npos) return std::nullopt;
  return expand(at(slot));
}

std::optional<std::uint64_t> BindingTable::idByKey(std::string_view instance,
                                                   std::string_view interface) const {
  auto sym = symbols_.find(interface);
  if (!sym) return std::nullopt;
  auto it = by_key_.find(NameKey{instance, *sym});
  if (it == by_key_.end()) return std::nullopt;
  return at(*it).id;
}

std::optional<std::uint64_t> BindingTable::idByIp(std::string_view network,
                                                  const addr::IpAddress& ip) const {
  auto net = symbols_.find(network);
  if (!net) return std::nullopt;
  const IpKey key{static_cast<std::uint64_t>(ip.bits() >> 64),
                  static_cast<std::uint64_t>(ip.bits()), *net, !ip.isV4()};
  if (auto it = by_ip_.find(key); it != by_ip_.end()) return at(*it >> 3).id;
  if (auto it = by_ip_more_.find(key); it != by_ip_more_.end()) return at(it->second).id;
  return std::nullopt;
}

std::optional<std::uint64_t> BindingTable::idByMac(addr::Mac mac) const {
  auto it = by_mac_.find(MacKey{mac.value()});
  if (it == by_mac_.end()) return std::nullopt;
  return at(*it).id;
}

BindingTable::View BindingTable::viewOf(const Binding& b) const {
  const Times times = b.times();
  return View{b.id,
              b.instance.view(),
              symbols_.name(b.host),
              symbols_.name(b.tenant),
              symbols_.name(b.mac_pool),
              b.mac,
              static_cast<BindingState>(b.state),
              b.is_static != 0,
              times.expires_at,
              times.updated_at,
              b.addressCount()};
}

std::optional<BindingTable::View> BindingTable::view(std::uint64_t id) const {
  std::size_t slot = slotOf(id);
  if (slot == npos) return std::nullopt;
  return viewOf(at(slot));
}

std::size_t BindingTable::scan(std::size_t start,
                               const std::function<bool(std::size_t, const View&)>& fn) const {
  for (std::size_t slot = start; slot < slot_count_; ++slot) {
    const Binding& b = at(slot);
    if (b.id == 0) continue;
    if (!fn(slot, viewOf(b))) return slot + 1;
  }
  return npos;
}

bool BindingTable::hasAddressInPool(std::size_t slot, std::string_view pool) const {
  auto sym = symbols_.find(pool);
  if (!sym) return false;
  const Binding& b = at(slot);
  for (std::size_t i = 0; i < b.addressCount(); ++i) {
    if (b.address(i).pool == *sym) return true;
  }
  return false;
}

bool BindingTable::hasAddress(std::size_t slot, const addr::IpAddress& ip) const {
  const Binding& b = at(slot);
  for (std::size_t i = 0; i < b.addressCount(); ++i) {
    if (b.address(i).ip() == ip) return true;
  }
  return false;
}

void BindingTable::forEachAddress(std::size_t slot,
                                  const std::function<void(const addr::IpAddress&)>& fn) const {
  const Binding& b = at(slot);
  for (std::size_t i = 0; i < b.addressCount(); ++i) fn(b.address(i).ip());
}

void BindingTable::forEachAddressInPool(
    std::string_view pool,
    const std::function<void(const addr::IpAddress&, BindingState)>& fn) const {
  auto sym = symbols_.find(pool);
  if (!sym) return;
  for (std::size_t slot = 0; slot < slot_count_; ++slot) {
    const Binding& b = at(slot);
    if (b.id == 0) continue;
    for (std::size_t i = 0; i < b.addressCount(); ++i) {
      if (b.address(i).pool == *sym) fn(b.address(i).ip(), static_cast<BindingState>(b.state));
    }
  }
}

std::size_t BindingTable::memoryBytes() const {
  std::size_t bytes = chunks_.capacity() * sizeof(chunks_[0]) +
                      chunks_.size() * kChunkSlots * sizeof(Binding) +
                      free_slots_.capacity() * sizeof(std::uint32_t);
  for (std::size_t slot = 0; slot < slot_count_; ++slot) {
    const Binding& b = at(slot);
    bytes += b.instance.heapBytes();
    if (b.extra) {
      bytes += sizeof(Extra) + b.extra->more.capacity() * sizeof(CompactAddress);
      if (b.extra->times) bytes += sizeof(Times);
      // A std::map node: the pair plus the tree links.
      for (const auto& [k, v] : b.extra->labels) {
        bytes += 32 + sizeof(std::pair<const std::string, std::string>);
        if (k.capacity() > 15) bytes += k.capacity() + 1;
        if (v.capacity() > 15) bytes += v.capacity() + 1;
      }
    }
  }
  const std::size_t entry = sizeof(std::uint32_t) + 1;  // the element and its metadata byte
  bytes += (by_id_.bucket_count() + by_key_.bucket_count() + by_ip_.bucket_count() +
            by_mac_.bucket_count()) *
           entry;
  bytes += by_ip_more_.bucket_count() * (sizeof(std::pair<IpKey, std::uint32_t>) + 1);
  return bytes + symbols_.memoryBytes();
}

}  // namespace netledger::ledger
