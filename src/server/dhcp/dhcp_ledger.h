#pragma once
// DhcpLedger: exactly what the DHCP server reads and writes of the ledger (the contracts of the
// ledger::Ledger methods of the same names), and DhcpLedgerAdapter, which forwards them to a
// Ledger that must outlive it. Tests put a recording fake in between for fault injection.

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "addr/ip_address.h"
#include "addr/mac.h"
#include "common/status.h"
#include "ledger/ledger.h"

namespace netledger::server {

class DhcpLedger {
 public:
  virtual ~DhcpLedger() = default;
  virtual std::vector<ledger::PoolView> listPools(const ledger::Actor& actor) const = 0;
  virtual Result<ledger::BindingRecord> holderOfMac(const ledger::Actor& actor,
                                                    addr::Mac mac) const = 0;
  virtual Result<ledger::BindingRecord> holderOfAddress(const ledger::Actor& actor,
                                                        const addr::IpAddress& ip) const = 0;
  virtual Result<ledger::Applied<ledger::BindingRecord>> allocate(
      const ledger::Actor& actor, const ledger::AllocateRequest& request) = 0;
  virtual Result<ledger::Applied<ledger::BindingRecord>> renew(const ledger::Actor& actor,
                                                               std::uint64_t id,
                                                               std::int64_t ttl_s) = 0;
  virtual Result<ledger::Applied<ledger::BindingRecord>> activate(const ledger::Actor& actor,
                                                                  std::uint64_t id) = 0;
  virtual Result<ledger::Applied<ledger::BindingRecord>> release(const ledger::Actor& actor,
                                                                 std::uint64_t id) = 0;
  virtual Result<ledger::Applied<ledger::BindingRecord>> reassignAddress(
      const ledger::Actor& actor, std::uint64_t id, const addr::IpAddress& ip) = 0;
  virtual void whenDurable(std::uint64_t ticket, std::function<void(Status)> done) = 0;
};

class DhcpLedgerAdapter final : public DhcpLedger {
 public:
  explicit DhcpLedgerAdapter(ledger::Ledger& ledger) : ledger_(ledger) {}

  std::vector<ledger::PoolView> listPools(const ledger::Actor& actor) const override {
    return ledger_.listPools(actor);
  }
  Result<ledger::BindingRecord> holderOfMac(const ledger::Actor& actor,
                                            addr::Mac mac) const override {
    return ledger_.holderOfMac(actor, mac);
  }
  Result<ledger::BindingRecord> holderOfAddress(const ledger::Actor& actor,
                                                const addr::IpAddress& ip) const override {
    return ledger_.holderOfAddress(actor, ip);
  }
  Result<ledger::Applied<ledger::BindingRecord>> allocate(
      const ledger::Actor& actor, const ledger::AllocateRequest& request) override {
    return ledger_.allocate(actor, request);
  }
  Result<ledger::Applied<ledger::BindingRecord>> renew(const ledger::Actor& actor, std::uint64_t id,
                                                       std::int64_t ttl_s) override {
    return ledger_.renew(actor, id, ttl_s);
  }
  Result<ledger::Applied<ledger::BindingRecord>> activate(const ledger::Actor& actor,
                                                          std::uint64_t id) override {
    return ledger_.activate(actor, id);
  }
  Result<ledger::Applied<ledger::BindingRecord>> release(const ledger::Actor& actor,
                                                         std::uint64_t id) override {
    return ledger_.release(actor, id);
  }
  Result<ledger::Applied<ledger::BindingRecord>> reassignAddress(
      const ledger::Actor& actor, std::uint64_t id, const addr::IpAddress& ip) override {
    return ledger_.reassignAddress(actor, id, ip);
  }
  void whenDurable(std::uint64_t ticket, std::function<void(Status)> done) override {
    ledger_.whenDurable(ticket, std::move(done));
  }

 private:
  ledger::Ledger& ledger_;
};

}  // namespace netledger::server
