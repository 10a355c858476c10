#include "cni/plugin.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "addr/ip_range.h"
#include "cni/ledger_api.h"

namespace netledger::cni {

namespace json = boost::json;

namespace {

std::string stringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// "198.51.100.7/24" -> "198.51.100.7"
std::string addressPart(std::string_view cidr) {
  return std::string(cidr.substr(0, cidr.find('/')));
}

PluginOutput failure(std::string_view version, const CniError& error) {
  return {1, errorJson(version.empty() ? kLatestVersion : version, error) + "\n"};
}

PluginOutput success(const json::value& v) { return {0, json::serialize(v) + "\n"}; }

// host-local's first host of a subnet, for both families: the network address + 1 (the IPv6
// all-zeros address is the subnet-router anycast address, RFC 4291 2.6.1).
addr::IpAddress firstHost(const addr::Prefix& subnet) {
  auto next = subnet.first().next();
  return next && subnet.contains(*next) && subnet.length() < subnet.first().width() - 1
             ? *next
             : subnet.firstUsable();
}

// The usable pool range of one host-local range: rangeStart/rangeEnd defaulting as host-local
// does (first host and last usable address of the subnet).
addr::IpRange usableRange(const HostLocalRange& r) {
  const addr::IpAddress first = r.range_start.value_or(firstHost(r.subnet));
  const addr::IpAddress last = r.range_end.value_or(r.subnet.lastUsable());
  auto range = addr::IpRange::make(first, last);
  return range ? *range : addr::IpRange::of(r.subnet);
}

// host-local defaults the gateway to the subnet's first host; reserving it in the pool keeps a
// bridge with isGateway from sharing its address with a pod.
addr::IpAddress gatewayOf(const HostLocalRange& r) {
  return r.gateway.value_or(firstHost(r.subnet));
}

CniResult<std::vector<std::string>> ensureHostLocalPools(LedgerApi& api, const NetConfig& conf) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < conf.ipam.range_sets.size(); ++i) {
    const auto& set = conf.ipam.range_sets[i];
    const std::string name = hostLocalPoolName(conf.name, set.front().subnet);
    json::array cidrs, ranges;
    const bool explicit_ranges = std::any_of(set.begin(), set.end(), [](const HostLocalRange& r) {
      return r.range_start.has_value() || r.range_end.has_value();
    });
    for (const auto& r : set) {
      cidrs.emplace_back(r.subnet.toString());
      if (explicit_ranges) ranges.emplace_back(usableRange(r).toString());
    }
    json::object request{{"name", name}, {"cidrs", cidrs}};
    request["gateway"] = gatewayOf(set.front()).toString();
    if (explicit_ranges) request["ranges"] = ranges;
    if (!conf.ipam.network.empty()) request["network"] = conf.ipam.network;
    auto pool = api.createOrGetPool(request);
    if (!pool) return pool.error();
    // Reused only when it is the same address space: a name clash must not hand out addresses
    // from a different subnet.
    const json::value* have = pool->if_contains("cidrs");
    if (have == nullptr || !have->is_array() || have->get_array() != cidrs) {
      return CniError{kInvalidNetworkConfig,
                      "ipam.ranges[" + std::to_string(i) + "]: pool \"" + name +
                          "\" exists in the ledger with other prefixes (" +
                          (have ? json::serialize(*have) : std::string("none")) + ")",
                      ""};
    }
    names.push_back(name);
  }
  return names;
}

struct AnsweredNetwork {
  addr::Prefix prefix;
  std::string gateway;  // "" when the pool has none in `prefix`
};

// The prefix and gateway of `ip` from the allocation answer's address_networks; nullopt when
// the answer has no prefix holding it (a netledgerd older than address_networks): the caller
// reads the pool instead.
std::optional<AnsweredNetwork> answeredNetwork(const json::object& binding,
                                               const addr::IpAddress& ip) {
  const json::value* networks = binding.if_contains("address_networks");
  if (networks == nullptr || !networks->is_array()) return std::nullopt;
  for (const auto& n : networks->get_array()) {
    if (!n.is_object()) continue;
    auto listed = addr::IpAddress::parse(stringField(n.get_object(), "ip"));
    if (!listed || *listed != ip) continue;
    auto prefix = addr::Prefix::parse(stringField(n.get_object(), "prefix"));
    if (!prefix || !prefix->contains(ip)) return std::nullopt;
    return AnsweredNetwork{*prefix, stringField(n.get_object(), "gateway")};
  }
  return std::nullopt;
}

// Fetches each pool the binding's addresses came from (once per pool), except for addresses
// whose prefix the allocation answer already gave (then there is no request at all).
CniResult<std::map<std::string, json::object>> poolsOf(LedgerApi& api,
                                                       const json::object& binding) {
  std::map<std::string, json::object> pools;
  const json::value* detail = binding.if_contains("address_pools");
  if (detail == nullptr || !detail->is_array()) return pools;
  for (const auto& d : detail->get_array()) {
    if (!d.is_object()) continue;
    auto ip = addr::IpAddress::parse(stringField(d.get_object(), "ip"));
    if (ip && answeredNetwork(binding, *ip)) continue;
    const std::string name = stringField(d.get_object(), "pool");
    if (name.empty() || pools.contains(name)) continue;
    auto pool = api.pool(name);
    if (!pool) return pool.error();
    pools.emplace(name, std::move(*pool));
  }
  return pools;
}

// The families the binding holds an address of ("ipv4", "ipv6").
std::vector<std::string> familiesOf(const json::object& binding) {
  std::vector<std::string> out;
  const json::value* addresses = binding.if_contains("addresses");
  if (addresses == nullptr || !addresses->is_array()) return out;
  for (const auto& a : addresses->get_array()) {
    if (!a.is_string()) continue;
    std::string family =
        std::string(a.get_string()).find(':') == std::string::npos ? "ipv4" : "ipv6";
    if (std::find(out.begin(), out.end(), family) == out.end()) out.push_back(family);
  }
  return out;
}

bool sameMapping(const json::object& have, const json::object& want) {
  for (const char* k : {"protocol", "host_port", "port", "family", "node"}) {
    const json::value* a = have.if_contains(k);
    const json::value* b = want.if_contains(k);
    if (a == nullptr || b == nullptr || *a != *b) return false;
  }
  const json::value* at = have.if_contains("host_address");
  const json::value* want_at = want.if_contains("host_address");
  return want_at ? (at != nullptr && *at == *want_at) : (at == nullptr || at->is_null());
}

// runtimeConfig.portMappings as the binding's /v1/portmaps: one per mapping and family (a
// mapping without hostIP forwards every family the binding holds). A repeated ADD finds them
// made; a host port held by another binding fails the ADD naming the holder.
CniResult<bool> recordPortMappings(LedgerApi& api, const NetConfig& conf,
                                   const json::object& binding, const std::string& host) {
  if (conf.port_mappings.empty()) return true;
  const std::string id = stringField(binding, "id");
  auto existing = api.portMaps(id);
  if (!existing) return existing.error();
  std::int64_t binding_id = 0;
  std::from_chars(id.data(), id.data() + id.size(), binding_id);
  for (const PortMapping& m : conf.port_mappings) {
    std::vector<std::string> families = familiesOf(binding);
    if (m.host_ip) families = {m.host_ip->isV4() ? "ipv4" : "ipv6"};
    for (const std::string& family : families) {
      json::object want{{"binding_id", binding_id}, {"node", host},
                        {"protocol", m.protocol},   {"host_port", m.host_port},
                        {"port", m.container_port}, {"family", family}};
      if (m.host_ip) want["host_address"] = m.host_ip->toString();
      if (std::any_of(existing->begin(), existing->end(),
                      [&](const json::object& have) { return sameMapping(have, want); })) {
        continue;
      }
      auto made = api.createPortMap(want);
      if (!made) return made.error();
    }
  }
  return true;
}

// The bindings' mappings, deleted (DEL; the ledger would also drop them with the binding).
CniResult<bool> removePortMappings(LedgerApi& api, const std::vector<json::object>& bindings) {
  for (const auto& b : bindings) {
    auto maps = api.portMaps(stringField(b, "id"));
    if (!maps) return maps.error();
    for (const auto& m : *maps) {
      auto gone = api.deletePortMap(stringField(m, "id"));
      if (!gone) return gone.error();
    }
  }
  return true;
}

PluginOutput addIpam(LedgerApi& api, const CniEnv& env, const NetConfig& conf,
                     const std::string& host, const std::optional<addr::Mac>& mac) {
  std::vector<std::string> pools = conf.ipam.pools;
  if (pools.empty()) {
    auto created = ensureHostLocalPools(api, conf);
    if (!created) return failure(conf.cni_version, created.error());
    pools = std::move(*created);
  }
  json::array pool_names;
  for (const auto& p : pools) pool_names.emplace_back(p);
  json::object request{{"instance", env.container_id},
                       {"interface", env.ifname},
                       {"pools", std::move(pool_names)},
                       {"host", host}};
  // The main plugin already created the pod's interface (the reference bridge does): the
  // binding is created with its MAC, and the chained step finds nothing left to write.
  if (mac) request["mac"] = mac->toString();
  auto binding = api.allocate(request);
  if (!binding) return failure(conf.cni_version, binding.error());
  if (auto mapped = recordPortMappings(api, conf, *binding, host); !mapped) {
    return failure(conf.cni_version, mapped.error());
  }
  auto pool_map = poolsOf(api, *binding);
  if (!pool_map) return failure(conf.cni_version, pool_map.error());
  auto result = ipamResult(conf, *binding, *pool_map);
  if (!result) return failure(conf.cni_version, result.error());
  return success(*result);
}

// The MAC of the container-side interface named `ifname` in a prevResult.
CniResult<std::string> sandboxMac(const json::object& prev, const std::string& ifname) {
  const json::value* interfaces = prev.if_contains("interfaces");
  if (interfaces != nullptr && interfaces->is_array()) {
    for (const auto& i : interfaces->get_array()) {
      if (!i.is_object()) continue;
      const json::object& o = i.get_object();
      if (stringField(o, "name") == ifname && !stringField(o, "sandbox").empty()) {
        const std::string mac = stringField(o, "mac");
        if (mac.empty()) break;
        return mac;
      }
    }
  }
  return CniError{kInvalidNetworkConfig,
                  "prevResult.interfaces: no sandbox interface \"" + ifname + "\" with a mac", ""};
}

PluginOutput addChained(LedgerApi& api, const CniEnv& env, const NetConfig& conf,
                        const std::string& host) {
  if (!conf.prev_result) {
    return failure(conf.cni_version,
                   {kInvalidNetworkConfig,
                    "prevResult: required when netledger-cni runs as a chained plugin", ""});
  }
  auto mac = sandboxMac(*conf.prev_result, env.ifname);
  if (!mac) return failure(conf.cni_version, mac.error());
  auto live = api.liveBindings(env.container_id, env.ifname);
  if (!live) return failure(conf.cni_version, live.error());
  if (live->empty()) {
    return failure(conf.cni_version,
                   {kNoBinding,
                    "no ledger binding for container " + env.container_id + " interface " +
                        env.ifname + ": is netledger-cni the IPAM plugin of the main plugin?",
                    ""});
  }
  const json::object& binding = live->front();
  json::object changes;
  if (stringField(binding, "mac") != *mac) changes["mac"] = *mac;
  if (stringField(binding, "host") != host) changes["host"] = host;
  if (!changes.empty()) {
    auto updated = api.updateBinding(stringField(binding, "id"), changes);
    if (!updated) return failure(conf.cni_version, updated.error());
  }
  if (auto mapped = recordPortMappings(api, conf, binding, host); !mapped) {
    return failure(conf.cni_version, mapped.error());
  }
  json::object out = *conf.prev_result;
  out["cniVersion"] = conf.cni_version;
  return success(out);
}

PluginOutput del(LedgerApi& api, const CniEnv& env, const NetConfig& conf) {
  if (conf.chained && conf.port_mappings.empty()) return {0, ""};
  auto live = api.liveBindings(env.container_id, env.ifname);
  if (!live) return failure(conf.cni_version, live.error());
  // Best effort: the ledger drops a released binding's mappings anyway, so a port-map API that
  // does not answer must not keep the pod from being torn down.
  if (!conf.port_mappings.empty()) (void)removePortMappings(api, *live);
  // Chained, the IPAM step releases; releasing here too would be harmless but is not ours.
  if (conf.chained) return {0, ""};
  for (const auto& b : *live) {
    auto released = api.release(stringField(b, "id"));
    if (!released) return failure(conf.cni_version, released.error());
  }
  return {0, ""};
}

PluginOutput check(LedgerApi& api, const CniEnv& env, const NetConfig& conf) {
  auto live = api.liveBindings(env.container_id, env.ifname);
  if (!live) return failure(conf.cni_version, live.error());
  if (live->empty()) {
    return failure(
        conf.cni_version,
        {conf.chained ? kNoBinding : kUnknownContainer,
         "no ledger binding for container " + env.container_id + " interface " + env.ifname, ""});
  }
  const json::object& binding = live->front();
  if (!conf.prev_result) return {0, ""};
  if (conf.chained) {
    auto mac = sandboxMac(*conf.prev_result, env.ifname);
    if (!mac) return failure(conf.cni_version, mac.error());
    if (stringField(binding, "mac") != *mac) {
      return failure(conf.cni_version,
                     {kBindingMismatch,
                      "binding " + stringField(binding, "id") + " has mac " +
                          stringField(binding, "mac") + ", the interface has " + *mac,
                      ""});
    }
    return {0, ""};
  }
  std::vector<std::string> seen;
  if (const json::value* ips = conf.prev_result->if_contains("ips"); ips && ips->is_array()) {
    for (const auto& ip : ips->get_array()) {
      if (ip.is_object()) seen.push_back(addressPart(stringField(ip.get_object(), "address")));
    }
  }
  if (const json::value* addresses = binding.if_contains("addresses");
      addresses && addresses->is_array()) {
    for (const auto& a : addresses->get_array()) {
      if (!a.is_string()) continue;
      if (std::find(seen.begin(), seen.end(), a.get_string()) == seen.end()) {
        return failure(conf.cni_version,
                       {kBindingMismatch,
                        "prevResult.ips: lacks " + std::string(a.get_string()) +
                            ", which the ledger binds to container " + env.container_id,
                        ""});
      }
    }
  }
  return {0, ""};
}

}  // namespace

std::string errorJson(std::string_view cni_version, const CniError& error) {
  json::object o{{"cniVersion", cni_version}, {"code", error.code}, {"msg", error.msg}};
  if (!error.details.empty()) o["details"] = error.details;
  return json::serialize(o);
}

std::string versionJson(std::string_view cni_version) {
  json::array versions;
  for (const auto& v : supportedVersions()) versions.emplace_back(v);
  return json::serialize(
      json::object{{"cniVersion", isSupportedVersion(cni_version) ? cni_version : kLatestVersion},
                   {"supportedVersions", std::move(versions)}});
}

std::string hostLocalPoolName(const std::string& network_name, const addr::Prefix& subnet) {
  std::string name =
      (network_name.empty() ? std::string("cni") : network_name) + "-" + subnet.toString();
  for (char& c : name) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '-';
  }
  if (name.size() > 63) name.resize(63);
  return name;
}

CniResult<json::object> ipamResult(const NetConfig& conf, const json::object& binding,
                                   const std::map<std::string, json::object>& pools) {
  const bool versioned_ips = conf.cni_version != "1.0.0";  // 0.3.x/0.4.0 name the IP version
  json::array ips;
  const json::value* detail = binding.if_contains("address_pools");
  if (detail != nullptr && detail->is_array()) {
    for (const auto& d : detail->get_array()) {
      if (!d.is_object()) continue;
      auto ip = addr::IpAddress::parse(stringField(d.get_object(), "ip"));
      if (!ip) continue;
      auto pool = pools.find(stringField(d.get_object(), "pool"));
      std::optional<addr::Prefix> prefix;
      std::string gateway;
      if (auto answered = answeredNetwork(binding, *ip)) {
        prefix = answered->prefix;
        gateway = answered->gateway;
      } else if (pool != pools.end()) {
        gateway = stringField(pool->second, "gateway");
        if (const json::value* cidrs = pool->second.if_contains("cidrs");
            cidrs && cidrs->is_array()) {
          for (const auto& c : cidrs->get_array()) {
            auto p = c.is_string() ? addr::Prefix::parse(c.get_string()) : addr::Prefix::parse("");
            if (p && p->contains(*ip)) prefix = *p;
          }
        }
      }
      if (!prefix) {
        return CniError{kInvalidNetworkConfig,
                        "address " + ip->toString() + " is in none of its pool's prefixes", ""};
      }
      json::object entry;
      if (versioned_ips) entry["version"] = ip->family() == addr::IpFamily::kV4 ? "4" : "6";
      entry["address"] = ip->toString() + "/" + std::to_string(prefix->length());
      if (!gateway.empty()) {
        auto gw = addr::IpAddress::parse(gateway);
        if (gw && prefix->contains(*gw)) entry["gateway"] = gw->toString();
      }
      ips.emplace_back(std::move(entry));
    }
  }
  json::object result{{"cniVersion", conf.cni_version}, {"ips", std::move(ips)}};
  if (!conf.ipam.routes.empty()) result["routes"] = conf.ipam.routes;
  result["dns"] = conf.ipam.dns ? json::value(*conf.ipam.dns) : json::value(json::object());
  return result;
}

PluginOutput run(const std::function<const char*(const char*)>& getenv, std::string_view stdin_text,
                 const std::function<std::string()>& hostname, const MacReader& sandbox_mac) {
  const std::string asked = peekVersion(stdin_text);
  const std::string version = isSupportedVersion(asked) ? asked : std::string(kLatestVersion);
  auto env = parseEnv(getenv);
  if (!env) return failure(version, env.error());
  if (env->command == Command::kVersion) return {0, versionJson(asked) + "\n"};
  auto conf = parseNetConfig(stdin_text, env->command);
  if (!conf) return failure(version, conf.error());
  if (env->command == Command::kCheck && conf->cni_version == "0.3.1") {
    return failure(version, {kIncompatibleVersion, "CHECK: needs cniVersion 0.4.0 or later", ""});
  }
  // Read before the HTTP client exists: a failure only means no MAC (the chained step or
  // nothing records it, as before).
  std::optional<addr::Mac> mac;
  if (env->command == Command::kAdd && !conf->chained && sandbox_mac) {
    mac = sandbox_mac(env->netns, env->ifname);
  }
  auto api = LedgerApi::create(conf->ipam);
  if (!api) return failure(version, api.error());
  const std::string host = conf->ipam.host.empty() ? hostname() : conf->ipam.host;
  switch (env->command) {
    case Command::kAdd:
      return conf->chained ? addChained(**api, *env, *conf, host)
                           : addIpam(**api, *env, *conf, host, mac);
    case Command::kDel:
      return del(**api, *env, *conf);
    case Command::kCheck:
      return check(**api, *env, *conf);
    case Command::kVersion:
      break;
  }
  return {0, ""};
}

}  // namespace netledger::cni
