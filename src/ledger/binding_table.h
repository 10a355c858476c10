#pragma once
// The in-memory home of every binding and its indexes, laid out for a million bindings: ~160
// bytes per binding plus ~70 bytes of indexes, against ~850 for BindingRecords in std
// containers. Strings that repeat (interface, host, service, tenant, pool and network names)
// are interned as 32-bit symbols; the first address is stored inline; indexes map integers to
// slot numbers. The Ledger converts to and from BindingRecord at its edges.
//
// Not thread-safe: the Ledger's lock guards it.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include "ledger/model.h"

namespace netledger::ledger {

using Symbol = std::uint32_t;

// Strings that repeat across bindings, stored once. Symbol 0 is "". Never shrinks: the set of
// hosts, interfaces and pool names is small and long-lived.
class SymbolTable {
 public:
  SymbolTable();
  Symbol intern(std::string_view s);
  std::optional<Symbol> find(std::string_view s) const;
  const std::string& name(Symbol s) const { return names_[s]; }

 private:
  std::deque<std::string> names_;  // deque: views into it stay valid as it grows
  boost::unordered_flat_map<std::string_view, Symbol> ids_;
};

class BindingTable {
 public:
  // `network_of` names the network an address of `pool` lives in ("default" for none).
  explicit BindingTable(std::function<std::string(const std::string& pool)> network_of);
  // Pinned: the key index's hash functors point back at this table.
  BindingTable(const BindingTable&) = delete;
  BindingTable& operator=(const BindingTable&) = delete;

  void reserve(std::size_t n);
  std::size_t size() const { return by_id_.size(); }
  void clear();

  // Adds a binding; its id, (instance, interface), addresses and MAC must be free.
  void insert(const BindingRecord& r);
  // Replaces the binding with the same id (re-indexing what changed).
  void update(const BindingRecord& r);
  bool erase(std::uint64_t id);

  std::optional<BindingRecord> get(std::uint64_t id) const;
  bool contains(std::uint64_t id) const { return by_id_.contains(id); }
  std::optional<std::uint64_t> idByKey(std::string_view instance, std::string_view interface) const;
  std::optional<std::uint64_t> idByIp(std::string_view network, const addr::IpAddress& ip) const;
  std::optional<std::uint64_t> idByMac(addr::Mac mac) const;

  // Light views for scans, without building a BindingRecord per binding.
  struct View {
    std::uint64_t id;
    std::string_view instance, host, tenant, mac_pool;
    std::uint64_t mac;  // 0: none
    BindingState state;
    bool is_static;
    Millis expires_at, updated_at;
    std::size_t address_count;
  };
  // Visits bindings in slot order from `start_slot`; `fn` returns false to stop. Returns the
  // slot after the last visited one (the resume point), or npos at the end.
  std::size_t scan(std::size_t start_slot,
                   const std::function<bool(std::size_t slot, const View&)>& fn) const;
  // Whether the binding in `slot` has an address from `pool` / equal to `ip`.
  bool hasAddressInPool(std::size_t slot, std::string_view pool) const;
  bool hasAddress(std::size_t slot, const addr::IpAddress& ip) const;
  std::uint64_t idAt(std::size_t slot) const { return slots_[slot].id; }
  std::size_t memoryBytes() const;

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

 private:
  struct CompactAddress {
    std::uint64_t hi = 0, lo = 0;
    Symbol pool = 0, network = 0;
    std::uint8_t family = 4;
    addr::IpAddress ip() const;
  };
  struct Binding {
    std::uint64_t id = 0;  // 0: a free slot
    std::string instance;
    Symbol interface = 0, host = 0, service = 0, tenant = 0, mac_pool = 0;
    BindingState state = BindingState::kActive;
    bool is_static = false;
    std::uint8_t address_count = 0;
    std::uint32_t version = 0;
    std::int32_t ttl_s = 0;  // at most 10 years: fits
    std::uint64_t mac = 0, host_mac = 0;
    Millis expires_at = 0, created_at = 0, updated_at = 0;
    CompactAddress first;
    std::unique_ptr<std::vector<CompactAddress>> more;  // addresses after the first
    std::unique_ptr<Labels> labels;
    const CompactAddress& address(std::size_t i) const { return i == 0 ? first : (*more)[i - 1]; }
  };
  // (network, address): the uniqueness key of an IP. IPv4 keys pack into one word.
  struct IpKey {
    std::uint64_t hi, lo;
    Symbol network;
    std::uint8_t family;
    friend bool operator==(const IpKey&, const IpKey&) = default;
  };
  struct IpKeyHash {
    std::size_t operator()(const IpKey& k) const noexcept;
  };
  // Hash set of slots looked up by (instance, interface) without storing the strings twice.
  struct KeyView {
    std::string_view instance;
    Symbol interface;
  };
  struct SlotKeyHash {
    using is_transparent = void;
    const BindingTable* table;
    std::size_t operator()(std::uint32_t slot) const noexcept;
    std::size_t operator()(const KeyView& k) const noexcept;
  };
  struct SlotKeyEq {
    using is_transparent = void;
    const BindingTable* table;
    bool operator()(std::uint32_t a, std::uint32_t b) const noexcept { return a == b; }
    bool operator()(const KeyView& k, std::uint32_t slot) const noexcept;
    bool operator()(std::uint32_t slot, const KeyView& k) const noexcept {
      return (*this)(k, slot);
    }
  };

  Binding compact(const BindingRecord& r);
  BindingRecord expand(const Binding& b) const;
  void index(std::uint32_t slot);
  void unindex(std::uint32_t slot);
  static IpKey ipKey(const CompactAddress& a);

  std::function<std::string(const std::string&)> network_of_;
  SymbolTable symbols_;
  std::deque<Binding> slots_;
  std::vector<std::uint32_t> free_slots_;
  boost::unordered_flat_map<std::uint64_t, std::uint32_t> by_id_;
  boost::unordered_flat_set<std::uint32_t, SlotKeyHash, SlotKeyEq> by_key_;
  boost::unordered_flat_map<std::uint64_t, std::uint32_t> by_ipv4_;  // network << 32 | address
  boost::unordered_flat_map<IpKey, std::uint32_t, IpKeyHash> by_ipv6_;
  boost::unordered_flat_map<std::uint64_t, std::uint32_t> by_mac_;
};

}  // namespace netledger::ledger
