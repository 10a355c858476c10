#pragma once
// LedgerAdapter: the engine's LedgerPort over the real ledger::Ledger (which must outlive it).

#include "engine/ledger_port.h"
#include "ledger/ledger.h"

namespace netledger::engine {

class LedgerAdapter final : public LedgerPort {
 public:
  explicit LedgerAdapter(ledger::Ledger& ledger) : ledger_(ledger) {}

  std::vector<ledger::WireFacts> lookupWire(
      std::span<const ledger::WireQuery> queries) const override;
  Result<ledger::BindingRecord> getBinding(const ledger::Actor& actor,
                                           std::uint64_t id) const override;
  std::vector<ledger::PoolView> listPools(const ledger::Actor& actor) const override;
  std::pair<std::vector<std::uint64_t>, std::size_t> bindingsUnchangedSince(
      ledger::Millis before, std::size_t cursor, std::size_t limit) const override;
  Result<std::vector<ledger::EventRecord>> audit(const ledger::EventQuery& query) const override;
  std::vector<ledger::DocumentRecord> documents(const std::string& kind) const override;
  Result<ledger::Applied<ledger::DocumentRecord>> putDocument(
      const ledger::Actor& actor, ledger::DocumentRecord document, const std::string& op,
      const std::string& subject, std::optional<std::uint64_t> if_version) override;
  Result<ledger::Applied<ledger::DocumentRecord>> deleteDocument(
      const ledger::Actor& actor, const std::string& kind, const std::string& key,
      const std::string& op, const std::string& subject) override;
  Result<ledger::Applied<ledger::BindingRecord>> reassignAddress(
      const ledger::Actor& actor, std::uint64_t id, const addr::IpAddress& ip) override;
  Result<ledger::Applied<ledger::BindingRecord>> migrate(
      const ledger::Actor& actor, std::uint64_t id, const std::string& host,
      std::optional<addr::Mac> host_mac) override;

 private:
  ledger::Ledger& ledger_;
};

}  // namespace netledger::engine
