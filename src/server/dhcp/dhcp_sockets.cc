#include "server/dhcp/dhcp_sockets.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace netledger::server {
namespace {

sockaddr_in socketAddress(addr::Ipv4 ip, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(ip.value());
  return sa;
}

Status socketError(const std::string& what) {
  return Status::unavailable("dhcp: " + what + ": " + std::strerror(errno));
}

Result<int> openSocket(const std::string& interface, addr::Ipv4 bind_ip, std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return socketError("socket");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
  // A burst of clients (a rack booting) must queue, not overflow: 4 MiB (the kernel caps it at
  // net.core.rmem_max unless privileged, which SO_RCVBUFFORCE then lifts).
  const int buffer = 4 << 20;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer) != 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  if (!interface.empty() && ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, interface.c_str(),
                                         static_cast<socklen_t>(interface.size())) != 0) {
    Status s = socketError("SO_BINDTODEVICE " + interface);
    ::close(fd);
    return s;
  }
  sockaddr_in sa = socketAddress(bind_ip, port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    Status s = socketError("bind " + bind_ip.toString() + ":" + std::to_string(port) +
                           (interface.empty() ? "" : " on " + interface));
    ::close(fd);
    return s;
  }
  return fd;
}

}  // namespace

Result<addr::Ipv4> interfaceAddress(const std::string& interface) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return socketError("getifaddrs");
  std::optional<addr::Ipv4> found;
  bool exists = false;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_name == nullptr || interface != i->ifa_name) continue;
    exists = true;
    if (found || i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    found = addr::Ipv4(ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr));
  }
  ::freeifaddrs(list);
  if (!found) {
    return Status::invalidArgument("dhcp_interfaces: " + interface +
                                   (exists ? " has no IPv4 address" : " does not exist"));
  }
  return *found;
}

Result<std::unique_ptr<DhcpSockets>> DhcpSockets::open(const DhcpSocketsConfig& config) {
  std::unique_ptr<DhcpSockets> s(new DhcpSockets(config));
  for (const std::string& name : config.interfaces) {
    auto address = interfaceAddress(name);
    if (!address) return address.status();
    auto fd = openSocket(name, addr::Ipv4(), config.server_port);
    if (!fd) return fd.status();
    s->endpoints_.push_back({*fd, name, *address});
  }
  if (config.relay_address) {
    auto fd = openSocket("", *config.relay_address, config.server_port);
    if (!fd) return fd.status();
    s->endpoints_.push_back({*fd, "", *config.relay_address});
  }
  return s;
}

DhcpSockets::~DhcpSockets() {
  stop();
  for (const Endpoint& e : endpoints_) ::close(e.fd);
}

void DhcpSockets::start(DhcpServer& server) {
  for (const Endpoint& e : endpoints_)
    threads_.emplace_back([this, &e, &server] { receiveLoop(e, server); });
}

void DhcpSockets::stop() {
  stopping_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void DhcpSockets::receiveLoop(const Endpoint& endpoint, DhcpServer& server) {
  std::vector<std::uint8_t> buffer(dhcp::kMaxPacket + 1);
  const DhcpArrival arrival{endpoint.interface, endpoint.address};
  while (!stopping_) {
    pollfd p{endpoint.fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    // MSG_TRUNC: the real length, so an oversized datagram is refused rather than cut.
    const ssize_t n = ::recv(endpoint.fd, buffer.data(), buffer.size(), MSG_TRUNC);
    if (n < 0) continue;
    const auto size = std::min(static_cast<std::size_t>(n), buffer.size());
    if (static_cast<std::size_t>(n) > dhcp::kMaxPacket) {
      std::vector<std::uint8_t> oversized(static_cast<std::size_t>(n), 0);
      server.receive(oversized, arrival);
      continue;
    }
    server.receive(std::span(buffer.data(), size), arrival);
  }
}

const DhcpSockets::Endpoint* DhcpSockets::endpointFor(const DhcpReply& reply) const {
  for (const Endpoint& e : endpoints_)
    if (e.interface == reply.interface) return &e;
  return endpoints_.empty() ? nullptr : &endpoints_.front();
}

bool DhcpSockets::writeNeighbour(const Endpoint& endpoint, addr::Ipv4 ip, addr::Mac mac) const {
  arpreq req{};
  sockaddr_in pa = socketAddress(ip, 0);
  std::memcpy(&req.arp_pa, &pa, sizeof pa);
  req.arp_ha.sa_family = ARPHRD_ETHER;
  for (int i = 0; i < 6; ++i) req.arp_ha.sa_data[i] = static_cast<char>(mac.octet(i));
  req.arp_flags = ATF_COM;
  std::strncpy(req.arp_dev, endpoint.interface.c_str(), sizeof req.arp_dev - 1);
  return ::ioctl(endpoint.fd, SIOCSARP, &req) == 0;
}

void DhcpSockets::send(const DhcpReply& reply) {
  const Endpoint* e = endpointFor(reply);
  if (e == nullptr) return;
  sockaddr_in to{};
  switch (reply.to) {
    case ReplyTo::kRelay:
      to = socketAddress(reply.address, config_.server_port);
      break;
    case ReplyTo::kClient:
      to = socketAddress(reply.address, config_.client_port);
      break;
    case ReplyTo::kHardware:
      if (!e->interface.empty() && writeNeighbour(*e, reply.address, reply.mac)) {
        to = socketAddress(reply.address, config_.client_port);
        break;
      }
      [[fallthrough]];
    case ReplyTo::kBroadcast:
      to = socketAddress(addr::Ipv4(0xffffffffu), config_.client_port);
      break;
  }
  if (::sendto(e->fd, reply.bytes.data(), reply.bytes.size(), 0,
               reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0) {
    spdlog::debug("dhcp: sendto {} failed: {}", addr::Ipv4(ntohl(to.sin_addr.s_addr)).toString(),
                  std::strerror(errno));
  }
}

}  // namespace netledger::server
