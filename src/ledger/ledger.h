#pragma once
// The Ledger: the single writer of netledger's state. Commands are checked and applied in
// memory under one lock (the allocators decide there, in microseconds), and their writes are
// appended to the pending batch. A committer thread writes each batch to the Store in one
// transaction (one fsync for many commands: group commit) and only then acknowledges the
// commands in it. If a commit fails, every command not yet durable is failed and the
// in-memory state is rebuilt from the store, so memory never claims what the disk does not.
//
// Reads are served from memory under the same lock; they may see a change a few milliseconds
// before it is acknowledged, never one that is later lost without its writer being told.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "addr/ip_address.h"
#include "addr/mac.h"
#include "alloc/ip_allocator.h"
#include "alloc/mac_allocator.h"
#include "alloc/pool_overlap_index.h"
#include "alloc/prefix_allocator.h"
#include "common/clock.h"
#include "common/status.h"
#include "ledger/actor.h"
#include "ledger/binding_table.h"
#include "ledger/event_log.h"
#include "ledger/model.h"
#include "ledger/pool_map.h"
#include "ledger/store.h"

namespace netledger::ledger {

struct LedgerOptions {
  std::int64_t retention_days = 180;
  std::int64_t mac_quarantine_s = 300;  // for explicitly registered MACs
  std::size_t max_batch_writes = 20000;
};

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

// POST /v1/pools: either cidrs, or parent + prefix_length to carve a child.
struct PoolCreate {
  PoolRecord record;
  std::optional<int> prefix_length;
};

struct PoolPatch {
  std::optional<std::optional<addr::IpAddress>> gateway;
  std::optional<std::vector<addr::IpRange>> ranges;
  std::optional<std::vector<addr::IpRange>> reserved;
  std::optional<std::string> tenant, cluster;
  std::optional<std::optional<int>> vlan;
  std::optional<std::optional<std::uint32_t>> vni;
  std::optional<std::int64_t> default_ttl_s, quarantine_s;
  std::optional<double> threshold;
  std::optional<bool> auto_expand;
  std::optional<int> expand_prefix_length;
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

// The fields PATCH /v1/bindings/{id} may change.
struct BindingUpdate {
  std::optional<std::string> host;
  std::optional<addr::Mac> mac;
  std::optional<addr::Mac> host_mac;
};

struct AllocateRequest {
  std::string instance;
  std::string interface = "eth0";
  std::vector<std::string> pools;
  std::optional<addr::IpAddress> address;  // a specific address (in one of `pools`, or unpooled)
  std::optional<addr::Mac> mac;            // an explicit MAC
  std::string mac_pool;                    // or generate one from this MAC pool
  std::string host;
  std::optional<addr::Mac> host_mac;
  std::string service;
  Labels labels;
  std::optional<std::int64_t> ttl_s;
  bool is_static = false;
  // Probe before use: the binding starts `reserved` and only activate() makes it `active`,
  // once the host's agent found every address free on the wire. Needs `host`.
  bool probe = false;
};

struct BindingFilter {
  std::optional<addr::IpAddress> ip;
  std::optional<addr::Mac> mac;
  std::optional<std::string> instance, host, pool;
  std::optional<BindingState> state;
  // Search as you type: an address or MAC starting with `text`, or an instance or host
  // containing it (case-insensitive). Lower-case it before setting.
  std::optional<std::string> text;
};

// Whether text (lower-case) could be the start of an address or MAC: hex digits, '.', ':', '-'.
bool couldStartAddress(std::string_view text);
// Whether a binding's instance, host, MAC and addresses match BindingFilter::text.
bool matchesSearchText(std::string_view text, std::string_view instance, std::string_view host,
                       std::optional<addr::Mac> mac, const std::vector<addr::IpAddress>& ips);

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

// One observed (network, ip, mac) to look up.
struct WireQuery {
  std::string_view network;
  std::optional<addr::IpAddress> ip;
  addr::Mac mac;
};

struct WireFacts {
  std::optional<BindingBrief> ip_holder;   // the binding holding the ip in that network
  std::optional<BindingBrief> mac_holder;  // the binding holding the mac
  std::string pool;                        // the leaf pool of the network containing the ip
  bool network_managed = false;            // the network has pools at all
  bool gateway = false;                    // the ip is `pool`'s gateway
  bool reserved = false;                   // the ip is in one of `pool`'s reserved ranges
  bool external = false;  // the ip is in an external pool (another control plane's station)
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

class Ledger : public EventLog {
 public:
  // `store` and `clock` must outlive the Ledger.
  Ledger(Store& store, Clock& clock, LedgerOptions options = {});
  ~Ledger() override;
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Loads the store and starts the committer. Call once.
  Status open();
  // Commits what is pending, then stops the committer. Idempotent.
  void close();

  // Creates the first admin token when the store has none: with `secret` if given, else a
  // generated one. Returns the secret when a token was created, nullopt when tokens exist.
  Result<std::optional<std::string>> bootstrapAdminToken(const std::optional<std::string>& secret);

  // ---- writes: each is applied at once in memory; acknowledge only after whenDurable ----
  Result<Applied<PoolView>> createPool(const Actor& actor, PoolCreate create);
  Result<Applied<PoolView>> updatePool(const Actor& actor, const std::string& name,
                                       const PoolPatch& patch);
  Result<Applied<PoolRecord>> deletePool(const Actor& actor, const std::string& name);
  Result<Applied<MacPoolRecord>> createMacPool(const Actor& actor, MacPoolRecord record);
  Result<Applied<MacPoolRecord>> deleteMacPool(const Actor& actor, const std::string& name);
  Result<Applied<BindingRecord>> allocate(const Actor& actor, const AllocateRequest& request);
  // Renewals extend the lease but never change the state: a reserved binding stays reserved
  // until activate() (its agent heartbeats while it still probes).
  Result<Applied<BindingRecord>> renew(const Actor& actor, std::uint64_t id,
                                       std::optional<std::int64_t> ttl_s);
  Result<Applied<std::size_t>> renewHost(const Actor& actor, const std::string& host);
  // reserved -> active (event "binding.activate"): the probe found the addresses free. An
  // active binding is returned as it is (created = false, no event); kNotFound when absent.
  Result<Applied<BindingRecord>> activate(const Actor& actor, std::uint64_t id);
  Result<Applied<BindingRecord>> release(const Actor& actor, std::uint64_t id);
  Result<Applied<BindingRecord>> migrate(const Actor& actor, std::uint64_t id,
                                         const std::string& host,
                                         std::optional<addr::Mac> host_mac);
  // Records facts learnt after allocation (the CNI chained plugin: the pod interface's MAC and
  // its node), audited as binding.update. A new MAC is claimed like an explicit one at
  // allocation (kConflict naming the holder when another binding has it); the old one, if any,
  // is released with its usual quarantine, written in the same batch as the binding. Unset
  // fields stay as they are; the state does not change (a reserved binding stays reserved) and
  // neither does the lease end. Fields equal to what is recorded are no change (changed =
  // false, no event). kInvalidArgument for a multicast or all-zero MAC.
  Result<Applied<BindingRecord>> updateBinding(const Actor& actor, std::uint64_t id,
                                               const BindingUpdate& update);
  // Moves `ip` from its holder to binding `to` (VIP failover).
  Result<Applied<BindingRecord>> moveAddress(const Actor& actor, const addr::IpAddress& ip,
                                             std::uint64_t to);
  // Returns the new token's secret (shown once) with its record.
  Result<Applied<std::pair<TokenRecord, std::string>>> createToken(
      const Actor& actor, const std::string& name, Role role, std::vector<std::string> tenants);
  Result<Applied<TokenRecord>> deleteToken(const Actor& actor, const std::string& name);
  // Takes `ip` away from dynamic binding `id` and gives it a fresh address from the same pool;
  // `ip` goes to quarantine (the consistency engine's quarantine_and_reassign, and a probe that
  // found `ip` in use). The state is kept (a reserved binding stays reserved and is probed
  // again). kConflict for a static binding (never moved automatically); pool_exhausted leaves
  // the binding unchanged.
  Result<Applied<BindingRecord>> reassignAddress(const Actor& actor, std::uint64_t id,
                                                 const addr::IpAddress& ip);

  // Documents: durable records of the subsystems above the ledger (see DocumentRecord). The
  // ledger versions them (version = previous + 1; created at 1) and commits them like any
  // other write. `op` non-empty records an audit event (subject, keys, before/after = the old
  // and new bodies); empty for frequent bookkeeping that is not worth an event. Roles are the
  // caller's business: these take the actor only to name it in the event. `audit_body`, when
  // given, is what the event records instead of the body (a body holding a secret).
  Result<Applied<DocumentRecord>> putDocument(const Actor& actor, DocumentRecord document,
                                              const std::string& op, const std::string& subject,
                                              std::vector<std::string> keys = {},
                                              std::optional<std::string> audit_body = {});
  // kNotFound when absent. `audit_body` as for putDocument (the "before" of the event).
  Result<Applied<DocumentRecord>> deleteDocument(const Actor& actor, const std::string& kind,
                                                 const std::string& key, const std::string& op,
                                                 const std::string& subject,
                                                 std::optional<std::string> audit_body = {});

  // Expires every dynamic binding whose lease ended and drops stale quarantine rows; returns
  // how many bindings expired. Run by the sweeper thread.
  Result<Applied<std::size_t>> sweep();

  // Calls `done` once `ticket` is durable (OK) or failed (the error), on the committer thread
  // or, if that already happened, right away on the caller's.
  void whenDurable(std::uint64_t ticket, std::function<void(Status)> done);
  // Blocking form of whenDurable.
  Status waitDurable(std::uint64_t ticket);

  // ---- reads (from memory; thread-safe) ----
  Result<TokenRecord> authenticate(const std::string& secret) const;
  Result<PoolView> getPool(const Actor& actor, const std::string& name) const;
  std::vector<PoolView> listPools(const Actor& actor) const;
  // The pool's heat map (pool_map.h) with its view. `conflicts`: addresses with an unresolved
  // conflict (the engine's, which the ledger does not know). Holds the lock for one pass over
  // the bindings.
  Result<std::pair<PoolView, PoolMap>> poolMap(const Actor& actor, const std::string& name,
                                               std::size_t max_cells,
                                               const std::vector<addr::IpAddress>& conflicts) const;
  Result<MacPoolRecord> getMacPool(const Actor& actor, const std::string& name) const;
  std::vector<MacPoolRecord> listMacPools(const Actor& actor) const;
  Result<BindingRecord> getBinding(const Actor& actor, std::uint64_t id) const;
  // Each address of `binding` with its pool's prefix and gateway, in the binding's order, under
  // one lock. No access check: for a binding the caller was just allowed to see.
  std::vector<AddressNetwork> addressNetworks(const BindingRecord& binding) const;
  // In id order; `cursor` is the last id of the previous page ("" for the first).
  Result<Page<BindingRecord>> searchBindings(const Actor& actor, const BindingFilter& filter,
                                             const std::string& cursor, std::size_t limit) const;
  Result<BindingRecord> holderOfAddress(const Actor& actor, const addr::IpAddress& ip) const;
  Result<BindingRecord> holderOfMac(const Actor& actor, addr::Mac mac) const;
  std::vector<TokenRecord> listTokens(const Actor& actor) const;
  // Every document of `kind`, in key order.
  std::vector<DocumentRecord> documents(const std::string& kind) const;
  std::optional<DocumentRecord> document(const std::string& kind, const std::string& key) const;
  // One lookup per query, all under one lock (the engine's batches).
  std::vector<WireFacts> lookupWire(std::span<const WireQuery> queries) const;
  // Active bindings last changed before `before`, visiting from `cursor` (0 first); at most
  // `limit` ids, and the cursor to continue from (0 at the end).
  std::pair<std::vector<std::uint64_t>, std::size_t> bindingsUnchangedSince(
      Millis before, std::size_t cursor, std::size_t limit) const;
  LedgerStats stats() const;
  // The seq of the last event created (durable once its command is acknowledged).
  std::uint64_t lastEventSeq() const {
    std::lock_guard lock(mu_);
    return last_event_seq_;
  }
  LoadStats loadStats() const {
    std::lock_guard lock(mu_);
    return load_stats_;
  }
  // Called on the committer thread after every store commit: writes in the batch, seconds the
  // commit took, and whether it succeeded. Set before open().
  void setCommitObserver(std::function<void(std::size_t, double, bool)> observer) {
    commit_observer_ = std::move(observer);
  }
  // Called on the committer thread with the events of every durable commit, in seq order,
  // before the batch's writers are acknowledged (so waitDurable/whenDurable imply it ran):
  // the one feed for the event stream, webhooks and the engine. Must return quickly (queue the
  // work). Set before open().
  void setEventListener(std::function<void(std::span<const EventRecord* const>)> listener) {
    event_listener_ = std::move(listener);
  }

  // ---- history (from the store's events) ----
  // The holder of `key` ("ip:…", "mac:…", "instance:…") at `at`: the binding, or kNotFound.
  Result<HistoryEntry> holderAt(const std::string& key, Millis at) const;
  // What happened to `key` in [from, to], oldest first, starting with the holder at `from`.
  Result<std::vector<HistoryEntry>> lineage(const std::string& key, Millis from, Millis to,
                                            std::size_t limit) const;
  Result<std::vector<EventRecord>> audit(const EventQuery& query) const override;
  Store& store() { return store_; }

 private:
  struct PoolState {
    PoolRecord record;
    std::vector<std::unique_ptr<alloc::IpAllocator>> blocks;       // one per CIDR
    std::vector<std::unique_ptr<alloc::PrefixAllocator>> carvers;  // one per CIDR
    std::vector<std::string> children;
    std::size_t bindings = 0;
  };
  struct MacPoolState {
    MacPoolRecord record;
    std::unique_ptr<alloc::MacAllocator> allocator;
  };
  struct Pending {
    std::function<void(Status)> done;
    std::uint64_t ticket;
  };

  // All private helpers expect mu_ held.
  Status loadLocked();
  void resetLocked();
  Status addPoolStateLocked(const PoolRecord& record);
  Result<std::unique_ptr<alloc::IpAllocator>> makeBlock(const PoolRecord& r,
                                                        const addr::Prefix& cidr) const;
  std::uint64_t pushLocked(std::vector<Write> writes);
  EventRecord eventLocked(const Actor& actor, std::string op, std::string subject,
                          std::vector<std::string> keys, std::string before, std::string after);
  std::string networkOfPool(const std::string& pool) const;
  BindingBrief briefLocked(std::uint64_t id) const;
  // The bindings holding `ip`, one per network at most, in network-name order.
  std::vector<std::uint64_t> holdersOfIpLocked(const addr::IpAddress& ip) const;
  PoolView viewLocked(const PoolState& p) const;
  Status checkPoolAccess(const Actor& actor, const PoolRecord& p) const;
  Status checkBindingAccess(const Actor& actor, const BindingRecord& b) const;
  Status requireRole(const Actor& actor, Role role, std::string_view what) const;
  Result<BindingRecord> endBindingLocked(const Actor& actor, std::uint64_t id, bool expire,
                                         std::vector<Write>& writes);
  // Bumps the version, re-indexes, and queues the write with its audit event (`address_keys`:
  // whether the event joins the IP and MAC histories).
  Applied<BindingRecord> commitBindingUpdateLocked(const Actor& actor, std::string op,
                                                   BindingRecord b, std::uint64_t expected,
                                                   std::string before, bool address_keys);
  void maybeExpandLocked(PoolState& pool, std::vector<Write>& writes, const Actor& actor);
  alloc::IpAllocator* blockFor(PoolState& pool, const addr::IpAddress& ip);
  std::uint64_t latestTicketLocked() const { return next_ticket_ - 1; }
  Millis nowMs() const;
  void committerLoop();
  void failAllLocked(const Status& why, std::vector<Pending>& to_fail);

  Store& store_;
  Clock& clock_;
  LedgerOptions options_;

  mutable std::mutex mu_;
  std::map<std::string, PoolState> pools_;
  std::map<std::string, MacPoolState> mac_pools_;
  alloc::PoolOverlapIndex overlap_;
  alloc::MacRegistry macs_;
  BindingTable table_{[this](const std::string& pool) { return networkOfPool(pool); }};
  std::map<std::string, TokenRecord> tokens_;
  boost::unordered_flat_map<std::string, std::string> token_by_hash_;
  std::uint64_t last_event_seq_ = 0;
  std::uint64_t last_binding_id_ = 0;
  LedgerStats stats_;
  LoadStats load_stats_;

  // Group commit.
  std::vector<Write> pending_writes_;
  std::uint64_t next_ticket_ = 1;     // ticket of the next command
  std::uint64_t durable_ticket_ = 0;  // every ticket <= this is durable
  std::uint64_t failed_below_ = 0;    // tickets < this that are not durable have failed
  Status last_failure_;
  std::deque<Pending> waiting_;
  std::condition_variable work_cv_;
  std::condition_variable durable_cv_;
  bool stopping_ = false;
  bool open_ = false;
  std::thread committer_;
  std::function<void(std::size_t, double, bool)> commit_observer_;
  std::function<void(std::span<const EventRecord* const>)> event_listener_;
  std::map<std::string, std::map<std::string, DocumentRecord>> documents_;  // kind -> key ->
};

}  // namespace netledger::ledger
