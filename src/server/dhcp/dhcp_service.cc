#include "server/dhcp/dhcp_service.h"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "server/dhcp/arp_prober.h"
#include "server/dhcp/dhcp_ledger.h"
#include "server/dhcp/dhcp_server.h"
#include "server/dhcp/dhcp_sockets.h"

namespace netledger::server {

struct DhcpService::Impl {
  std::unique_ptr<DhcpLedgerAdapter> ledger;
  std::unique_ptr<DhcpSockets> sockets;
  std::unique_ptr<ArpProber> prober;
  std::unique_ptr<DhcpServer> server;
  bool stopped = false;
};

namespace {

std::string hostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

void registerMetrics(metrics::Registry& m, const DhcpCounters& c) {
  using dhcp::MessageType;
  for (int t = 1; t <= 8; ++t) {
    const std::string type(dhcp::messageTypeName(static_cast<MessageType>(t)));
    m.counterCallback("netledger_dhcp_received_total", "DHCP messages received, by type.",
                      [&c, t] { return static_cast<double>(c.received[t].load()); },
                      {{"type", type}});
    m.counterCallback("netledger_dhcp_sent_total", "DHCP replies sent, by type.",
                      [&c, t] { return static_cast<double>(c.sent[t].load()); }, {{"type", type}});
  }
  for (std::size_t d = 0; d < kDhcpDropCount; ++d) {
    m.counterCallback("netledger_dhcp_dropped_total",
                      "DHCP packets answered with nothing, by reason.",
                      [&c, d] { return static_cast<double>(c.dropped[d].load()); },
                      {{"reason", std::string(dhcpDropName(static_cast<DhcpDrop>(d)))}});
  }
  for (std::size_t e = 1; e < dhcp::kParseErrorCount; ++e) {
    m.counterCallback(
        "netledger_dhcp_malformed_total", "DHCP packets the codec refused, by what was wrong.",
        [&c, e] { return static_cast<double>(c.malformed[e].load()); },
        {{"error", std::string(dhcp::parseErrorName(static_cast<dhcp::ParseError>(e)))}});
  }
  m.counterCallback("netledger_dhcp_probe_in_use_total",
                    "Addresses skipped (and quarantined) because a station answered the probe.",
                    [&c] { return static_cast<double>(c.probes_in_use.load()); });
  m.counterCallback("netledger_dhcp_declines_total", "DHCPDECLINE messages received.",
                    [&c] { return static_cast<double>(c.declines.load()); });
}

}  // namespace

Result<std::unique_ptr<DhcpService>> DhcpService::start(const DhcpConfig& config,
                                                        ledger::Ledger& ledger,
                                                        engine::Engine* engine, Clock& clock,
                                                        metrics::Registry& metrics) {
  auto impl = std::make_unique<Impl>();
  DhcpSocketsConfig sc{config.interfaces, std::nullopt, config.server_port, config.client_port};
  if (!config.relay_address.empty()) {
    auto relay = addr::Ipv4::parse(config.relay_address);
    if (!relay) return Status::invalidArgument("dhcp.relay_address: " + relay.status().message());
    sc.relay_address = *relay;
  }
  auto sockets = DhcpSockets::open(sc);
  if (!sockets) return sockets.status();
  impl->sockets = std::move(*sockets);
  if (!config.interfaces.empty()) {
    auto prober = ArpProber::open(config.interfaces, config.probe_wait);
    if (!prober) return prober.status();
    impl->prober = std::move(*prober);
  }
  impl->ledger = std::make_unique<DhcpLedgerAdapter>(ledger);
  impl->server =
      std::make_unique<DhcpServer>(*impl->ledger, clock, *impl->sockets, impl->prober.get(), engine,
                                   config.node.empty() ? hostName() : config.node);
  registerMetrics(metrics, impl->server->counters());
  impl->sockets->start(*impl->server);
  spdlog::info("dhcp: serving {} interface(s){}", config.interfaces.size(),
               config.relay_address.empty() ? "" : ", relays to " + config.relay_address + ":67");
  return std::unique_ptr<DhcpService>(new DhcpService(std::move(impl)));
}

DhcpService::DhcpService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DhcpService::~DhcpService() { stop(); }

void DhcpService::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->sockets->stop();
  if (impl_->prober) impl_->prober->stop();
}

}  // namespace netledger::server
