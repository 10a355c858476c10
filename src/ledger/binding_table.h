#pragma once
// The in-memory home of every binding and its indexes, laid out for a million bindings: 104
// bytes per binding in fixed-size chunks plus ~40 bytes of indexes, against ~850 for
// BindingRecords in std containers. Strings that repeat (interface, host, service, tenant, pool
// and network names) are interned as 32-bit symbols; the instance name is stored inline when
// short; the first address is stored inline; the three times share 16 bytes; the fields most
// bindings leave empty (service, host MAC, further addresses, labels) share one pointer. The
// indexes are hash sets of 32-bit slot references whose keys are read from the slots
// themselves, so no key is stored twice; the MAC index also serves the MAC registry
// (alloc::MacHolders), which therefore keeps no copy of the MACs bindings hold.
// The Ledger converts to and from BindingRecord at its edges.
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
  std::size_t memoryBytes() const;

 private:
  std::deque<std::string> names_;  // deque: views into it stay valid as it grows
  boost::unordered_flat_map<std::string_view, Symbol> ids_;
};

// A string in 16 bytes: up to 15 characters inline (instance names are usually short), longer
// ones in an exact-size heap block. Move-only.
class CompactString {
 public:
  CompactString() { raw_[kTagByte] = 0; }
  explicit CompactString(std::string_view s);
  CompactString(CompactString&& other) noexcept;
  CompactString& operator=(CompactString&& other) noexcept;
  CompactString(const CompactString&) = delete;
  CompactString& operator=(const CompactString&) = delete;
  ~CompactString() { release(); }

  std::string_view view() const;
  // Heap bytes owned beyond the object itself (0 when inline).
  std::size_t heapBytes() const { return onHeap() ? size() : 0; }

  static constexpr std::size_t kInlineCapacity = 15;

 private:
  // Inline: the characters in raw_[0, size), the size in raw_[15]. Heap: the pointer in
  // raw_[0, 8), the size in raw_[8, 15) (7 bytes, little-endian by shifts), kHeapTag in raw_[15].
  static constexpr std::size_t kTagByte = 15;
  static constexpr unsigned char kHeapTag = 0xff;
  bool onHeap() const { return static_cast<unsigned char>(raw_[kTagByte]) == kHeapTag; }
  std::size_t size() const;
  const char* heapData() const;
  void release();

  alignas(8) char raw_[16];
};

class BindingTable {
 public:
  // `network_of` names the network an address of `pool` lives in ("default" for none).
  explicit BindingTable(std::function<std::string(const std::string& pool)> network_of);
  // Pinned: the indexes' hash functors point back at this table.
  BindingTable(const BindingTable&) = delete;
  BindingTable& operator=(const BindingTable&) = delete;

  // Sizes the indexes for `n` bindings at once (start-up), instead of rehashing as they arrive.
  void reserve(std::size_t n);
  std::size_t size() const { return by_id_.size(); }
  // Drops every binding and gives the slot storage back.
  void clear();

  // Adds a binding; its id, (instance, interface), addresses and MAC must be free. (If one is
  // not, the index entry moves to the new binding, as before.)
  void insert(const BindingRecord& r);
  // Replaces the binding with the same id (re-indexing what changed); inserts it if absent.
  void update(const BindingRecord& r);
  // Removes the binding with `id`; false if there is none.
  bool erase(std::uint64_t id);

  // The binding with `id` as a record, or nullopt.
  std::optional<BindingRecord> get(std::uint64_t id) const;
  bool contains(std::uint64_t id) const { return by_id_.contains(IdKey{id}); }
  // The id of the binding holding (instance, interface), `ip` in `network`, or `mac`.
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
  // The light view of the binding with `id` (valid until the table changes), or nullopt: what a
  // lookup on the hot path reads without expanding a BindingRecord.
  std::optional<View> view(std::uint64_t id) const;
  // Visits bindings in slot order from `start_slot`; `fn` returns false to stop. Returns the
  // slot after the last visited one (the resume point), or npos at the end.
  std::size_t scan(std::size_t start_slot,
                   const std::function<bool(std::size_t slot, const View&)>& fn) const;
  // Whether the binding in `slot` has an address from `pool` / equal to `ip`.
  bool hasAddressInPool(std::size_t slot, std::string_view pool) const;
  bool hasAddress(std::size_t slot, const addr::IpAddress& ip) const;
  // Calls `fn` for each address of the binding in `slot`.
  void forEachAddress(std::size_t slot,
                      const std::function<void(const addr::IpAddress&)>& fn) const;
  // Calls `fn(address, state)` for every bound address drawn from `pool` (the heat map).
  void forEachAddressInPool(
      std::string_view pool,
      const std::function<void(const addr::IpAddress&, BindingState)>& fn) const;
  std::uint64_t idAt(std::size_t slot) const { return at(slot).id; }
  // Bytes held by the table: slots, the heap blocks they own, indexes and symbols.
  std::size_t memoryBytes() const;

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

 private:
  // 24 bytes. The network is kept (not derived from the pool at lookup time) so an index entry
  // can always be recomputed from the slot, whatever happens to the pool later.
  struct CompactAddress {
    std::uint64_t hi = 0, lo = 0;
    Symbol pool = 0;
    std::uint32_t network : 31 = 0;
    std::uint32_t v6 : 1 = 0;
    addr::IpAddress ip() const;
  };
  struct Times {
    Millis expires_at = 0, created_at = 0, updated_at = 0;
  };
  // Three times in 16 bytes instead of 24: 42 bits each, milliseconds since the epoch (until
  // 2109). A binding with a time outside that (one imported from elsewhere) keeps its times in
  // its Extra instead, so nothing is ever cut.
  class PackedTimes {
   public:
    static constexpr int kBits = 42;
    static bool fits(const Times& t);
    void set(const Times& t);  // `t` must fit
    Times get() const;

   private:
    // low_: expires, then created's low 22 bits; high_: created's high 20 bits, then updated.
    std::uint64_t low_ = 0, high_ = 0;
  };
  // What most bindings leave empty, allocated only when one of them is set.
  struct Extra {
    Symbol service = 0;
    std::uint64_t host_mac = 0;
    std::vector<CompactAddress> more;  // addresses after the first
    Labels labels;
    // Set when the slot's PackedTimes cannot hold them: behind a pointer, so the Extra of every
    // other binding pays 8 bytes for this rarity, not 24.
    std::unique_ptr<Times> times;
  };
  struct Binding {
    std::uint64_t id = 0;  // 0: a free slot
    CompactString instance;
    Symbol interface = 0, host = 0, tenant = 0, mac_pool = 0;
    std::uint32_t version = 0;
    std::int32_t ttl_s = 0;      // at most 10 years: fits
    std::uint64_t mac : 48 = 0;  // 0: none
    std::uint64_t state : 8 = 0;
    std::uint64_t is_static : 1 = 0;
    std::uint64_t has_first : 1 = 0;
    PackedTimes packed_times;
    CompactAddress first;
    std::unique_ptr<Extra> extra;
    std::size_t addressCount() const { return has_first + (extra ? extra->more.size() : 0); }
    const CompactAddress& address(std::size_t i) const {
      return i == 0 ? first : extra->more[i - 1];
    }
    Times times() const { return extra && extra->times ? *extra->times : packed_times.get(); }
  };
  static_assert(sizeof(Binding) == 104, "docs/PERFORMANCE.md counts on a 104-byte slot");

  // Slots live in fixed-size chunks that never move: no per-block slack as in a deque, and no
  // doubling copy as in a vector.
  static constexpr std::size_t kChunkShift = 10;
  static constexpr std::size_t kChunkSlots = std::size_t{1} << kChunkShift;
  Binding& at(std::size_t slot) { return chunks_[slot >> kChunkShift][slot & (kChunkSlots - 1)]; }
  const Binding& at(std::size_t slot) const {
    return chunks_[slot >> kChunkShift][slot & (kChunkSlots - 1)];
  }

  // Lookup keys of the indexes.
  struct IdKey {
    std::uint64_t id;
    friend bool operator==(const IdKey&, const IdKey&) = default;
  };
  struct NameKey {  // (instance, interface)
    std::string_view instance;
    Symbol interface;
    friend bool operator==(const NameKey&, const NameKey&) = default;
  };
  struct MacKey {
    std::uint64_t mac;
    friend bool operator==(const MacKey&, const MacKey&) = default;
  };
  // (network, address): the uniqueness key of an IP.
  struct IpKey {
    std::uint64_t hi, lo;
    Symbol network;
    bool v6;
    friend bool operator==(const IpKey&, const IpKey&) = default;
  };
  static std::size_t hashOf(const IdKey& k);
  static std::size_t hashOf(const NameKey& k);
  static std::size_t hashOf(const MacKey& k);
  static std::size_t hashOf(const IpKey& k);

  // A reference to one address of a slot in the IP index: slot << 3 | address number, for the
  // first kRefAddresses addresses of slots below kRefSlots. Others (rare) go to by_ip_more_.
  static constexpr std::size_t kRefAddresses = 7;
  static constexpr std::size_t kRefSlots = std::size_t{1} << 29;

  // How each index reads the key of an entry from the slots.
  IdKey keyOf(IdKey*, std::uint32_t slot) const { return {at(slot).id}; }
  NameKey keyOf(NameKey*, std::uint32_t slot) const {
    return {at(slot).instance.view(), at(slot).interface};
  }
  MacKey keyOf(MacKey*, std::uint32_t slot) const { return {at(slot).mac}; }
  IpKey keyOf(IpKey*, std::uint32_t ref) const { return ipKey(at(ref >> 3).address(ref & 7)); }

  // Hash set of 32-bit entries looked up by Key, the key read from the table.
  template <typename Key>
  struct EntryHash {
    using is_transparent = void;
    using is_avalanching = void;  // hashOf mixes fully
    const BindingTable* table;
    std::size_t operator()(std::uint32_t e) const noexcept {
      return hashOf(table->keyOf(static_cast<Key*>(nullptr), e));
    }
    std::size_t operator()(const Key& k) const noexcept { return hashOf(k); }
  };
  template <typename Key>
  struct EntryEq {
    using is_transparent = void;
    const BindingTable* table;
    bool operator()(std::uint32_t a, std::uint32_t b) const noexcept {
      return a == b || key(a) == key(b);
    }
    bool operator()(const Key& k, std::uint32_t e) const noexcept { return key(e) == k; }
    bool operator()(std::uint32_t e, const Key& k) const noexcept { return key(e) == k; }
    Key key(std::uint32_t e) const { return table->keyOf(static_cast<Key*>(nullptr), e); }
  };
  template <typename Key>
  using Index = boost::unordered_flat_set<std::uint32_t, EntryHash<Key>, EntryEq<Key>>;
  struct IpKeyHash {
    std::size_t operator()(const IpKey& k) const noexcept { return hashOf(k); }
  };

  // Points `key` at `entry`, replacing any entry there (the last binding indexed wins).
  template <typename Key>
  static void put(Index<Key>& index, const Key& key, std::uint32_t entry);
  // Drops the entry for `key` if it is `entry` (a key since taken by another binding stays).
  template <typename Key>
  static void drop(Index<Key>& index, const Key& key, std::uint32_t entry);

  View viewOf(const Binding& b) const;
  Binding compact(const BindingRecord& r);
  BindingRecord expand(const Binding& b) const;
  void index(std::uint32_t slot);
  void unindex(std::uint32_t slot);
  static IpKey ipKey(const CompactAddress& a);
  // The slot of the binding with `id`, or npos.
  std::size_t slotOf(std::uint64_t id) const;

  std::function<std::string(const std::string&)> network_of_;
  SymbolTable symbols_;
  std::vector<std::unique_ptr<Binding[]>> chunks_;
  std::size_t slot_count_ = 0;  // slots in use or freed; chunks hold up to the next multiple
  std::vector<std::uint32_t> free_slots_;
  Index<IdKey> by_id_;
  Index<NameKey> by_key_;
  Index<MacKey> by_mac_;
  Index<IpKey> by_ip_;                                                     // address references
  boost::unordered_flat_map<IpKey, std::uint32_t, IpKeyHash> by_ip_more_;  // key -> slot
};

}  // namespace netledger::ledger
