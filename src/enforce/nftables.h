#pragma once
// A thin wrapper around libnftables: run one script as one kernel transaction, read the
// netledger table's counters. libnftables stays inside enforce/nftables.cc.
//
//   auto nft = Nftables::open();
//   if (!nft) return nft.status();
//   NL_RETURN_IF_ERROR((*nft)->run(*renderRuleset(spec)));  // all of it, or none of it
//   auto counts = (*nft)->dropCounts();                     // by DropClass name
//
// Needs CAP_NET_ADMIN in the network namespace the process runs in. Not thread-safe: one
// owner (the agent's enforcer thread).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace netledger::enforce {

// What keeping the table needs of nftables: Nftables below, a fake in the agent's unit tests.
class TableLoader {
 public:
  virtual ~TableLoader() = default;
  // Runs `script` as one transaction: on any error nothing of it is applied.
  virtual Status run(std::string_view script) = 0;
  // The netledger table's named counters (packets), by name; not_found without the table.
  virtual Result<std::map<std::string, std::uint64_t>> dropCounts() = 0;
  // Whether `table inet netledger` (the port forwards) is there.
  virtual bool hasForwards() = 0;
};

class Nftables final : public TableLoader {
 public:
  // unavailable when libnftables cannot make a context.
  static Result<std::unique_ptr<Nftables>> open();
  ~Nftables() override;
  Nftables(const Nftables&) = delete;
  Nftables& operator=(const Nftables&) = delete;

  // Runs `script` as one transaction: on any error nothing of it is applied, and the status
  // (unavailable) carries nft's own message.
  Status run(std::string_view script) override;

  // The netledger tables' named counters (packets), by name, the bridge table's and the host
  // interfaces' summed; not_found when the bridge table is not there.
  Result<std::map<std::string, std::uint64_t>> dropCounts() override;
  bool hasForwards() override;

 private:
  struct Ctx;
  explicit Nftables(std::unique_ptr<Ctx> ctx);
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace netledger::enforce
