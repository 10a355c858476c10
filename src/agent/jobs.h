#pragma once
// What the server's event stream asks of this node's agent, decided from one event:
//
//   binding.allocate / binding.reassign with after.state "reserved" on this host
//       -> probe the binding's addresses (allocate with "probe": true; reassign after a probe
//          found an address in use);
//   binding.migrate onto this host, address.move to a binding on this host
//       -> announce the binding's addresses (gratuitous ARP, unsolicited NA);
//   scan.requested via this node -> scan the listed ranges.
//
// Pure and total: any event, however malformed, yields a job or nothing (fuzzed).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "addr/ip_address.h"
#include "addr/ip_range.h"
#include "addr/mac.h"

namespace netledger::agent {

struct ProbeJob {
  std::uint64_t binding_id = 0;
  std::vector<addr::IpAddress> addresses;
};

struct AnnounceJob {
  std::uint64_t binding_id = 0;
  addr::Mac mac;
  std::vector<addr::IpAddress> addresses;
};

struct ScanJob {
  std::string id;
  std::vector<addr::IpRange> ranges;
  int rate_per_s = 100;
  std::uint64_t size = 0;  // addresses in all ranges
};

using Job = std::variant<ProbeJob, AnnounceJob, ScanJob>;

// Largest scan the agent accepts (the server refuses bigger pools).
inline constexpr std::uint64_t kMaxScanAddresses = 65'536;

// `op` is the SSE event name, `data` its JSON.
std::optional<Job> jobForEvent(std::string_view op, std::string_view data, const std::string& node);

// The event types the agent subscribes to (GET /v1/events?types=...).
// Every binding, address and port-mapping change and pool update: the enforcer
// (agent/enforcer.h) rereads the node's bindings, pools and mappings after any of them;
// jobForEvent picks those above.
inline constexpr const char* kAgentEventTypes =
    "binding.*,address.*,portmap.*,pool.update,scan.requested";

}  // namespace netledger::agent
