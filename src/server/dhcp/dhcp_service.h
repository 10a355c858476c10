#pragma once
// DhcpService: netledgerd's DHCPv4 server put together — the ledger seam, the UDP sockets, the
// ARP prober and the DhcpServer — and its counters in /metrics. The daemon starts it when
// `dhcp.interfaces` or `dhcp.relay_address` is configured.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "ledger/ledger.h"
#include "metrics/registry.h"

namespace netledger::engine {
class Engine;
}

namespace netledger::server {

struct DhcpConfig {
  std::vector<std::string> interfaces;  // served directly (broadcasts on the link)
  std::string relay_address;            // relayed traffic to ADDR:67 ("": none)
  std::string node;                     // the host recorded in the bindings ("": hostname)
  std::chrono::milliseconds probe_wait{250};
  std::uint16_t server_port = 67;
  std::uint16_t client_port = 68;
  bool enabled() const { return !interfaces.empty() || !relay_address.empty(); }
};

class DhcpService {
 public:
  // kInvalidArgument naming a bad interface or address; kUnavailable when a socket cannot be
  // opened. `ledger`, `clock`, `metrics` and `engine` (may be null) must outlive the service.
  static Result<std::unique_ptr<DhcpService>> start(const DhcpConfig& config,
                                                    ledger::Ledger& ledger, engine::Engine* engine,
                                                    Clock& clock, metrics::Registry& metrics);
  ~DhcpService();
  // Stops receiving and probing; replies still waiting for durability may still be sent
  // until the ledger closes. Idempotent.
  void stop();

  struct Impl;

 private:
  explicit DhcpService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace netledger::server
