#pragma once
// Host-port mappings (/v1/portmaps): a host port (or a run of them) on a node, or on one host
// address, forwarded to a binding's address — the "VM behind the host's address" case, and the
// CNI `portMappings` capability. The ledger stores each mapping as a document (kind "portmap")
// and each node's own range for automatic host ports as another (kind "portrange"); this file
// is the rules, with no I/O: when two mappings collide, how a free run of ports is found, and
// the stored and shown forms.
//
// Two mappings collide when they share the protocol, the address family and a host port, and
//   - they are on the same node and one of them takes every address of the node, or both
//     name the same host address; or
//   - they name the same host address on different nodes (an address several nodes share,
//     e.g. behind one NAT gateway, splits its ports between them).
//
//   auto run = findFreeRun(range, 1, candidate, existing);  // the first free host port
//   if (auto holder = firstCollision(candidate, existing)) { /* 409 naming holder->id */ }

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "addr/ip_address.h"
#include "common/status.h"

namespace netledger::server {

inline constexpr std::string_view kPortMapKind = "portmap";
inline constexpr std::string_view kPortRangeKind = "portrange";
// A mapping forwards at most this many consecutive ports (one nftables element each).
inline constexpr std::uint32_t kMaxPortRun = 1024;

enum class PortProtocol : std::uint8_t { kTcp, kUdp, kSctp };
std::string_view protocolName(PortProtocol p);
// "tcp" | "udp" | "sctp" (any case); invalid_argument naming `protocol` otherwise.
Result<PortProtocol> parseProtocol(std::string_view text);

// An inclusive run of ports.
struct PortRun {
  std::uint16_t first = 0;
  std::uint16_t last = 0;
  std::uint32_t size() const { return std::uint32_t{last} - first + 1; }
  bool overlaps(const PortRun& o) const { return first <= o.last && o.first <= last; }
};
// The node's range for automatic host ports when it has none of its own (Kubernetes' NodePort
// range: clear of Linux's ephemeral ports, 32768-60999).
inline constexpr PortRun kDefaultHostPortRange{30000, 32767};

struct PortMap {
  std::string id;  // "pm-" + 12 hex digits
  std::string node;
  std::optional<addr::IpAddress> host_address;  // unset: every address of the node
  addr::IpFamily family = addr::IpFamily::kV4;  // host_address's, else as asked (default IPv4)
  PortProtocol protocol = PortProtocol::kTcp;
  PortRun host_ports;
  std::uint64_t binding_id = 0;
  std::uint16_t port = 0;  // the binding's port for host_ports.first; the run maps one to one
  std::string instance;    // the binding's, when the mapping was made (for people)
  std::string tenant;      // the binding's ("" none): who may see the mapping and its events
  std::string created_by;
  std::string created_at;
};

bool collide(const PortMap& a, const PortMap& b);
// The first of `existing` that `candidate` collides with (nullptr when none).
const PortMap* firstCollision(const PortMap& candidate, const std::vector<PortMap>& existing);
// The lowest run of `count` ports inside `range` that `candidate` (its host ports aside) can take
// without a collision; nullopt when the range has none.
std::optional<PortRun> findFreeRun(PortRun range, std::uint32_t count, PortMap candidate,
                                   const std::vector<PortMap>& existing);
// "tcp 8080 on node-a" / "udp 5000-5009 on 203.0.113.7 (node-a)": how a 409 names a holder.
std::string describeHostSide(const PortMap& m);

// The stored (and shown) form. `fromJson` reads only what `toJson` wrote: internal for
// anything else (a damaged document).
boost::json::object toJson(const PortMap& m);
Result<PortMap> portMapFromJson(const boost::json::object& o);
Result<PortMap> portMapFromDocument(std::string_view body);

// A node's own range: {"node": ..., "first": ..., "last": ..., "reserved": ["22", "8080-8089"]}.
// Reserved ports (the node's own services) are never mapped, whoever asks.
struct NodePortRange {
  std::string node;
  PortRun range;
  std::vector<PortRun> reserved;
};
// "8080" or "8080-8089" (1..65535, first <= last); nullopt otherwise.
std::optional<PortRun> parsePortRun(std::string_view text);
std::string portRunText(PortRun r);
// `candidate`'s ports that the node reserves, as mappings that hold them (for firstCollision
// and findFreeRun), with the id kReservedHolder.
inline constexpr std::string_view kReservedHolder = "reserved";
std::vector<PortMap> reservedHolders(const PortMap& candidate,
                                     const std::vector<PortRun>& reserved);
boost::json::object toJson(const NodePortRange& r);
Result<NodePortRange> portRangeFromDocument(std::string_view body);

}  // namespace netledger::server
