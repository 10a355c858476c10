#include "enforce/drop_log.h"

#include <net/if.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>

extern "C" {
#include <libnetfilter_log/libnetfilter_log.h>
}

namespace netledger::enforce {

std::optional<LoggedDrop> parseLoggedDrop(std::string_view prefix, std::string interface,
                                          std::span<const std::uint8_t> hwhdr,
                                          std::span<const std::uint8_t> payload) {
  auto cls = [&]() -> std::optional<DropClass> {
    for (DropClass c : kDropClasses) {
      if (dropClassName(c) == prefix) return c;
    }
    return std::nullopt;
  }();
  if (!cls || hwhdr.size() < 12) return std::nullopt;
  LoggedDrop d;
  d.cls = *cls;
  d.interface = std::move(interface);
  std::uint64_t mac = 0;
  for (int i = 6; i < 12; ++i) mac = (mac << 8) | hwhdr[static_cast<std::size_t>(i)];
  d.mac = addr::Mac(mac);
  if (payload.size() >= 20 && (payload[0] >> 4) == 4) {
    std::uint32_t v = 0;
    for (int i = 12; i < 16; ++i) v = (v << 8) | payload[static_cast<std::size_t>(i)];
    d.ip = addr::IpAddress(addr::Ipv4(v));
  } else if (payload.size() >= 40 && (payload[0] >> 4) == 6) {
    addr::uint128 v = 0;
    for (int i = 8; i < 24; ++i) v = (v << 8) | payload[static_cast<std::size_t>(i)];
    d.ip = addr::IpAddress(addr::Ipv6(v));
  }
  return d;
}

struct DropLog::Impl {
  nflog_handle* h = nullptr;
  nflog_g_handle* gh = nullptr;
  const std::function<void(const LoggedDrop&)>* each = nullptr;
  ~Impl() {
    if (gh) nflog_unbind_group(gh);
    if (h) nflog_close(h);
  }

  static int onPacket(nflog_g_handle*, nfgenmsg*, nflog_data* nfa, void* data) {
    auto* self = static_cast<Impl*>(data);
    const char* prefix = nflog_get_prefix(nfa);
    char* hw = nflog_get_msg_packet_hwhdr(nfa);
    const std::uint16_t hwlen = nflog_get_msg_packet_hwhdrlen(nfa);
    char* payload = nullptr;
    const int len = nflog_get_payload(nfa, &payload);
    char name[IF_NAMESIZE] = {};
    // In the bridge family the in-device is the bridge; the port is the physical in-device.
    const std::uint32_t physical = nflog_get_physindev(nfa);
    const std::uint32_t indev = physical != 0 ? physical : nflog_get_indev(nfa);
    if (prefix == nullptr || hw == nullptr || indev == 0 ||
        if_indextoname(indev, name) == nullptr) {
      return 0;
    }
    auto d = parseLoggedDrop(prefix, name, {reinterpret_cast<const std::uint8_t*>(hw), hwlen},
                             {reinterpret_cast<const std::uint8_t*>(payload),
                              payload != nullptr && len > 0 ? static_cast<std::size_t>(len) : 0});
    if (d && self->each) (*self->each)(*d);
    return 0;
  }
};

Result<std::unique_ptr<DropLog>> DropLog::open(std::uint16_t group) {
  auto impl = std::make_unique<Impl>();
  impl->h = nflog_open();
  if (impl->h == nullptr) return Status::unavailable("nflog: cannot open a netlink socket");
  impl->gh = nflog_bind_group(impl->h, group);
  if (impl->gh == nullptr) {
    return Status::unavailable("nflog: cannot bind group " + std::to_string(group) +
                               " (needs CAP_NET_ADMIN; another listener may hold it)");
  }
  // Headers are enough: the source MAC and address (snaplen bounds the kernel's copy).
  if (nflog_set_mode(impl->gh, NFULNL_COPY_PACKET, 128) < 0) {
    return Status::unavailable("nflog: cannot set the copy mode");
  }
  // Each message at once (the kernel otherwise holds them up to a second to batch).
  nflog_set_qthresh(impl->gh, 1);
  nflog_set_timeout(impl->gh, 0);
  nflog_callback_register(impl->gh, &Impl::onPacket, impl.get());
  return std::unique_ptr<DropLog>(new DropLog(std::move(impl)));
}

DropLog::DropLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DropLog::~DropLog() = default;

int DropLog::fd() const { return nflog_fd(impl_->h); }

std::size_t DropLog::read(const std::function<void(const LoggedDrop&)>& each) {
  impl_->each = &each;
  std::array<char, 65536> buf;
  std::size_t messages = 0;
  for (;;) {
    const ssize_t n = recv(fd(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n <= 0) break;  // EAGAIN, or ENOBUFS after a burst (the rest was lost): read on
    nflog_handle_packet(impl_->h, buf.data(), static_cast<int>(n));
    ++messages;
  }
  impl_->each = nullptr;
  return messages;
}

}  // namespace netledger::enforce
