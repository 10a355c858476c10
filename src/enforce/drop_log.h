#pragma once
// The frames the guard refuses, read back through NFLOG (libnetfilter_log stays inside
// enforce/drop_log.cc): every refusing rule also logs the frame to one netlink group, its class
// as the prefix, and the agent turns each into an observation, so the consistency engine opens
// the conflict with the evidence (the snooper reads ARP and NDP itself; IP source spoofing,
// unknown MACs, rogue DHCP servers and RAs only the guard sees).
//
//   auto log = DropLog::open(7421);           // needs CAP_NET_ADMIN
//   spec.log_group = 7421;                    // the rules log to it (ruleset.h)
//   (*log)->read([](const LoggedDrop& d) { ... });  // when its fd is readable

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "addr/ip_address.h"
#include "addr/mac.h"
#include "common/status.h"
#include "enforce/ruleset.h"

namespace netledger::enforce {

// One dropped (or, in monitor mode, let-through) frame as the kernel logged it.
struct LoggedDrop {
  DropClass cls = DropClass::kMacSpoof;
  std::string interface;              // the port it came in on
  addr::Mac mac;                      // its source MAC
  std::optional<addr::IpAddress> ip;  // its IPv4 / IPv6 source, when it has one
};

// What a log message says, or nullopt when it is not one of ours or is too short to read:
// `prefix` the rule's (a DropClass name), `hwhdr` the Ethernet header, `payload` from the
// network header on. No I/O (fuzzed).
std::optional<LoggedDrop> parseLoggedDrop(std::string_view prefix, std::string interface,
                                          std::span<const std::uint8_t> hwhdr,
                                          std::span<const std::uint8_t> payload);

class DropLog {
 public:
  // unavailable when the group cannot be bound (no CAP_NET_ADMIN, or another listener has it).
  static Result<std::unique_ptr<DropLog>> open(std::uint16_t group);
  ~DropLog();
  DropLog(const DropLog&) = delete;
  DropLog& operator=(const DropLog&) = delete;

  int fd() const;
  // Reads what is waiting (non-blocking) and calls `each` per readable drop; returns how many
  // messages were read (0: nothing waiting). A burst larger than the socket's buffer loses the
  // rest (counted by the kernel, never blocking it).
  std::size_t read(const std::function<void(const LoggedDrop&)>& each);

 private:
  struct Impl;
  explicit DropLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace netledger::enforce
