#pragma once
// What the Ledger's write commands take: the inputs of pool, binding and address operations,
// already parsed into value types (the API handlers and the CLI's importers fill them in).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "addr/ip_address.h"
#include "addr/ip_range.h"
#include "addr/mac.h"
#include "ledger/model.h"

namespace netledger::ledger {

// POST /v1/pools: either cidrs, or parent + prefix_length to carve a child.
struct PoolCreate {
  PoolRecord record;
  std::optional<int> prefix_length;
};

// PATCH /v1/pools/{name}: unset fields stay; an inner nullopt clears a nullable field.
struct PoolPatch {
  std::optional<std::optional<addr::IpAddress>> gateway;
  std::optional<std::vector<addr::IpRange>> ranges;
  std::optional<std::vector<addr::IpRange>> reserved;
  std::optional<std::string> tenant, cluster;
  std::optional<std::optional<int>> vlan;
  std::optional<std::optional<std::uint32_t>> vni;
  std::optional<std::int64_t> default_ttl_s, quarantine_s;
  std::optional<double> threshold;
  std::optional<bool> auto_expand;
  std::optional<int> expand_prefix_length;
  std::optional<std::optional<PoolDhcp>> dhcp;  // replaced whole; nullopt inside: DHCP off
  std::optional<std::string> enforcement;       // "" clears it (the agent decides)
};

// The fields PATCH /v1/bindings/{id} may change.
struct BindingUpdate {
  std::optional<std::string> host;
  std::optional<addr::Mac> mac;
  std::optional<addr::Mac> host_mac;
};

struct AllocateRequest {
  std::string instance;
  std::string interface = "eth0";
  std::vector<std::string> pools;
  std::optional<addr::IpAddress> address;  // a specific address (in one of `pools`, or unpooled)
  std::optional<addr::Mac> mac;            // an explicit MAC
  std::string mac_pool;                    // or generate one from this MAC pool
  std::string host;
  std::optional<addr::Mac> host_mac;
  std::string service;
  Labels labels;
  std::optional<std::int64_t> ttl_s;
  bool is_static = false;
  // Probe before use: the binding starts `reserved` and only activate() makes it `active`,
  // once the host's agent found every address free on the wire. Needs `host`.
  bool probe = false;
  // `mac` is the station's own hardware address (a DHCP client's chaddr), not one the ledger
  // hands out: it may be claimed again while quarantined after its own earlier binding.
  bool own_mac = false;
};

struct BindingFilter {
  std::optional<addr::IpAddress> ip;
  std::optional<addr::Mac> mac;
  std::optional<std::string> instance, host, pool;
  std::optional<BindingState> state;
  // Search as you type: an address or MAC starting with `text`, or an instance or host
  // containing it (case-insensitive). Lower-case it before setting.
  std::optional<std::string> text;
};

// One observed (network, ip, mac) to look up (the consistency engine's batches).
struct WireQuery {
  std::string_view network;
  std::optional<addr::IpAddress> ip;
  addr::Mac mac;
};

}  // namespace netledger::ledger
