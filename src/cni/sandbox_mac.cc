#include "cni/sandbox_mac.h"

#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <system_error>
#include <thread>

namespace netledger::cni {

namespace {

// Closes a file descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// A socket of the network namespace at `ns_fd`: created by a thread that enters the namespace
// and then ends (a socket stays bound to the namespace it was created in). -1 on failure.
int socketIn(int ns_fd) {
  int fd = -1;
  try {
    std::thread entered([&] {
      if (::setns(ns_fd, CLONE_NEWNET) != 0) return;
      fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (fd < 0) fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    });
    entered.join();
  } catch (const std::system_error&) {  // no thread to be had: no MAC
    return -1;
  }
  return fd;
}

}  // namespace

std::optional<addr::Mac> sandboxInterfaceMac(const std::string& netns_path,
                                             const std::string& ifname) {
  if (netns_path.empty() || ifname.empty() || ifname.size() >= IFNAMSIZ) return std::nullopt;
  Fd ns(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (ns.get() < 0) return std::nullopt;
  Fd sock(socketIn(ns.get()));
  if (sock.get() < 0) return std::nullopt;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
  if (::ioctl(sock.get(), SIOCGIFHWADDR, &ifr) != 0) return std::nullopt;
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) return std::nullopt;
  std::uint64_t value = 0;
  for (int i = 0; i < 6; ++i) {
    value = (value << 8) | static_cast<unsigned char>(ifr.ifr_hwaddr.sa_data[i]);
  }
  const addr::Mac mac(value);
  if (mac.isZero() || mac.isMulticast()) return std::nullopt;
  return mac;
}

}  // namespace netledger::cni
