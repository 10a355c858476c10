#include "engine/ledger_adapter.h"

namespace netledger::engine {

using ledger::Actor;
using ledger::Applied;
using ledger::BindingRecord;
using ledger::DocumentRecord;

std::vector<ledger::WireFacts> LedgerAdapter::lookupWire(
    std::span<const ledger::WireQuery> queries) const {
  return ledger_.lookupWire(queries);
}

Result<BindingRecord> LedgerAdapter::getBinding(const Actor& actor, std::uint64_t id) const {
  return ledger_.getBinding(actor, id);
}

std::vector<ledger::PoolView> LedgerAdapter::listPools(const Actor& actor) const {
  return ledger_.listPools(actor);
}

std::pair<std::vector<std::uint64_t>, std::size_t> LedgerAdapter::bindingsUnchangedSince(
    ledger::Millis before, std::size_t cursor, std::size_t limit) const {
  return ledger_.bindingsUnchangedSince(before, cursor, limit);
}

Result<std::vector<ledger::EventRecord>> LedgerAdapter::audit(
    const ledger::EventQuery& query) const {
  return ledger_.audit(query);
}

std::vector<DocumentRecord> LedgerAdapter::documents(const std::string& kind) const {
  return ledger_.documents(kind);
}

Result<Applied<DocumentRecord>> LedgerAdapter::putDocument(
    const Actor& actor, DocumentRecord document, const std::string& op, const std::string& subject,
    std::optional<std::uint64_t> if_version) {
  return ledger_.putDocument(actor, std::move(document), op, subject, {}, {}, if_version);
}

Result<Applied<DocumentRecord>> LedgerAdapter::deleteDocument(const Actor& actor,
                                                              const std::string& kind,
                                                              const std::string& key,
                                                              const std::string& op,
                                                              const std::string& subject) {
  return ledger_.deleteDocument(actor, kind, key, op, subject);
}

Result<Applied<BindingRecord>> LedgerAdapter::reassignAddress(const Actor& actor, std::uint64_t id,
                                                              const addr::IpAddress& ip) {
  return ledger_.reassignAddress(actor, id, ip);
}

Result<Applied<BindingRecord>> LedgerAdapter::migrate(const Actor& actor, std::uint64_t id,
                                                      const std::string& host,
                                                      std::optional<addr::Mac> host_mac) {
  return ledger_.migrate(actor, id, host, host_mac);
}

}  // namespace netledger::engine
