#pragma once
// One network interface opened with libpcap: frames in (ARP and NDP only, through a BPF filter,
// in immediate mode so a probe answer is seen at once) and frames out. libpcap stays inside
// packet_port.cc.
//
// Thread safety: dispatch() from one thread at a time; send() from any thread (libpcap's
// pcap_inject is a write(2) on a packet socket).

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "common/status.h"

namespace netledger::agent {

enum class Direction : std::uint8_t { kIn, kInOut };

struct PortOptions {
  bool capture = true;                   // install the ARP/NDP filter; false: send only
  Direction direction = Direction::kIn;  // kIn: only frames the interface received
  int buffer_bytes = 2 * 1024 * 1024;    // kernel ring: what absorbs a burst
};

struct PortStats {
  std::uint64_t kernel_drops = 0;  // frames the kernel dropped (buffer full)
};

class PacketPort {
 public:
  using FrameFn = std::function<void(std::span<const std::uint8_t> bytes, std::uint64_t time_us)>;

  // unavailable when the interface cannot be opened (missing, down is fine, no CAP_NET_RAW).
  static Result<std::unique_ptr<PacketPort>> open(const std::string& interface,
                                                  const PortOptions& options);
  ~PacketPort();
  PacketPort(const PacketPort&) = delete;
  PacketPort& operator=(const PacketPort&) = delete;

  const std::string& name() const { return name_; }
  // A descriptor that polls readable when frames wait (non-blocking mode).
  int fd() const;
  // Hands every waiting frame (at most `max`) to `fn`; returns how many, or unavailable when the
  // interface went away.
  Result<int> dispatch(int max, const FrameFn& fn);
  Status send(std::span<const std::uint8_t> frame);
  PortStats stats() const;

 private:
  struct Impl;
  PacketPort(std::string name, std::unique_ptr<Impl> impl);
  std::string name_;
  std::unique_ptr<Impl> impl_;
};

// The capture filter: ARP, and ICMPv6 NS/NA, untagged or in one 802.1Q tag.
inline constexpr const char* kSnoopFilter =
    "arp or (icmp6 and (ip6[40] == 135 or ip6[40] == 136)) or "
    "(vlan and (arp or (icmp6 and (ip6[40] == 135 or ip6[40] == 136))))";

}  // namespace netledger::agent
