#pragma once
// The node's anti-spoofing rules as one nftables table (`table bridge netledger`), rendered from
// what the ledger says is behind each bridge port. No I/O: `enforce/nftables.h` applies the
// script; the agent decides what goes into a RulesetSpec.
//
// What a frame entering the bridge from a guarded port may carry (everything else is counted
// under its DropClass and dropped, or only counted in monitor mode):
//   - source MAC: a MAC of a binding behind that port (the one exception: a broadcast DHCP
//     request from 0.0.0.0 with a MAC no binding holds, so a new station can ask for a lease;
//     a bound MAC from the wrong port could otherwise move it in the bridge's own table);
//   - only IPv4, ARP and IPv6 (no 802.1Q/802.1ad tags: the checks read untagged headers);
//   - ARP: sender MAC and sender IP a pair of a binding behind the port (RFC 5227 probes, sender
//     IP 0.0.0.0, pass the MAC check only);
//   - IPv4 / IPv6 source: an address of the binding whose MAC sent it (IPv6 link-local and the
//     unspecified address of DAD pass the MAC check only);
//   - NDP neighbour advertisements: a target the sending binding holds (link-local targets pass);
//   - NDP link-layer address options (NS, NA, RS; link-local senders too): the sender's own MAC;
//   - never DHCP server traffic (from UDP 67/547 or to the client ports 68/546), a router
//     advertisement or an ICMPv6 redirect: those come only from trusted ports (uplinks, the
//     router's own port), which are not guarded at all.
//
// The script replaces the whole table in one transaction (add, delete, define), so the kernel
// holds either the old rules or the new ones, and nothing outside the table is touched.
//
//   RulesetSpec spec;  // enforce mode, no ports, no forwards
//   spec.guarded_ports = {"vm1p", "vm2p"};
//   spec.bindings.push_back({"vm1p", mac, {ip}});
//   auto script = renderRuleset(spec);  // Result<std::string>: bad port names are refused

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "addr/ip_address.h"
#include "addr/mac.h"
#include "common/status.h"

namespace netledger::enforce {

// The tables' name: `table bridge netledger` (the guard) and `table inet netledger` (the port
// forwards); nothing else is ever written.
inline constexpr std::string_view kTableName = "netledger";

// off: no table (renderRuleset removes it); monitor: count every violation, drop nothing;
// enforce: count and drop.
enum class EnforceMode : std::uint8_t { kOff, kMonitor, kEnforce };
std::string_view enforceModeName(EnforceMode mode);
// "off" | "monitor" | "enforce"; invalid_argument naming the value otherwise.
Result<EnforceMode> parseEnforceMode(std::string_view text);

// What was refused, one named nftables counter each (their names are these strings).
enum class DropClass : std::uint8_t {
  kMacSpoof,   // a source MAC that no binding behind the port holds
  kArpSpoof,   // ARP sender MAC/IP not a pair of a binding behind the port
  kIpv4Spoof,  // IPv4 source not an address of the sending binding
  kIpv6Spoof,  // IPv6 source (not link-local) not an address of the sending binding
  kNdSpoof,    // a neighbour advertisement for a target the sender does not hold, or an
               // NDP link-layer address option that is not the sender's MAC
  kRogueDhcp,  // a DHCP (v4 or v6) server reply from a port that is not trusted
  kRogueRa,    // a router advertisement or redirect from a port that is not trusted
  kEthertype,  // neither IPv4, ARP nor IPv6 (tagged frames too: their inner headers would
               // escape every check)
};
inline constexpr std::array<DropClass, 8> kDropClasses = {
    DropClass::kMacSpoof, DropClass::kArpSpoof,  DropClass::kIpv4Spoof, DropClass::kIpv6Spoof,
    DropClass::kNdSpoof,  DropClass::kRogueDhcp, DropClass::kRogueRa,   DropClass::kEthertype};
std::string_view dropClassName(DropClass c);

// One binding's pair behind one port: its MAC and the addresses it holds.
struct PortBinding {
  std::string port;
  addr::Mac mac;
  std::vector<addr::IpAddress> addresses;
};

// One host port forwarded to a binding's address and port (a /v1/portmaps mapping, one port of
// its run). Rendered in `table inet netledger`: DNAT in prerouting and output, and masquerade of
// what was forwarded, so replies return through this node.
struct PortForward {
  std::string protocol;                         // "tcp" | "udp" | "sctp"
  std::optional<addr::IpAddress> host_address;  // unset: every local address of the node
  std::uint16_t host_port = 0;
  addr::IpAddress target;  // host_address, when set, is of the same family (others are skipped)
  std::uint16_t target_port = 0;
};

struct RulesetSpec {
  EnforceMode mode = EnforceMode::kEnforce;
  // NFLOG group every refused frame is logged to, its class as the prefix (drop_log.h);
  // 0: none.
  std::uint16_t log_group = 0;
  // Every bridge port that is not trusted (the agent re-reads them each second: a new port is
  // guarded within about a second). A guarded port with no binding sends nothing but DHCP
  // requests. (The kernel's `meta ibrname`, which would guard a new port at once, needs the
  // nft_meta_bridge module, which kernels without loadable modules may lack.)
  std::vector<std::string> guarded_ports;
  // Plain host interfaces (no bridge: a routed tap or veth) guarded the same way at their
  // ingress, in `table netdev netledger` (each must exist when the table is loaded).
  std::vector<std::string> host_ports;
  std::vector<PortBinding> bindings;
  // MACs of this node's bindings whose port is not known yet: never let through as "new".
  std::vector<addr::Mac> held_macs;
  // Guarded ports in another mode than `mode` (their bindings' pools say so): monitor counts
  // only, off is not guarded at all. With `mode` off there is no table whatever this says.
  std::map<std::string, EnforceMode> port_modes;
  // Host-port forwards; nullopt: no forwarding table at all (removed if present). Independent
  // of `mode`: an agent may forward ports without guarding them.
  std::optional<std::vector<PortForward>> forwards;
};

// An interface name the kernel accepts (1..15 bytes; letters, digits, '-', '_', '.', '@' not
// allowed), so no name can change the script's meaning.
bool validPortName(std::string_view name);

// The script for `spec`: replaces both tables (mode off: removes the bridge table; forwards
// nullopt: removes the inet one). invalid_argument naming the interface for a bad port name, or
// the protocol of a forward. renderGuard and renderForwards are its two halves: each replaces
// one table on its own, so a change to one does not reload the other.
Result<std::string> renderRuleset(const RulesetSpec& spec);
Result<std::string> renderGuard(const RulesetSpec& spec);
Result<std::string> renderForwards(const std::optional<std::vector<PortForward>>& forwards);

// Removes both tables if present, touching nothing else.
std::string renderRemoval();

}  // namespace netledger::enforce
