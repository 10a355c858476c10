#pragma once
// MAC allocation. One MacRegistry answers for every MAC in the ledger — from every MAC pool and
// every explicitly registered (physical) MAC — so uniqueness is global, not per pool. It asks
// the bindings' table (MacHolders) about the MACs bindings hold instead of keeping a copy. A
// MacAllocator is one MAC pool: a prefix and a strategy, drawing from and recording into the
// registry.
//
// Not thread-safe: the Ledger is the single writer and serializes calls.

#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include "addr/mac.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/status.h"

namespace netledger::alloc {

enum class MacState { kFree, kInUse, kQuarantined };

// Whoever else knows which MACs are held. The ledger's binding table already indexes every MAC
// a binding holds: with it as holder, the registry keeps no second copy of a million MACs
// (18 bytes each), only the few claimed and not yet held.
class MacHolders {
 public:
  virtual ~MacHolders() = default;
  virtual bool holds(addr::Mac mac) const = 0;
};

class MacRegistry {
 public:
  MacRegistry() = default;
  // `holders` (may be null; must outlive the registry): a MAC it holds is in use without a
  // claim here, and the owner calls settled() once a claimed MAC is held there.
  explicit MacRegistry(const MacHolders* holders) : holders_(holders) {}
  // Changes who the holders are, keeping every claim and quarantine.
  void setHolders(const MacHolders* holders) { holders_ = holders; }

  // Claims `mac` (a generated or an explicitly registered one). kInvalidArgument for a
  // multicast, broadcast or all-zero MAC; kConflict if it is in use, or quarantined and
  // `allow_quarantined` is false. Expired quarantine is swept first.
  Status claim(addr::Mac mac, TimePoint now, bool allow_quarantined = false);
  // `mac` is held by the holders now (or a durable record that holds it is being loaded): the
  // registry's own claim and any quarantine are dropped. Never reads the holders, so start-up
  // may call it while another thread fills them.
  void settled(addr::Mac mac);
  // Releases an in-use MAC (claimed here or held by the holders) into quarantine for `hold`
  // (straight to free for a zero hold). kNotFound if it is not in use: so a holder lets go of
  // a MAC only after releasing it here, or the MAC is free at once, unquarantined.
  Status release(addr::Mac mac, TimePoint now, Duration hold);
  // Forgets a MAC whatever its state (an allocation undone before it was acknowledged).
  void forget(addr::Mac mac);
  std::size_t sweepQuarantine(TimePoint now);

  MacState stateOf(addr::Mac mac) const;
  bool isTaken(addr::Mac mac) const { return isInUse(mac) || quarantine_.contains(mac.value()); }
  // MACs claimed here and not (yet) held by the holders: without holders, every in-use MAC.
  std::size_t inUseCount() const { return in_use_.size(); }
  std::size_t quarantinedCount() const { return quarantine_.size(); }
  std::size_t memoryBytes() const;
  // Makes room for `n` MACs at once (start-up), instead of rehashing as they arrive.
  void reserve(std::size_t n) { in_use_.reserve(n); }

 private:
  bool isInUse(addr::Mac mac) const {
    return in_use_.contains(mac.value()) || (holders_ && holders_->holds(mac));
  }

  const MacHolders* holders_ = nullptr;
  // A MAC is in at most one of the two. In use costs 9 bytes a slot (none for one the holders
  // hold); only the few quarantined ones carry their end (ticks since the epoch).
  boost::unordered_flat_set<std::uint64_t> in_use_;
  boost::unordered_flat_map<std::uint64_t, Duration::rep> quarantine_;
  using Expiry = std::pair<Duration::rep, std::uint64_t>;
  // Holds differ between pools, so expiries come out of order: a min-heap.
  std::priority_queue<Expiry, std::vector<Expiry>, std::greater<>> expiries_;
};

enum class MacStrategy { kRandom, kSequential, kHash };
Result<MacStrategy> parseMacStrategy(std::string_view text);
std::string_view macStrategyName(MacStrategy s);

// The default MAC pool prefix: locally administered (02:...), so it can never collide with a
// vendor's universal address.
addr::MacPrefix defaultMacPrefix();

struct MacPoolLayout {
  addr::MacPrefix prefix = defaultMacPrefix();
  MacStrategy strategy = MacStrategy::kRandom;
  Duration quarantine = std::chrono::seconds(300);
};

// Source of random 64-bit values; the default is the buffered OpenSSL CSPRNG. Tests inject a
// seeded generator to make collisions reproducible.
using RandomSource = std::function<std::uint64_t()>;

class MacAllocator {
 public:
  // `registry` must outlive the allocator.
  MacAllocator(MacPoolLayout layout, MacRegistry& registry, RandomSource random = {});
  // Pinned: the default random source refers to this object's own CSPRNG buffer.
  MacAllocator(const MacAllocator&) = delete;
  MacAllocator& operator=(const MacAllocator&) = delete;

  // A new MAC under the prefix, never multicast, all-zero or broadcast, never one the registry
  // holds. `instance` and `interface` seed the hash strategy (the same pair gets the same MAC
  // while it is free; collisions probe onward). kPoolExhausted when none is free.
  Result<addr::Mac> allocate(TimePoint now, std::string_view instance = {},
                             std::string_view interface = {});
  Status release(addr::Mac mac, TimePoint now) {
    return registry_.release(mac, now, layout_.quarantine);
  }

  // Where the sequential strategy goes on from (wrapped to the prefix): replicas start theirs
  // apart so that they rarely race for the same next MAC.
  void setCursor(std::uint64_t suffix) { cursor_ = suffix & (layout_.prefix.size() - 1); }

  const MacPoolLayout& layout() const { return layout_; }
  // How many MACs the prefix spans (all-zero excluded).
  std::uint64_t size() const;

 private:
  // Linear probe from suffix `start` over at most `limit` suffixes.
  Result<addr::Mac> probeFrom(std::uint64_t start, std::uint64_t limit, TimePoint now,
                              bool advance_cursor);
  bool usable(addr::Mac m) const { return !m.isZero() && !registry_.isTaken(m); }

  MacPoolLayout layout_;
  MacRegistry& registry_;
  RandomSource random_;
  SecureRandom secure_random_;
  std::uint64_t cursor_ = 0;  // next suffix for the sequential strategy
};

}  // namespace netledger::alloc
