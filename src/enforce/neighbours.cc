#include "enforce/neighbours.h"

#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

namespace netledger::enforce {
namespace {

// One RTM_*NEIGH request: header, ndmsg, then attributes appended in place.
struct Request {
  nlmsghdr header;
  ndmsg body;
  std::array<char, 128> attrs;
};

void addAttr(Request& r, std::uint16_t type, const void* data, std::size_t len) {
  auto* rta =
      reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&r) + NLMSG_ALIGN(r.header.nlmsg_len));
  rta->rta_type = type;
  rta->rta_len = static_cast<std::uint16_t>(RTA_LENGTH(len));
  std::memcpy(RTA_DATA(rta), data, len);
  r.header.nlmsg_len = NLMSG_ALIGN(r.header.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

std::array<std::uint8_t, 6> macBytes(addr::Mac mac) {
  std::array<std::uint8_t, 6> b{};
  for (int i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(mac.value() >> (40 - 8 * i));
  return b;
}

addr::Mac macFrom(const std::uint8_t* b) {
  std::uint64_t v = 0;
  for (int i = 0; i < 6; ++i) v = (v << 8) | b[i];
  return addr::Mac(v);
}

// A permanent entry on the device, and whether it carries our mark.
struct Entry {
  PinnedNeighbour n;
  bool ours = false;
};

std::optional<addr::IpAddress> ipFrom(const std::uint8_t* data, std::size_t n) {
  if (n == 4) {
    return addr::IpAddress(
        addr::Ipv4((std::uint32_t(data[0]) << 24) | (data[1] << 16) | (data[2] << 8) | data[3]));
  }
  if (n != 16) return std::nullopt;
  std::array<std::uint8_t, 16> b{};
  std::memcpy(b.data(), data, 16);
  return addr::IpAddress(addr::Ipv6::fromBytes(b));
}

// The permanent entry on `ifindex` an RTM_NEWNEIGH message describes, if it is one.
std::optional<Entry> entryOf(const nlmsghdr* h, int ifindex) {
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ndmsg))) return std::nullopt;
  const auto* nd = static_cast<const ndmsg*>(NLMSG_DATA(h));
  if (nd->ndm_ifindex != ifindex || !(nd->ndm_state & NUD_PERMANENT)) return std::nullopt;
  int len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(ndmsg)));
  std::optional<addr::IpAddress> ip;
  std::optional<addr::Mac> mac;
  bool ours = false;
  auto* a = reinterpret_cast<const rtattr*>(reinterpret_cast<const char*>(nd) +
                                            NLMSG_ALIGN(sizeof(ndmsg)));
  for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    const auto* data = static_cast<const std::uint8_t*>(RTA_DATA(a));
    const std::size_t n = RTA_PAYLOAD(a);
    if (a->rta_type == NDA_PROTOCOL && n == 1) ours = data[0] == kNeighbourProtocol;
    if (a->rta_type == NDA_LLADDR && n == 6) mac = macFrom(data);
    if (a->rta_type == NDA_DST) ip = ipFrom(data, n);
  }
  if (!ip || !mac) return std::nullopt;
  return Entry{{*ip, *mac}, ours};
}

// NLMSG_OK / NLMSG_NEXT without their signed/unsigned comparisons.
bool fits(const nlmsghdr* h, std::size_t left) {
  return left >= sizeof(nlmsghdr) && h->nlmsg_len >= sizeof(nlmsghdr) && h->nlmsg_len <= left;
}
nlmsghdr* next(nlmsghdr* h, std::size_t& left) {
  const std::size_t step = std::min<std::size_t>(NLMSG_ALIGN(h->nlmsg_len), left);
  left -= step;
  return reinterpret_cast<nlmsghdr*>(reinterpret_cast<char*>(h) + step);
}

Status sendRequest(int fd, const Request& r) {
  if (send(fd, &r, r.header.nlmsg_len, 0) < 0) {
    return Status::unavailable(std::string("neighbours: send: ") + std::strerror(errno));
  }
  return Status::ok();
}

// Reads the kernel's answers to request `seq` until `visit` (called for each of its messages)
// returns a verdict. Messages of other requests (a late answer) are skipped; EINTR is retried.
template <typename Visit>
Status awaitAnswer(int fd, std::uint32_t seq, Visit visit) {
  std::array<char, 32768> buf;
  for (;;) {
    ssize_t got = recv(fd, buf.data(), buf.size(), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return Status::unavailable("neighbours: no (complete) answer from the kernel");
    std::size_t left = static_cast<std::size_t>(got);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); fits(h, left); h = next(h, left)) {
      if (h->nlmsg_seq != seq) continue;
      if (std::optional<Status> verdict = visit(h)) return *verdict;
    }
  }
}

Result<int> ifindexOf(const std::string& device) {
  unsigned idx = if_nametoindex(device.c_str());
  if (idx == 0) return Status::notFound("neighbours: no interface \"" + device + "\"");
  return static_cast<int>(idx);
}

}  // namespace

Result<std::unique_ptr<NeighbourPins>> NeighbourPins::open() {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0)
    return Status::unavailable(std::string("neighbours: netlink: ") + std::strerror(errno));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    ::close(fd);
    return Status::unavailable(std::string("neighbours: netlink bind: ") + std::strerror(errno));
  }
  timeval timeout{2, 0};  // a kernel that never answers must not hang the enforcer
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return std::unique_ptr<NeighbourPins>(new NeighbourPins(fd));
}

NeighbourPins::NeighbourPins(int fd) : fd_(fd) {}
NeighbourPins::~NeighbourPins() { ::close(fd_); }

Status NeighbourPins::change(int type, int flags, int ifindex, const PinnedNeighbour& n) {
  Request r{};
  r.header.nlmsg_len = NLMSG_LENGTH(sizeof(ndmsg));
  r.header.nlmsg_type = static_cast<std::uint16_t>(type);
  r.header.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
  r.header.nlmsg_seq = ++seq_;
  r.body.ndm_family = n.ip.isV4() ? AF_INET : AF_INET6;
  r.body.ndm_ifindex = ifindex;
  r.body.ndm_state = NUD_PERMANENT;
  if (n.ip.isV4()) {
    const std::uint32_t v = htonl(n.ip.v4().value());
    addAttr(r, NDA_DST, &v, 4);
  } else {
    const auto b = n.ip.v6().toBytes();
    addAttr(r, NDA_DST, b.data(), 16);
  }
  const auto mac = macBytes(n.mac);
  addAttr(r, NDA_LLADDR, mac.data(), mac.size());
  addAttr(r, NDA_PROTOCOL, &kNeighbourProtocol, 1);
  NL_RETURN_IF_ERROR(sendRequest(fd_, r));
  return awaitAnswer(fd_, r.header.nlmsg_seq, [&](const nlmsghdr* h) -> std::optional<Status> {
    if (h->nlmsg_type != NLMSG_ERROR) return std::nullopt;
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
      return Status::unavailable("neighbours: a short answer from the kernel");
    }
    const int err = static_cast<const nlmsgerr*>(NLMSG_DATA(h))->error;
    if (err == 0) return Status::ok();
    return Status::unavailable("neighbours: " + n.ip.toString() + " " + n.mac.toString() + ": " +
                               std::strerror(-err));
  });
}

namespace {

// Every permanent entry on `ifindex`, ours or not. An interrupted dump (the table changed while
// it was read) is an error: a partial list must not decide what to delete.
Result<std::vector<Entry>> dumpEntries(int fd, std::uint32_t seq, int ifindex) {
  Request r{};
  r.header.nlmsg_len = NLMSG_LENGTH(sizeof(ndmsg));
  r.header.nlmsg_type = RTM_GETNEIGH;
  r.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  r.header.nlmsg_seq = seq;
  r.body.ndm_family = AF_UNSPEC;
  NL_RETURN_IF_ERROR(sendRequest(fd, r));
  std::vector<Entry> out;
  bool interrupted = false;
  Status done = awaitAnswer(fd, seq, [&](const nlmsghdr* h) -> std::optional<Status> {
    interrupted = interrupted || (h->nlmsg_flags & NLM_F_DUMP_INTR);
    if (h->nlmsg_type == NLMSG_ERROR) return Status::unavailable("neighbours: the dump failed");
    if (h->nlmsg_type == NLMSG_DONE) {
      if (interrupted) return Status::unavailable("neighbours: the dump was interrupted");
      return Status::ok();
    }
    if (h->nlmsg_type == RTM_NEWNEIGH) {
      if (auto e = entryOf(h, ifindex)) out.push_back(*e);
    }
    return std::nullopt;
  });
  if (!done.isOk()) return done;
  return out;
}

}  // namespace

Result<std::vector<PinnedNeighbour>> NeighbourPins::pinned(const std::string& device) {
  auto ifindex = ifindexOf(device);
  if (!ifindex) return ifindex.status();
  auto entries = dumpEntries(fd_, ++seq_, *ifindex);
  if (!entries) return entries.status();
  std::vector<PinnedNeighbour> ours;
  for (const Entry& e : *entries) {
    if (e.ours) ours.push_back(e.n);
  }
  return ours;
}

// An operator's own permanent entry for an address wins over the ledger's pair (it is never
// replaced, so never marked ours and later deleted). A refused change does not stop the others:
// the first error is reported after all were tried.
Status NeighbourPins::sync(const std::string& device, const std::vector<PinnedNeighbour>& want) {
  auto ifindex = ifindexOf(device);
  if (!ifindex) return ifindex.status();
  auto entries = dumpEntries(fd_, ++seq_, *ifindex);
  if (!entries) return entries.status();
  auto holds = [&](const addr::IpAddress& ip, bool ours) {
    return std::any_of(entries->begin(), entries->end(),
                       [&](const Entry& e) { return e.ours == ours && e.n.ip == ip; });
  };
  Status first = Status::ok();
  auto keep = [&first](Status s) {
    if (first.isOk() && !s.isOk()) first = std::move(s);
  };
  for (const Entry& e : *entries) {
    const bool wanted =
        std::any_of(want.begin(), want.end(), [&](const auto& w) { return w.ip == e.n.ip; });
    if (e.ours && !wanted) keep(change(RTM_DELNEIGH, 0, *ifindex, e.n));
  }
  for (const PinnedNeighbour& n : want) {
    const bool same = std::any_of(entries->begin(), entries->end(),
                                  [&](const Entry& e) { return e.ours && e.n == n; });
    if (same || holds(n.ip, false)) continue;
    keep(change(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, *ifindex, n));
  }
  return first;
}

}  // namespace netledger::enforce
