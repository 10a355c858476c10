#pragma once
// The Ledger: the single writer of netledger's state, and what it promises.
//
// - Every write command is checked and applied in memory under one lock (the allocators decide
//   there, in microseconds) and returns a ticket. Its writes and audit events go to the store
//   in a group commit (one transaction, one fsync for many commands); tell no one of the
//   change before whenDurable/waitDurable says the ticket is durable. If a commit fails, every
//   command not yet durable fails with it and memory is rebuilt from the store: memory never
//   claims what the disk does not.
// - Reads are served from memory under the same lock. They may see a change a few milliseconds
//   before it is acknowledged, never one that is later lost without its writer being told.
// - No address or MAC is held by two bindings: the allocators refuse it, and changes that did
//   not come from this process (another replica's, through applyCommitted) take their
//   addresses and MACs out of the allocators before anything else is handed out.
// - Every change is an audit event with a seq one above the last; history reads the store.
// - Roles and tenant scopes are checked here (actor.h): a record outside the actor's tenants
//   reads as absent.
//
// Thread-safe. The store and the clock must outlive the Ledger.
//
//   Ledger ledger(store, clock);
//   NL_RETURN_IF_ERROR(ledger.open());
//   auto b = ledger.allocate(actor, {.instance = "vm-1", .pools = {"web"}});
//   if (b) ledger.whenDurable(b->ticket, [](Status s) { /* answer the client */ });

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "addr/ip_address.h"
#include "addr/mac.h"
#include "common/clock.h"
#include "common/status.h"
#include "ledger/actor.h"
#include "ledger/commands.h"
#include "ledger/event_log.h"
#include "ledger/model.h"
#include "ledger/pool_map.h"
#include "ledger/store.h"
#include "ledger/views.h"

namespace netledger::ledger {

struct LedgerOptions {
  std::int64_t retention_days = 180;
  std::int64_t mac_quarantine_s = 300;  // for explicitly registered MACs
};

class Ledger : public EventLog {
 public:
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

  // Applies records another writer already committed to the shared store (another replica's
  // batch, from the store's change feed) to memory: pools, MAC pools, bindings, tokens,
  // documents, quarantine entries, and events (the last seq moves on; the events reach the
  // event listener like our own). Their addresses and MACs are never handed out again while
  // held. An error means memory could not follow (a record refers to a pool it does not know):
  // the caller must reload. Does not write to the store.
  Status applyCommitted(std::span<const Write> batch);

  // ---- writes: each is applied at once in memory; acknowledge only after whenDurable ----
  // A command that changes nothing (an idempotent repeat) returns created = false and the
  // latest ticket, so waiting on it still orders the answer after everything before it.
  Result<Applied<PoolView>> createPool(const Actor& actor, PoolCreate create);
  // The patched record passes the same validation as a created one; kConflict when a held
  // address would become unallocatable.
  Result<Applied<PoolView>> updatePool(const Actor& actor, const std::string& name,
                                       const PoolPatch& patch);
  Result<Applied<PoolRecord>> deletePool(const Actor& actor, const std::string& name);
  Result<Applied<MacPoolRecord>> createMacPool(const Actor& actor, MacPoolRecord record);
  Result<Applied<MacPoolRecord>> deleteMacPool(const Actor& actor, const std::string& name);
  // Idempotent on (instance, interface): a repeat returns the existing binding.
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
  // `if_version`, when set, is the version the document must still have in memory (0: absent):
  // kConflict otherwise, so a writer that keeps its own copy never overwrites a change it has
  // not yet taken in (another replica's, through applyCommitted).
  Result<Applied<DocumentRecord>> putDocument(const Actor& actor, DocumentRecord document,
                                              const std::string& op, const std::string& subject,
                                              std::vector<std::string> keys = {},
                                              std::optional<std::string> audit_body = {},
                                              std::optional<std::uint64_t> if_version = {});
  // Creates or replaces a document decided from what its kind holds now, under the lock that
  // orders every write: `draft` sees every document of `kind` (key order) and returns what to
  // write with its audit, or the error that is the answer. Claims that must not overlap one
  // another (host ports) are decided here, so two writers can never both win. On a shared
  // store each checked write also moves the document (`kind`.guard, "claims"), so of two
  // replicas' concurrent checked writes of a kind one batch aborts and runs again.
  struct DocumentDraft {
    DocumentRecord document;
    std::string op;
    std::string subject;
    std::vector<std::string> keys;
  };
  using DocumentDrafter =
      std::function<Result<DocumentDraft>(const std::vector<DocumentRecord>& current)>;
  Result<Applied<DocumentRecord>> putDocumentChecked(const Actor& actor, const std::string& kind,
                                                     const DocumentDrafter& draft);
  // kNotFound when absent. `audit_body` as for putDocument (the "before" of the event).
  Result<Applied<DocumentRecord>> deleteDocument(const Actor& actor, const std::string& kind,
                                                 const std::string& key, const std::string& op,
                                                 const std::string& subject,
                                                 std::optional<std::string> audit_body = {});

  // Expires every dynamic binding whose lease ended; returns how many bindings expired. Run by
  // the sweeper thread.
  Result<Applied<std::size_t>> sweep();
  // After a failed commit whose rebuild could not read the store (a shared store without
  // quorum), memory may still hold the failed changes: reloads it now if the store answers.
  // Cheap when nothing is pending; the sweeper calls it on every replica.
  Status reloadIfBehind();

  // Calls `done` once `ticket` is durable (OK) or failed (the error), on the committer thread
  // or, if that already happened, right away on the caller's.
  void whenDurable(std::uint64_t ticket, std::function<void(Status)> done);
  // Blocking form of whenDurable.
  Status waitDurable(std::uint64_t ticket);

  // ---- reads (from memory; thread-safe); out of the actor's tenants reads as absent ----
  // kUnauthorized for an unknown or revoked secret.
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
  // `cursor`: "" for the first page, else the previous page's next_cursor (opaque: a table
  // position when scanning, a count on the ip=/mac= index path).
  Result<Page<BindingRecord>> searchBindings(const Actor& actor, const BindingFilter& filter,
                                             const std::string& cursor, std::size_t limit) const;
  // Every binding matching `filter` that `actor` may see, page by page: the lock is held for
  // one page of 1,000 at a time, not for the whole walk (reports and checks over every binding).
  void forEachBinding(const Actor& actor, const BindingFilter& filter,
                      const std::function<void(const BindingRecord&)>& visit) const;
  Result<BindingRecord> holderOfAddress(const Actor& actor, const addr::IpAddress& ip) const;
  Result<BindingRecord> holderOfMac(const Actor& actor, addr::Mac mac) const;
  // Admin only; empty for other roles.
  std::vector<TokenRecord> listTokens(const Actor& actor) const;
  // Every document of `kind`, in key order.
  std::vector<DocumentRecord> documents(const std::string& kind) const;
  std::optional<DocumentRecord> document(const std::string& kind, const std::string& key) const;
  // Compares the allocators with the bindings, under one lock (self_check.cc): what an address
  // authority must never get wrong, checked rather than assumed. `grace` spares quarantine and
  // leases that ended so recently that the sweeps have not come by yet.
  SelfCheck selfCheck(Millis grace) const;
  // Frees every quarantined address whose hold ended (allocators sweep lazily, at the next
  // allocation in a block, so until then the counts include them); returns how many.
  std::size_t sweepQuarantine();
  // One lookup per query, all under one lock (the engine's batches).
  std::vector<WireFacts> lookupWire(std::span<const WireQuery> queries) const;
  // Active bindings last changed before `before`, visiting from `cursor` (0 first); at most
  // `limit` ids, and the cursor to continue from (0 at the end).
  std::pair<std::vector<std::uint64_t>, std::size_t> bindingsUnchangedSince(
      Millis before, std::size_t cursor, std::size_t limit) const;
  LedgerStats stats() const;
  // The seq of the last event created (durable once its command is acknowledged).
  std::uint64_t lastEventSeq() const;
  // The position (EventRecord::position) of the last event the event listener was given, or
  // that the load read: where the event stream starts.
  std::uint64_t lastEventPosition() const;
  // How long the last start-up load took.
  LoadStats loadStats() const;
  // Called on the committer thread after every store commit: writes in the batch, seconds the
  // commit took, and whether it succeeded. Set before open().
  void setCommitObserver(std::function<void(std::size_t, double, const Status&)> observer);
  // Called with the events of every durable commit, in seq order, before the batch's writers
  // are acknowledged (so waitDurable/whenDurable imply it ran), and with those applyCommitted
  // takes in: the one feed for the event stream, webhooks and the engine. On a shared store it
  // is called from the feed alone, for every writer's events (ours included, shortly after
  // their acknowledgement), in the store's global order (EventRecord::position). Must return
  // quickly (queue the work). Set before open().
  void setEventListener(std::function<void(std::span<const EventRecord* const>)> listener);
  // Documents of the listened kinds that changed under this process rather than through it: on
  // a shared store, those another writer committed (applyCommitted), and after memory was
  // reloaded from the store (`full`: `put` holds every document of the kinds, anything else is
  // gone). What the engine keeps of conflicts and policies follows the ledger by it. Called with
  // the ledger's lock held or not: it must only queue the work, never call the Ledger. Set
  // before open().
  struct DocumentChanges {
    bool full = false;
    std::vector<DocumentRecord> put;                           // created or replaced
    std::vector<std::pair<std::string, std::string>> deleted;  // (kind, key)
  };
  void setDocumentListener(std::set<std::string> kinds,
                           std::function<void(DocumentChanges)> listener);

  // ---- history (from the store's events; no ledger lock) ----
  // The holder of `key` ("ip:…", "mac:…", "instance:…") at `at`: the binding, or kNotFound.
  Result<HistoryEntry> holderAt(const std::string& key, Millis at) const;
  // What happened to `key` in [from, to], oldest first, starting with the holder at `from`.
  Result<std::vector<HistoryEntry>> lineage(const std::string& key, Millis from, Millis to,
                                            std::size_t limit) const;
  Result<std::vector<EventRecord>> audit(const EventQuery& query) const override;
  Result<std::vector<EventRecord>> eventsAfter(std::uint64_t position,
                                               std::size_t limit) const override;
  Store& store();

 private:
  struct State;  // ledger_state.h
  // Runs `command` under the lock with a fresh write set and commits what it wrote: the ticket
  // of its writes, or the latest ticket when it wrote nothing.
  template <typename T, typename Command>
  Result<Applied<T>> mutate(const Actor& actor, Command&& command);
  // For a shared store: applies what other writers commit (applyCommitted) as it commits.
  Status followStore();

  std::unique_ptr<State> state_;
};

}  // namespace netledger::ledger
