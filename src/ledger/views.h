#pragma once
// What the Ledger answers: a write's result with its durability ticket, and the read views of
// pools, bindings, history and statistics.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "addr/ip_address.h"
#include "addr/mac.h"
#include "addr/prefix.h"
#include "addr/uint128.h"
#include "alloc/ip_allocator.h"
#include "ledger/model.h"

namespace netledger::ledger {

// A write's result and the ticket to wait on before telling anyone it happened.
template <typename T>
struct Applied {
  T value;
  bool created = true;  // false: an idempotent repeat returned the existing record
  std::uint64_t ticket = 0;
  // The value as JSON when the command already serialized it for its audit event, so the API
  // answers with the same bytes instead of building them twice ("" when not available).
  std::string json{};
};

struct PoolView {
  PoolRecord record;
  alloc::IpPoolCounts counts;
  std::vector<std::string> children;
  std::size_t bindings = 0;
};

// Where one address of a binding lives: the prefix of its pool that holds it, and the pool's
// gateway when that prefix holds the gateway too. What a client needs to configure the address
// (the CNI plugin's IPAM result). An unpooled address, or one whose pool is gone, has neither.
struct AddressNetwork {
  addr::IpAddress ip;
  std::string pool;
  std::optional<addr::Prefix> prefix;
  std::optional<addr::IpAddress> gateway;
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_cursor;  // "" at the end
};

// One entry of an address's, MAC's or instance's lineage.
struct HistoryEntry {
  EventRecord event;
  std::optional<BindingRecord> holder;  // after the event (the released one for release/expire)
  bool holds = false;                   // true if `holder` holds the subject after the event
};

// What the ledger knows about a binding, briefly: what the consistency engine compares
// observations with.
struct BindingBrief {
  std::uint64_t id = 0;
  std::string instance;
  std::string host;
  std::optional<addr::Mac> mac;
  BindingState state = BindingState::kActive;
  bool is_static = false;
  Millis expires_at = 0;
  Millis updated_at = 0;
};

// The answer to one WireQuery.
struct WireFacts {
  std::optional<BindingBrief> ip_holder;   // the binding holding the ip in that network
  std::optional<BindingBrief> mac_holder;  // the binding holding the mac
  std::string pool;                        // the leaf pool of the network containing the ip
  bool network_managed = false;            // the network has pools at all
  bool gateway = false;                    // the ip is `pool`'s gateway
  bool reserved = false;                   // the ip is in one of `pool`'s reserved ranges
  bool external = false;  // the ip is in an external pool (another control plane's station)
};

// The ledger's own consistency (Ledger::selfCheck), what `netledger check` reports besides the
// wire: each empty when all is well.
struct SelfCheck {
  // A pool whose allocators count another number of used addresses than its bindings hold.
  struct PoolCount {
    std::string pool;
    addr::uint128 allocator_used = 0;
    std::size_t bound = 0;
  };
  // A binding's address its pool's allocator does not have as used.
  struct Unmarked {
    std::uint64_t binding = 0;
    std::string instance, pool;
    addr::IpAddress ip;
    std::string state;  // the allocator's view: "free", "quarantined", ..., or "no_block"
  };
  // Quarantine that ended more than the grace period ago and still holds the address.
  struct Overdue {
    std::string pool;
    addr::IpAddress ip;
    Millis until = 0;
  };
  std::vector<PoolCount> count_mismatches;
  std::vector<Unmarked> unmarked;
  std::vector<Overdue> overdue_quarantine;
  std::vector<std::uint64_t> unswept_leases;  // lease ended more than the grace period ago
};

// How long the last start-up load took, for the start-up log line.
struct LoadStats {
  std::size_t bindings = 0;
  double store_seconds = 0;  // reading the store
  double build_seconds = 0;  // rebuilding allocators and indexes
};

struct LedgerStats {
  std::uint64_t allocations = 0, releases = 0, expirations = 0;
  std::uint64_t commits = 0, commit_failures = 0;
  std::uint64_t last_batch_size = 0;
  double last_commit_seconds = 0;
  std::size_t bindings = 0;
};

}  // namespace netledger::ledger
