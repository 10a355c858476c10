#include "enforce/ruleset.h"

#include <cstdio>
#include <optional>
#include <set>

#include "common/enum_names.h"

namespace netledger::enforce {
namespace {

constexpr detail::Names<EnforceMode, 3> kModeNames{{
    {EnforceMode::kOff, "off"},
    {EnforceMode::kMonitor, "monitor"},
    {EnforceMode::kEnforce, "enforce"},
}};

constexpr detail::Names<DropClass, 8> kDropClassNames{{
    {DropClass::kMacSpoof, "mac_spoof"},
    {DropClass::kArpSpoof, "arp_spoof"},
    {DropClass::kIpv4Spoof, "ipv4_spoof"},
    {DropClass::kIpv6Spoof, "ipv6_spoof"},
    {DropClass::kNdSpoof, "nd_spoof"},
    {DropClass::kRogueDhcp, "rogue_dhcp"},
    {DropClass::kRogueRa, "rogue_ra"},
    {DropClass::kEthertype, "ethertype"},
}};

std::string quoted(std::string_view port) { return "\"" + std::string(port) + "\""; }

// An IPv6 address as the 128-bit integer the NA target's raw payload match compares with.
std::string asInteger(const addr::Ipv6& v6) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = "0x";
  for (std::uint8_t b : v6.toBytes()) {
    s += kHex[b >> 4];
    s += kHex[b & 0xf];
  }
  return s;
}

// A MAC as the 48-bit integer a raw payload match (an NDP link-layer option) compares with.
std::string asInteger(const addr::Mac& mac) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "0x%012llx", static_cast<unsigned long long>(mac.value()));
  return buf;
}

// The elements of the six sets, each element once.
struct Elements {
  std::set<std::string> bound_macs, port_macs, v4_pairs, v6_pairs, nd_targets, nd_lladdrs;
};

Elements elementsOf(const std::vector<PortBinding>& bindings) {
  Elements e;
  for (const PortBinding& b : bindings) {
    const std::string port_mac = quoted(b.port) + " . " + b.mac.toString();
    e.bound_macs.insert(b.mac.toString());
    e.port_macs.insert(port_mac);
    e.nd_lladdrs.insert(quoted(b.port) + " . " + asInteger(b.mac));
    for (const addr::IpAddress& ip : b.addresses) {
      if (ip.isV4()) {
        e.v4_pairs.insert(port_mac + " . " + ip.toString());
      } else {
        e.v6_pairs.insert(port_mac + " . " + ip.toString());
        e.nd_targets.insert(port_mac + " . " + asInteger(ip.v6()));
      }
    }
  }
  return e;
}

// `kind`: "set" or "map".
void appendSet(std::string& out, std::string_view name, std::string_view type,
               const std::set<std::string>& elements, std::string_view kind = "set") {
  out +=
      "  " + std::string(kind) + " " + std::string(name) + " {\n    " + std::string(type) + ";\n";
  if (!elements.empty()) {
    out += "    elements = {";
    const char* sep = " ";
    for (const std::string& e : elements) {
      out += sep + e;
      sep = ",\n      ";
    }
    out += " }\n";
  }
  out += "  }\n";
}

// Every refused frame is logged to `log_group` too (prefix: its class), so the agent reports it
// as an observation: the evidence of the conflict the engine opens.
std::string verdictFor(EnforceMode mode, DropClass c, std::uint16_t log_group) {
  const std::string name(dropClassName(c));
  const bool logged = log_group != 0;
  return "counter name \"" + name + "\" " +
         (logged ? "log group " + std::to_string(log_group) + " prefix \"" + name + "\" " : "") +
         (mode == EnforceMode::kEnforce ? "drop" : "accept");
}

// The guarded ports in each mode: off ports are not guarded at all.
struct PortsByMode {
  std::set<std::string> monitored, enforced;
};

void appendSets(std::string& out, const RulesetSpec& spec, const PortsByMode& ports) {
  std::set<std::string> guarded, monitored;
  for (const std::string& p : ports.enforced) guarded.insert(quoted(p));
  for (const std::string& p : ports.monitored) monitored.insert(quoted(p));
  guarded.insert(monitored.begin(), monitored.end());
  appendSet(out, "guarded_ports", "type ifname", guarded);
  appendSet(out, "monitored_ports", "type ifname", monitored);
  Elements e = elementsOf(spec.bindings);
  for (const addr::Mac& m : spec.held_macs) e.bound_macs.insert(m.toString());
  appendSet(out, "bound_macs", "type ether_addr", e.bound_macs);
  appendSet(out, "port_macs", "type ifname . ether_addr", e.port_macs);
  appendSet(out, "v4_pairs", "type ifname . ether_addr . ipv4_addr", e.v4_pairs);
  appendSet(out, "v6_pairs", "type ifname . ether_addr . ipv6_addr", e.v6_pairs);
  // nft 1.0.6 has no `icmpv6 taddr`: the target is the ICMPv6 body's bits 64..191.
  appendSet(out, "nd_targets", "typeof iifname . ether saddr . @th,64,128", e.nd_targets);
  // The link-layer address option of an NS/NA (at bit 208) or RS (at bit 80), as an integer.
  appendSet(out, "nd_lladdrs", "typeof iifname . @th,208,48", e.nd_lladdrs);
  for (DropClass c : kDropClasses) out += "  counter " + std::string(dropClassName(c)) + " {}\n";
}

void appendChain(std::string& out, std::string_view name, const std::vector<std::string>& rules) {
  out += "  chain " + std::string(name) + " {\n";
  for (const std::string& r : rules) out += "    " + r + "\n";
  out += "  }\n";
}

// Order matters: the exceptions for stations without an address yet come before the checks
// they would fail, and each check after the one that makes its set lookup meaningful.
// The checks of one mode: `check_<mode>` (or, with `head`, the guard chain itself) and
// `arp_<mode>` (enforce drops, monitor accepts).
void appendChecks(std::string& out, EnforceMode mode, std::uint16_t log_group,
                  std::vector<std::string> head = {}) {
  auto v = [mode, log_group](DropClass c) { return " " + verdictFor(mode, c, log_group); };
  const std::string name(enforceModeName(mode));
  const std::string dhcp_request =
      "ether type ip ether daddr ff:ff:ff:ff:ff:ff ip saddr 0.0.0.0 ip daddr 255.255.255.255"
      " udp sport 68 udp dport 67";
  const std::string ns_na =
      "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 saddr != ::";
  const std::string rs = "icmpv6 type nd-router-solicit ip6 saddr != ::";
  std::vector<std::string> rules = std::move(head);
  const std::string chain = rules.empty() ? "check_" + name : "guard";
  rules.insert(
      rules.end(),
      {dhcp_request + " ether saddr != @bound_macs accept",  // a new station asks for a lease
       "iifname . ether saddr != @port_macs" + v(DropClass::kMacSpoof),
       dhcp_request + " accept",  // a bound station asks again from 0.0.0.0 (INIT-REBOOT)
       "ether type != { ip, arp, ip6 }" + v(DropClass::kEthertype),
       "udp sport { 67, 547 }" + v(DropClass::kRogueDhcp),
       "udp dport { 68, 546 }" + v(DropClass::kRogueDhcp),
       "icmpv6 type { nd-router-advert, nd-redirect }" + v(DropClass::kRogueRa),
       "ether type arp jump arp_" + name,
       "ether type ip iifname . ether saddr . ip saddr != @v4_pairs" + v(DropClass::kIpv4Spoof),
       "icmpv6 type nd-neighbor-advert @th,64,16 != 0xfe80"
       " iifname . ether saddr . @th,64,128 != @nd_targets" +
           v(DropClass::kNdSpoof),
       // A link-layer address option (what neighbours put in their caches) must be the
       // sender's own MAC, from link-local sources too; one that cannot be read (another
       // option first) is refused. Senders of :: carry none (RFC 4861 7.2.2).
       ns_na + " ip6 length > 24 @th,192,8 != { 1, 2 }" + v(DropClass::kNdSpoof),
       ns_na + " ip6 length > 24 iifname . @th,208,48 != @nd_lladdrs" + v(DropClass::kNdSpoof),
       rs + " ip6 length > 8 @th,64,8 != 1" + v(DropClass::kNdSpoof),
       rs + " ip6 length > 8 iifname . @th,80,48 != @nd_lladdrs" + v(DropClass::kNdSpoof),
       "ether type ip6 ip6 saddr { ::, fe80::/10 } accept",
       "ether type ip6 iifname . ether saddr . ip6 saddr != @v6_pairs" + v(DropClass::kIpv6Spoof)});
  appendChain(out, chain, rules);
  appendChain(out, "arp_" + name,
              {"iifname . arp saddr ether != @port_macs" + v(DropClass::kArpSpoof),
               "arp saddr ip 0.0.0.0 accept",
               "iifname . arp saddr ether . arp saddr ip != @v4_pairs" + v(DropClass::kArpSpoof)});
}

PortsByMode portsByMode(const RulesetSpec& spec, const std::vector<std::string>& guarded) {
  PortsByMode out;
  for (const std::string& p : guarded) {
    auto it = spec.port_modes.find(p);
    const EnforceMode m = it != spec.port_modes.end() ? it->second : spec.mode;
    if (m == EnforceMode::kMonitor) out.monitored.insert(p);
    if (m == EnforceMode::kEnforce) out.enforced.insert(p);
  }
  return out;
}

// `guard` sends each guarded port's frames to its mode's checks (goto: they end there).
// With one mode in use its checks are the guard chain itself (no jump per frame on the
// forwarding path); with both, each port goes to its mode's chain. `hook`: the base chain's
// declaration (the bridge's prerouting, or the host interfaces' ingress).
void appendChains(std::string& out, const PortsByMode& ports, const std::string& hook,
                  std::uint16_t log_group) {
  std::vector<std::string> guard{hook, "iifname != @guarded_ports accept"};
  const bool monitor = !ports.monitored.empty(), enforce = !ports.enforced.empty();
  if (!monitor || !enforce) {
    if (!monitor && !enforce) return appendChain(out, "guard", guard);  // nothing guarded
    return appendChecks(out, monitor ? EnforceMode::kMonitor : EnforceMode::kEnforce, log_group,
                        guard);
  }
  guard.push_back("iifname @monitored_ports goto check_monitor");
  guard.push_back("goto check_enforce");
  appendChain(out, "guard", guard);
  appendChecks(out, EnforceMode::kMonitor, log_group);
  appendChecks(out, EnforceMode::kEnforce, log_group);
}

Status checkNames(const RulesetSpec& spec) {
  for (const auto* list : {&spec.guarded_ports, &spec.host_ports}) {
    for (const std::string& p : *list) {
      if (!validPortName(p)) return Status::invalidArgument("\"" + p + "\": not an interface name");
    }
  }
  for (const PortBinding& b : spec.bindings) {
    if (!validPortName(b.port)) {
      return Status::invalidArgument("binding " + b.mac.toString() + ": port \"" + b.port +
                                     "\": not an interface name");
    }
  }
  return Status::ok();
}

// ---- port forwards (table inet netledger) ----

// The forwards' map elements and the masquerade set's, by family.
struct ForwardElements {
  std::set<std::string> any[2];  // proto . port : target . port (every local address)
  std::set<std::string> at[2];   // host address . proto . port : target . port
  std::set<std::string> targets[2];
};

ForwardElements forwardElementsOf(const std::vector<PortForward>& forwards) {
  ForwardElements e;
  for (const PortForward& f : forwards) {
    const int i = f.target.family() == addr::IpFamily::kV4 ? 0 : 1;
    if (f.host_address && f.host_address->family() != f.target.family()) continue;
    const std::string key = f.protocol + " . " + std::to_string(f.host_port);
    const std::string target = f.target.toString() + " . " + std::to_string(f.target_port);
    if (f.host_address) {
      e.at[i].insert(f.host_address->toString() + " . " + key + " : " + target);
    } else {
      e.any[i].insert(key + " : " + target);
    }
    e.targets[i].insert(f.target.toString() + " . " + f.protocol + " . " +
                        std::to_string(f.target_port));
  }
  return e;
}

// DNAT to the binding before routing (prerouting; output for the host's own clients), and
// masquerade what was forwarded so the reply comes back through this node whatever the
// instance's default route.
void appendForwardChains(std::string& out) {
  std::vector<std::string> pre, local, post;
  for (const char* f : {"4", "6"}) {
    const std::string fam = f[0] == '4' ? "ip" : "ip6";
    const std::string to = "dnat " + fam + " to ";
    const std::string any = "meta nfproto ipv" + std::string(f) + " fib daddr type local " + to +
                            "meta l4proto . th dport map @fwd" + f + "_any";
    // Only traffic for the node itself: never a station's traffic the node routes or bridges.
    const std::string at = "meta nfproto ipv" + std::string(f) + " fib daddr type local " + to +
                           fam + " daddr . meta l4proto . th dport map @fwd" + f + "_at";
    pre.push_back(at);
    pre.push_back(any);
    local.push_back(at);
    local.push_back(any);
    post.push_back("ct status dnat " + fam + " daddr . meta l4proto . th dport @targets" + f +
                   " masquerade");
  }
  pre.insert(pre.begin(), "type nat hook prerouting priority dstnat; policy accept;");
  local.insert(local.begin(), "type nat hook output priority -100; policy accept;");
  post.insert(post.begin(), "type nat hook postrouting priority srcnat; policy accept;");
  appendChain(out, "prerouting", pre);
  appendChain(out, "output", local);
  appendChain(out, "postrouting", post);
}

std::string forwardsScript(const std::optional<std::vector<PortForward>>& forwards) {
  const std::string t = "table inet " + std::string(kTableName);
  std::string out = "add " + t + "\ndelete " + t + "\n";
  if (!forwards) return out;
  ForwardElements e = forwardElementsOf(*forwards);
  out += t + " {\n";
  const std::string service = " . inet_proto . inet_service";
  for (int i = 0; i < 2; ++i) {
    const std::string f = i == 0 ? "4" : "6";
    const std::string addr = i == 0 ? "ipv4_addr" : "ipv6_addr";
    appendSet(out, "fwd" + f + "_any",
              "type inet_proto . inet_service : " + addr + " . inet_service", e.any[i], "map");
    appendSet(out, "fwd" + f + "_at", "type " + addr + service + " : " + addr + " . inet_service",
              e.at[i], "map");
    appendSet(out, "targets" + f, "type " + addr + service, e.targets[i]);
  }
  appendForwardChains(out);
  out += "}\n";
  return out;
}

}  // namespace

std::string_view enforceModeName(EnforceMode mode) { return detail::nameOf(kModeNames, mode); }

Result<EnforceMode> parseEnforceMode(std::string_view text) {
  return detail::parseOf(kModeNames, text, "enforce");
}

std::string_view dropClassName(DropClass c) { return detail::nameOf(kDropClassNames, c); }

bool validPortName(std::string_view name) {
  if (name.empty() || name.size() > 15) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string renderRemoval() {
  const std::string t = "table bridge " + std::string(kTableName);
  const std::string h = "table netdev " + std::string(kTableName);
  return "add " + t + "\ndelete " + t + "\nadd " + h + "\ndelete " + h + "\n" +
         forwardsScript(std::nullopt);
}

// Plain host interfaces (no bridge): the same checks at each interface's ingress, in
// `table netdev netledger`, present only while some host interface is guarded.
std::string hostTable(const RulesetSpec& spec) {
  const std::string t = "table netdev " + std::string(kTableName);
  std::string out = "add " + t + "\ndelete " + t + "\n";
  if (spec.mode == EnforceMode::kOff) return out;
  const PortsByMode ports = portsByMode(spec, spec.host_ports);
  std::set<std::string> devices;
  for (const auto* set : {&ports.enforced, &ports.monitored}) {
    for (const std::string& p : *set) devices.insert(quoted(p));
  }
  if (devices.empty()) return out;
  std::string list;
  for (const std::string& d : devices) list += (list.empty() ? "" : ", ") + d;
  out += t + " {\n";
  appendSets(out, spec, ports);
  appendChains(out, ports,
               "type filter hook ingress devices = { " + list + " } priority -500; policy accept;",
               spec.log_group);
  out += "}\n";
  return out;
}

Result<std::string> renderGuard(const RulesetSpec& spec) {
  NL_RETURN_IF_ERROR(checkNames(spec));
  const std::string t = "table bridge " + std::string(kTableName);
  std::string out = "add " + t + "\ndelete " + t + "\n";
  if (spec.mode != EnforceMode::kOff) {
    const PortsByMode ports = portsByMode(spec, spec.guarded_ports);
    out += t + " {\n";
    appendSets(out, spec, ports);
    appendChains(out, ports, "type filter hook prerouting priority -300; policy accept;",
                 spec.log_group);
    out += "}\n";
  }
  return out + hostTable(spec);
}

Result<std::string> renderForwards(const std::optional<std::vector<PortForward>>& forwards) {
  for (const PortForward& f : forwards.value_or(std::vector<PortForward>{})) {
    if (f.protocol != "tcp" && f.protocol != "udp" && f.protocol != "sctp") {
      return Status::invalidArgument("protocol: " + f.protocol + " (tcp, udp or sctp)");
    }
  }
  return forwardsScript(forwards);
}

Result<std::string> renderRuleset(const RulesetSpec& spec) {
  auto guard = renderGuard(spec);
  if (!guard) return guard.status();
  auto forwards = renderForwards(spec.forwards);
  if (!forwards) return forwards.status();
  return *guard + *forwards;
}

}  // namespace netledger::enforce
