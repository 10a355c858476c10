#pragma once
// ProbeLedger: exactly what the ProbeCoordinator reads and writes of the ledger (the same
// contracts as the ledger::Ledger methods of the same names), and ProbeLedgerAdapter, which
// forwards them to a Ledger (which must outlive it). The daemon wires the adapter.

#include <cstdint>
#include <optional>
#include <string>

#include "addr/ip_address.h"
#include "common/status.h"
#include "ledger/ledger.h"

namespace netledger::server {

class ProbeLedger {
 public:
  virtual ~ProbeLedger() = default;

  // With request.probe set: the binding is created `reserved`.
  virtual Result<ledger::Applied<ledger::BindingRecord>> allocate(
      const ledger::Actor& actor, const ledger::AllocateRequest& request) = 0;
  // reserved -> active: every address was found free.
  virtual Result<ledger::Applied<ledger::BindingRecord>> activate(const ledger::Actor& actor,
                                                                  std::uint64_t id) = 0;
  // `ip` was found in use: to quarantine, and a fresh address from the same pool.
  virtual Result<ledger::Applied<ledger::BindingRecord>> reassignAddress(
      const ledger::Actor& actor, std::uint64_t id, const addr::IpAddress& ip) = 0;
  // Attempts ran out: the binding goes (its addresses to quarantine).
  virtual Result<ledger::Applied<ledger::BindingRecord>> release(const ledger::Actor& actor,
                                                                 std::uint64_t id) = 0;
  // kNotFound when absent or not visible to `actor`.
  virtual Result<ledger::BindingRecord> getBinding(const ledger::Actor& actor,
                                                   std::uint64_t id) const = 0;
  virtual Result<ledger::PoolView> getPool(const ledger::Actor& actor,
                                           const std::string& name) const = 0;
};

class ProbeLedgerAdapter final : public ProbeLedger {
 public:
  explicit ProbeLedgerAdapter(ledger::Ledger& ledger) : ledger_(ledger) {}

  Result<ledger::Applied<ledger::BindingRecord>> allocate(
      const ledger::Actor& actor, const ledger::AllocateRequest& request) override {
    return ledger_.allocate(actor, request);
  }
  Result<ledger::Applied<ledger::BindingRecord>> activate(const ledger::Actor& actor,
                                                          std::uint64_t id) override {
    return ledger_.activate(actor, id);
  }
  Result<ledger::Applied<ledger::BindingRecord>> reassignAddress(
      const ledger::Actor& actor, std::uint64_t id, const addr::IpAddress& ip) override {
    return ledger_.reassignAddress(actor, id, ip);
  }
  Result<ledger::Applied<ledger::BindingRecord>> release(const ledger::Actor& actor,
                                                         std::uint64_t id) override {
    return ledger_.release(actor, id);
  }
  Result<ledger::BindingRecord> getBinding(const ledger::Actor& actor,
                                           std::uint64_t id) const override {
    return ledger_.getBinding(actor, id);
  }
  Result<ledger::PoolView> getPool(const ledger::Actor& actor,
                                   const std::string& name) const override {
    return ledger_.getPool(actor, name);
  }

 private:
  ledger::Ledger& ledger_;
};

}  // namespace netledger::server
