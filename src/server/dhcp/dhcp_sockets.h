#pragma once
// DhcpSockets: the DHCP server's UDP I/O on Linux. One socket per serving interface (bound to
// 0.0.0.0:67 and to the device, so broadcasts from clients on that link arrive there and
// replies leave through it) and, optionally, one on the relay address (relayed traffic to
// ADDR:67). One receiving thread per socket hands each datagram to the DhcpServer; replies are
// sent from whichever thread completes them (send is thread-safe).
//
// Unicast to a client that has no address yet (RFC 2131 4.1, broadcast bit clear) needs the
// client's MAC without ARP: a neighbour entry (SIOCSARP, complete, not permanent: the kernel
// ages it like a learnt one) is written for yiaddr first. If that fails the reply is broadcast, as
// the RFC allows.

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "addr/ipv4.h"
#include "common/status.h"
#include "server/dhcp/dhcp_server.h"

namespace netledger::server {

struct DhcpSocketsConfig {
  std::vector<std::string> interfaces;
  std::optional<addr::Ipv4> relay_address;  // relayed traffic: ADDR:67
  std::uint16_t server_port = 67;           // tests may use others
  std::uint16_t client_port = 68;
};

class DhcpSockets final : public DhcpReplySink {
 public:
  // Opens every socket: kInvalidArgument naming an interface that does not exist or has no
  // IPv4 address, kUnavailable when a socket cannot be bound (port 67 needs
  // CAP_NET_BIND_SERVICE).
  static Result<std::unique_ptr<DhcpSockets>> open(const DhcpSocketsConfig& config);
  ~DhcpSockets() override;

  // Starts the receiving threads; `server` must outlive stop().
  void start(DhcpServer& server);
  void stop();

  void send(const DhcpReply& reply) override;

 private:
  struct Endpoint {
    int fd = -1;
    std::string interface;  // "" for the relay socket
    addr::Ipv4 address;     // ours on that link: the server identifier
  };
  explicit DhcpSockets(DhcpSocketsConfig config) : config_(std::move(config)) {}
  void receiveLoop(const Endpoint& endpoint, DhcpServer& server);
  const Endpoint* endpointFor(const DhcpReply& reply) const;
  bool writeNeighbour(const Endpoint& endpoint, addr::Ipv4 ip, addr::Mac mac) const;

  DhcpSocketsConfig config_;
  std::vector<Endpoint> endpoints_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
};

// The first IPv4 address of `interface`, kInvalidArgument when absent.
Result<addr::Ipv4> interfaceAddress(const std::string& interface);

}  // namespace netledger::server
