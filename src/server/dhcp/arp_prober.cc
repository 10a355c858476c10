#include "server/dhcp/arp_prober.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "wire/frames.h"

namespace netledger::server {
namespace {

Result<addr::Mac> hardwareAddress(int fd, const std::string& name) {
  ifreq req{};
  std::strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd, SIOCGIFHWADDR, &req) != 0)
    return Status::invalidArgument("dhcp_interfaces: " + name + ": " + std::strerror(errno));
  std::uint64_t v = 0;
  for (int i = 0; i < 6; ++i) v = (v << 8) | static_cast<std::uint8_t>(req.ifr_hwaddr.sa_data[i]);
  return addr::Mac(v);
}

Result<int> openPort(const std::string& name) {
  const unsigned index = ::if_nametoindex(name.c_str());
  if (index == 0) return Status::invalidArgument("dhcp_interfaces: " + name + " does not exist");
  int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ARP));
  if (fd < 0)
    return Status::unavailable(std::string("dhcp probe: packet socket: ") + std::strerror(errno));
  sockaddr_ll sa{};
  sa.sll_family = AF_PACKET;
  sa.sll_protocol = htons(ETH_P_ARP);
  sa.sll_ifindex = static_cast<int>(index);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    Status s = Status::unavailable("dhcp probe: bind " + name + ": " + std::strerror(errno));
    ::close(fd);
    return s;
  }
  return fd;
}

}  // namespace

Result<std::unique_ptr<ArpProber>> ArpProber::open(const std::vector<std::string>& interfaces,
                                                   std::chrono::milliseconds wait) {
  std::unique_ptr<ArpProber> p(new ArpProber(wait));
  p->ports_.reserve(interfaces.size());
  for (const std::string& name : interfaces) {
    auto fd = openPort(name);
    if (!fd) return fd.status();
    p->ports_.push_back({*fd, name});
    if (auto mac = hardwareAddress(*fd, name); !mac) return mac.status();
  }
  p->wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (p->wake_fd_ < 0) return Status::unavailable("dhcp probe: eventfd");
  p->thread_ = std::thread([raw = p.get()] { raw->loop(); });
  return p;
}

ArpProber::~ArpProber() {
  stop();
  for (const Port& port : ports_) ::close(port.fd);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void ArpProber::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  const std::uint64_t one = 1;
  (void)::write(wake_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
}

void ArpProber::probe(const std::string& interface, addr::Ipv4 target,
                      std::function<void(std::optional<addr::Mac>)> done) {
  auto port = std::find_if(ports_.begin(), ports_.end(),
                           [&](const Port& p) { return p.name == interface; });
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && port != ports_.end()) {
      queued_.push_back({&*port, target, addr::Mac(), {}, std::move(done)});
      done = nullptr;
    }
  }
  if (done) return done(std::nullopt);  // nowhere to probe: nothing answered
  const std::uint64_t one = 1;
  (void)::write(wake_fd_, &one, sizeof one);
}

void ArpProber::sendProbe(Pending& p) const {
  auto mac = hardwareAddress(p.port->fd, p.port->name);
  if (!mac) return;  // the interface went away: nothing will answer, the probe times out
  p.own = *mac;
  const auto frame = wire::buildArpProbe(p.own, p.target);
  (void)::send(p.port->fd, frame.data.data(), frame.size, 0);
}

void ArpProber::readPort(const Port& port, std::vector<Pending>& pending) {
  std::uint8_t buffer[1600];
  for (;;) {
    const ssize_t n = ::recv(port.fd, buffer, sizeof buffer, 0);
    if (n <= 0) return;
    wire::Frame f;
    if (wire::parseFrame({buffer, static_cast<std::size_t>(n)}, f) != wire::ParseError::kOk)
      continue;
    if (!wire::isArp(f.kind) || f.sender_ip.value() == 0) continue;
    for (auto it = pending.begin(); it != pending.end();) {
      // Any sender, this host included: an address of our own is in use as much as another's
      // (the probe itself has sender IP 0 and was skipped above).
      if (it->port != &port || it->target != f.sender_ip) {
        ++it;
        continue;
      }
      auto done = std::move(it->done);
      it = pending.erase(it);
      done(f.sender_mac);
    }
  }
}

void ArpProber::expire(std::vector<Pending>& pending, bool all) {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = pending.begin(); it != pending.end();) {
    if (!all && it->deadline > now) {
      ++it;
      continue;
    }
    auto done = std::move(it->done);
    it = pending.erase(it);
    done(std::nullopt);
  }
}

void ArpProber::loop() {
  std::vector<Pending> pending;
  std::vector<pollfd> fds;
  fds.push_back({wake_fd_, POLLIN, 0});
  for (const Port& port : ports_) fds.push_back({port.fd, POLLIN, 0});
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
      for (auto& p : queued_) {
        p.deadline = std::chrono::steady_clock::now() + wait_;
        sendProbe(p);
        pending.push_back(std::move(p));
      }
      queued_.clear();
    }
    int timeout = 1000;
    for (const Pending& p : pending) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          p.deadline - std::chrono::steady_clock::now());
      timeout = std::min<int>(timeout, static_cast<int>(std::max<std::int64_t>(0, left.count())));
    }
    if (::poll(fds.data(), fds.size(), timeout) > 0) {
      std::uint64_t drained = 0;
      if ((fds[0].revents & POLLIN) != 0) (void)::read(wake_fd_, &drained, sizeof drained);
      for (std::size_t i = 1; i < fds.size(); ++i)
        if ((fds[i].revents & POLLIN) != 0) readPort(ports_[i - 1], pending);
    }
    expire(pending, false);
  }
  std::deque<Pending> queued;
  {
    std::lock_guard lock(mu_);
    queued.swap(queued_);
  }
  for (auto& p : queued) pending.push_back(std::move(p));
  expire(pending, true);
}

}  // namespace netledger::server
