#pragma once
// The ledger's records: what the Store persists and the API shows. Plain data with value
// semantics; the Ledger owns the invariants (see ledger.h). Times are unix milliseconds.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "addr/ip_address.h"
#include "addr/ip_range.h"
#include "addr/mac.h"
#include "addr/prefix.h"
#include "alloc/mac_allocator.h"
#include "common/status.h"

namespace netledger::ledger {

using Millis = std::int64_t;

// A pool's DHCPv4 service (IPv4 pools; the router option is the pool's gateway). Leases are
// bindings of the pool like any other, made by netledgerd's DHCP server (server/dhcp).
struct PoolDhcp {
  bool enabled = true;
  std::int64_t lease_s = 3600;
  std::vector<addr::IpAddress> dns_servers;  // option 6
  std::vector<addr::IpAddress> ntp_servers;  // option 42
  std::string domain;                        // option 15 ("": not sent)
  bool probe = true;                         // ARP-probe an address before offering it
  // The decline budget: a client that declines `decline_limit` addresses within
  // `decline_window_s` gets no offers for `decline_backoff_s`.
  int decline_limit = 3;
  std::int64_t decline_window_s = 600;
  std::int64_t decline_backoff_s = 600;
  friend bool operator==(const PoolDhcp&, const PoolDhcp&) = default;
};

struct PoolRecord {
  std::string name;
  std::string network = "default";
  std::vector<addr::Prefix> cidrs;  // one or more (auto-expand appends)
  std::optional<addr::IpAddress> gateway;
  std::vector<addr::IpRange> ranges;    // empty: the whole usable CIDRs
  std::vector<addr::IpRange> reserved;  // never handed out dynamically
  std::string tenant;
  std::string cluster;
  std::optional<int> vlan;
  std::optional<std::uint32_t> vni;
  std::int64_t default_ttl_s = 0;  // 0: bindings do not expire unless ttl_s is given
  std::int64_t quarantine_s = 300;
  double threshold = 0.85;  // utilization alert threshold
  std::string parent;       // carved from this pool (a container)
  bool auto_expand = false;
  // A range another control plane hands out (an imported IPPool of another cluster): recorded
  // so overlaps and collisions with it are seen, never allocated from, exempt from the
  // no-overlap rule.
  bool external = false;
  int expand_prefix_length = 0;  // size of the prefix added on expansion (0: the first CIDR's)
  std::optional<PoolDhcp> dhcp;  // nullopt: not served by DHCP
  // Anti-spoofing for this pool's bindings on their nodes (docs/ENFORCEMENT.md): "off",
  // "monitor" or "enforce"; "" leaves it to each node's agent.
  std::string enforcement;
  std::uint64_t version = 0;
  Millis created_at = 0;
  Millis updated_at = 0;
};

struct MacPoolRecord {
  std::string name;
  addr::MacPrefix prefix = alloc::defaultMacPrefix();
  alloc::MacStrategy strategy = alloc::MacStrategy::kRandom;
  std::int64_t quarantine_s = 300;
  std::uint64_t version = 0;
  Millis created_at = 0;
  Millis updated_at = 0;
};

enum class BindingState : std::uint8_t { kReserved, kActive, kReleased, kExpired };
std::string_view bindingStateName(BindingState s);
Result<BindingState> parseBindingState(std::string_view text);

struct BoundAddress {
  addr::IpAddress ip;
  std::string pool;  // the pool it came from ("" for none)
  friend bool operator==(const BoundAddress&, const BoundAddress&) = default;
};

using Labels = std::map<std::string, std::string>;

struct BindingRecord {
  std::uint64_t id = 0;
  std::string instance;
  std::string interface = "eth0";
  std::optional<addr::Mac> mac;
  std::string mac_pool;  // the MAC pool it came from ("" when given explicitly)
  std::vector<BoundAddress> addresses;
  std::string host;
  std::optional<addr::Mac> host_mac;
  std::string service;
  std::string tenant;
  Labels labels;
  BindingState state = BindingState::kActive;
  bool is_static = false;
  Millis expires_at = 0;   // 0: never
  std::int64_t ttl_s = 0;  // the lease length a renewal grants (0: no lease)
  Millis created_at = 0;
  Millis updated_at = 0;
  std::uint64_t version = 0;
};

enum class Role : std::uint8_t { kViewer, kOperator, kAdmin };
std::string_view roleName(Role r);
Result<Role> parseRole(std::string_view text);

struct TokenRecord {
  std::string name;
  std::string sha256_hex;  // of the secret; the secret itself is never stored
  Role role = Role::kViewer;
  std::vector<std::string> tenants;  // empty: every tenant
  Millis created_at = 0;
  std::uint64_t version = 0;
};

// A held-back address or MAC: released, not reusable until `until`.
struct QuarantineRecord {
  std::string kind;  // "ip" or "mac"
  std::string pool;  // pool (ip) or MAC pool ("" for MACs registered explicitly)
  std::string key;   // canonical address text
  Millis until = 0;
};

// A generic durable record for the subsystems above the ledger (conflicts, webhook
// subscriptions, remediation policies): `kind` names the subsystem's table, `key` the record,
// `body` is its JSON text. The Ledger stores and versions them; it does not interpret them.
struct DocumentRecord {
  std::string kind;  // "conflict", "webhook", "policy", ...
  std::string key;
  std::string body;
  std::uint64_t version = 0;
  Millis updated_at = 0;
};

// One audit event: every mutation, with before and after (JSON text, "" when absent).
struct EventRecord {
  std::uint64_t seq = 0;
  Millis time = 0;
  std::string actor;
  std::string op;                 // "pool.create", "binding.allocate", "binding.release", ...
  std::string subject;            // "pool:NAME", "binding:ID", "token:NAME", ...
  std::vector<std::string> keys;  // history keys: "ip:ADDR", "mac:MAC", "instance:NAME"
  std::string before;
  std::string after;
  // Where the event stands in the one order every replica serves it in (the event stream's id,
  // the webhooks' cursor); not stored. 0 means its seq, as on a single node. On a shared store
  // seqs are unique but each replica takes its own, so the store sets it from the commit's
  // place in the store's history (etcd: revision << 12 | rank in the transaction).
  std::uint64_t position = 0;
};

// The event's place in the global order (see EventRecord::position).
inline std::uint64_t positionOf(const EventRecord& e) {
  return e.position != 0 ? e.position : e.seq;
}

}  // namespace netledger::ledger
