#include "agent/packet_port.h"

#include <pcap/pcap.h>

namespace netledger::agent {

struct PacketPort::Impl {
  pcap_t* handle = nullptr;
  ~Impl() {
    if (handle != nullptr) pcap_close(handle);
  }
};

PacketPort::PacketPort(std::string name, std::unique_ptr<Impl> impl)
    : name_(std::move(name)), impl_(std::move(impl)) {}
PacketPort::~PacketPort() = default;

Result<std::unique_ptr<PacketPort>> PacketPort::open(const std::string& interface,
                                                     const PortOptions& options) {
  char err[PCAP_ERRBUF_SIZE] = {};
  auto impl = std::make_unique<Impl>();
  impl->handle = pcap_create(interface.c_str(), err);
  auto fail = [&](const std::string& what) {
    return Status::unavailable("interface " + interface + ": " + what);
  };
  if (impl->handle == nullptr) return fail(err);
  pcap_t* p = impl->handle;
  // 256 bytes hold the largest ARP/NDP frame we parse (double-tagged NA with options).
  pcap_set_snaplen(p, 256);
  pcap_set_promisc(p, options.capture ? 1 : 0);
  pcap_set_immediate_mode(p, 1);
  pcap_set_buffer_size(p, options.buffer_bytes);
  pcap_set_timeout(p, 100);
  if (int rc = pcap_activate(p); rc < 0) {
    return fail(rc == PCAP_ERROR ? pcap_geterr(p) : pcap_statustostr(rc));
  }
  if (pcap_datalink(p) != DLT_EN10MB) return fail("not an Ethernet interface");
  if (pcap_setnonblock(p, 1, err) != 0) return fail(err);
  bpf_program program{};
  // Send-only ports still get a filter that matches nothing useful, so their kernel buffer
  // does not fill with traffic nobody reads.
  const char* filter = options.capture ? kSnoopFilter : "less 1";
  if (pcap_compile(p, &program, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
    return fail(std::string("filter: ") + pcap_geterr(p));
  }
  int rc = pcap_setfilter(p, &program);
  pcap_freecode(&program);
  if (rc != 0) return fail(std::string("filter: ") + pcap_geterr(p));
  if (pcap_setdirection(p, options.direction == Direction::kIn ? PCAP_D_IN : PCAP_D_INOUT) != 0) {
    return fail(std::string("direction: ") + pcap_geterr(p));
  }
  return std::unique_ptr<PacketPort>(new PacketPort(interface, std::move(impl)));
}

int PacketPort::fd() const { return pcap_get_selectable_fd(impl_->handle); }

Result<int> PacketPort::dispatch(int max, const FrameFn& fn) {
  struct Ctx {
    const FrameFn* fn;
  } ctx{&fn};
  int n = pcap_dispatch(
      impl_->handle, max,
      [](u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
        auto* c = reinterpret_cast<Ctx*>(user);
        std::uint64_t t = static_cast<std::uint64_t>(h->ts.tv_sec) * 1'000'000 +
                          static_cast<std::uint64_t>(h->ts.tv_usec);
        (*c->fn)(std::span<const std::uint8_t>(bytes, h->caplen), t);
      },
      reinterpret_cast<u_char*>(&ctx));
  if (n == PCAP_ERROR) return Status::unavailable(name_ + ": " + pcap_geterr(impl_->handle));
  return n < 0 ? 0 : n;
}

Status PacketPort::send(std::span<const std::uint8_t> frame) {
  if (pcap_inject(impl_->handle, frame.data(), frame.size()) < 0) {
    return Status::unavailable(name_ + ": send: " + pcap_geterr(impl_->handle));
  }
  return Status::ok();
}

PortStats PacketPort::stats() const {
  pcap_stat s{};
  PortStats out;
  if (pcap_stats(impl_->handle, &s) == 0) out.kernel_drops = s.ps_drop + s.ps_ifdrop;
  return out;
}

}  // namespace netledger::agent
