#pragma once
// LedgerPort: exactly what the consistency engine reads and writes of the ledger, so the engine
// depends on these ten calls instead of the whole Ledger (Envoy's one-purpose interfaces: a
// consumer depends on what it calls). LedgerAdapter (engine/ledger_adapter.h) forwards them to
// a ledger::Ledger; the daemon wires it, and tests use it over the memory store.
//
// The record types (Applied, PoolView, WireQuery, WireFacts, ...) are the ledger's.
//
// Contract: the same as the Ledger methods of the same name (ledger/ledger.h): every method is
// thread-safe; writes are applied in memory at once and durable once their ticket is.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "addr/ip_address.h"
#include "addr/mac.h"
#include "common/status.h"
#include "ledger/ledger.h"

namespace netledger::engine {

class LedgerPort {
 public:
  virtual ~LedgerPort() = default;

  // ---- what the wire is compared with ----
  // One lookup per query, all under one ledger lock (the worker's batches).
  virtual std::vector<ledger::WireFacts> lookupWire(
      std::span<const ledger::WireQuery> queries) const = 0;
  // kNotFound when absent or not visible to `actor`.
  virtual Result<ledger::BindingRecord> getBinding(const ledger::Actor& actor,
                                                   std::uint64_t id) const = 0;
  virtual std::vector<ledger::PoolView> listPools(const ledger::Actor& actor) const = 0;
  // Active bindings last changed before `before`, from `cursor` (0 first): at most `limit` ids
  // and the cursor to continue from (0 at the end).
  virtual std::pair<std::vector<std::uint64_t>, std::size_t> bindingsUnchangedSince(
      ledger::Millis before, std::size_t cursor, std::size_t limit) const = 0;
  // Durable events matching `query` (who held an address before: stale_binding).
  virtual Result<std::vector<ledger::EventRecord>> audit(const ledger::EventQuery& query) const = 0;

  // ---- where conflicts and policies are kept ----
  // Every document of `kind`, in key order.
  virtual std::vector<ledger::DocumentRecord> documents(const std::string& kind) const = 0;
  // `op` non-empty records an audit event; `if_version`, when set, is the version the document
  // must still have (0: absent), else kConflict; see Ledger::putDocument.
  virtual Result<ledger::Applied<ledger::DocumentRecord>> putDocument(
      const ledger::Actor& actor, ledger::DocumentRecord document, const std::string& op,
      const std::string& subject, std::optional<std::uint64_t> if_version) = 0;
  // kNotFound when absent.
  virtual Result<ledger::Applied<ledger::DocumentRecord>> deleteDocument(
      const ledger::Actor& actor, const std::string& kind, const std::string& key,
      const std::string& op, const std::string& subject) = 0;

  // ---- remediation ----
  // `ip` to quarantine, a fresh address from the same pool (kConflict for a static binding).
  virtual Result<ledger::Applied<ledger::BindingRecord>> reassignAddress(
      const ledger::Actor& actor, std::uint64_t id, const addr::IpAddress& ip) = 0;
  virtual Result<ledger::Applied<ledger::BindingRecord>> migrate(
      const ledger::Actor& actor, std::uint64_t id, const std::string& host,
      std::optional<addr::Mac> host_mac) = 0;
};

}  // namespace netledger::engine
