#include "cni/config.h"

#include <algorithm>

#include "common/parse.h"

namespace netledger::cni {

namespace json = boost::json;

namespace {

CniError invalidConfig(std::string msg) { return {kInvalidNetworkConfig, std::move(msg), ""}; }

CniResult<std::string> requiredEnv(const std::function<const char*(const char*)>& getenv,
                                   const char* name) {
  const char* v = getenv(name);
  if (v == nullptr || *v == '\0') {
    return CniError{kInvalidEnvironment, std::string(name) + ": required but not set", ""};
  }
  return std::string(v);
}

std::string optionalEnv(const std::function<const char*(const char*)>& getenv, const char* name) {
  const char* v = getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// A string member, or "" when absent; an error when present with another type.
CniResult<std::string> optString(const json::object& o, std::string_view key,
                                 std::string_view where) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::string();
  if (!v->is_string()) {
    return invalidConfig(std::string(where) + std::string(key) + ": must be a string");
  }
  return std::string(v->get_string());
}

CniResult<std::optional<addr::IpAddress>> optIp(const json::object& o, std::string_view key,
                                                std::string_view where) {
  auto text = optString(o, key, where);
  if (!text) return text.error();
  if (text->empty()) return std::optional<addr::IpAddress>();
  auto ip = addr::IpAddress::parse(*text);
  if (!ip) {
    return invalidConfig(std::string(where) + std::string(key) + ": " + ip.status().message());
  }
  return std::optional<addr::IpAddress>(*ip);
}

CniResult<HostLocalRange> parseRange(const json::value& v, const std::string& where) {
  const json::object* o = v.if_object();
  if (o == nullptr) return invalidConfig(where + ": must be an object");
  auto subnet_text = optString(*o, "subnet", where + ".");
  if (!subnet_text) return subnet_text.error();
  if (subnet_text->empty()) return invalidConfig(where + ".subnet: required");
  auto subnet = addr::Prefix::parse(*subnet_text);
  if (!subnet) return invalidConfig(where + ".subnet: " + subnet.status().message());
  HostLocalRange r{*subnet, {}, {}, {}};
  for (auto [key, field] :
       {std::pair{"rangeStart", &r.range_start}, std::pair{"rangeEnd", &r.range_end},
        std::pair{"gateway", &r.gateway}}) {
    auto ip = optIp(*o, key, where + ".");
    if (!ip) return ip.error();
    if (*ip && !subnet->contains(**ip)) {
      return invalidConfig(where + "." + key + ": " + (*ip)->toString() + " is outside subnet " +
                           subnet->toString());
    }
    *field = *ip;
  }
  return r;
}

// host-local's two spellings: flat subnet/rangeStart/rangeEnd/gateway, or ranges: [[...], ...].
CniResult<bool> parseRanges(const json::object& ipam, IpamConfig& out) {
  if (ipam.contains("subnet")) {
    if (ipam.contains("ranges"))
      return invalidConfig("ipam.subnet: give subnet or ranges, not both");
    auto r = parseRange(ipam, "ipam");
    if (!r) return r.error();
    out.range_sets.push_back({*r});
    return true;
  }
  const json::value* ranges = ipam.if_contains("ranges");
  if (ranges == nullptr) return false;
  const json::array* sets = ranges->if_array();
  if (sets == nullptr || sets->empty()) {
    return invalidConfig("ipam.ranges: must be a non-empty array of range sets");
  }
  for (std::size_t i = 0; i < sets->size(); ++i) {
    const std::string where = "ipam.ranges[" + std::to_string(i) + "]";
    const json::array* set = (*sets)[i].if_array();
    if (set == nullptr || set->empty()) {
      return invalidConfig(where + ": must be a non-empty array of ranges");
    }
    std::vector<HostLocalRange> parsed;
    for (std::size_t j = 0; j < set->size(); ++j) {
      auto r = parseRange((*set)[j], where + "[" + std::to_string(j) + "]");
      if (!r) return r.error();
      if (!parsed.empty() && parsed.front().subnet.family() != r->subnet.family()) {
        return invalidConfig(where + ": one range set must be all IPv4 or all IPv6");
      }
      parsed.push_back(*r);
    }
    out.range_sets.push_back(std::move(parsed));
  }
  return true;
}

CniResult<IpamConfig> parseIpam(const json::object& ipam, Command command, bool chained,
                                std::string_view where) {
  IpamConfig out;
  auto server = optString(ipam, "server", where);
  if (!server) return server.error();
  if (server->empty()) return invalidConfig(std::string(where) + "server: required");
  out.server = *server;
  auto token_file = optString(ipam, "tokenFile", where);
  if (!token_file) return token_file.error();
  out.token_file = *token_file;
  auto host = optString(ipam, "host", where);
  if (!host) return host.error();
  out.host = *host;
  auto network = optString(ipam, "network", where);
  if (!network) return network.error();
  out.network = *network;
  if (const json::value* pools = ipam.if_contains("pools")) {
    const json::array* a = pools->if_array();
    if (a == nullptr) return invalidConfig(std::string(where) + "pools: must be an array of names");
    for (const auto& p : *a) {
      if (!p.is_string() || p.get_string().empty()) {
        return invalidConfig(std::string(where) + "pools: every entry must be a pool name");
      }
      out.pools.emplace_back(p.get_string());
    }
  }
  auto has_ranges = parseRanges(ipam, out);
  if (!has_ranges) return has_ranges.error();
  if (*has_ranges && !out.pools.empty()) {
    return invalidConfig(std::string(where) + "pools: give pools or host-local ranges, not both");
  }
  if (!chained && command == Command::kAdd && out.pools.empty() && !*has_ranges) {
    return invalidConfig(std::string(where) +
                         "pools: required (or host-local subnet/ranges); none given");
  }
  if (const json::value* routes = ipam.if_contains("routes")) {
    const json::array* a = routes->if_array();
    if (a == nullptr) return invalidConfig(std::string(where) + "routes: must be an array");
    for (std::size_t i = 0; i < a->size(); ++i) {
      const json::object* r = (*a)[i].if_object();
      const json::value* dst = r ? r->if_contains("dst") : nullptr;
      if (dst == nullptr || !dst->is_string() ||
          !addr::Prefix::parseLoose(dst->get_string()).isOk()) {
        return invalidConfig(std::string(where) + "routes[" + std::to_string(i) +
                             "].dst: must be a CIDR prefix");
      }
    }
    out.routes = *a;
  }
  if (const json::value* dns = ipam.if_contains("dns")) {
    if (!dns->is_object()) return invalidConfig(std::string(where) + "dns: must be an object");
    out.dns = dns->get_object();
  }
  return out;
}

CniResult<int> portField(const json::object& o, std::string_view key, const std::string& where,
                         bool required) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr && !required) return 0;
  if (v == nullptr || !v->is_int64() || v->get_int64() < 1 || v->get_int64() > 65535) {
    return invalidConfig(where + "." + std::string(key) + ": must be a port (1-65535)");
  }
  return static_cast<int>(v->get_int64());
}

CniResult<PortMapping> parsePortMapping(const json::value& v, const std::string& where) {
  const json::object* o = v.if_object();
  if (o == nullptr) return invalidConfig(where + ": must be an object");
  PortMapping m;
  auto host = portField(*o, "hostPort", where, true);
  if (!host) return host.error();
  auto container = portField(*o, "containerPort", where, true);
  if (!container) return container.error();
  m.host_port = *host;
  m.container_port = *container;
  auto protocol = optString(*o, "protocol", where + ".");
  if (!protocol) return protocol.error();
  if (!protocol->empty()) m.protocol = *protocol;
  m.protocol = asciiLower(m.protocol);
  if (m.protocol != "tcp" && m.protocol != "udp" && m.protocol != "sctp") {
    return invalidConfig(where + ".protocol: must be tcp, udp or sctp");
  }
  auto ip = optIp(*o, "hostIP", where + ".");
  if (!ip) return ip.error();
  if (*ip && ip->value().bits() != 0) m.host_ip = *ip;  // 0.0.0.0 and :: mean every address
  return m;
}

// runtimeConfig.portMappings, when the runtime passed the capability.
CniResult<std::vector<PortMapping>> parsePortMappings(const json::object& root) {
  const json::value* rc = root.if_contains("runtimeConfig");
  if (rc == nullptr || rc->is_null()) return std::vector<PortMapping>{};
  if (!rc->is_object()) return invalidConfig("runtimeConfig: must be an object");
  const json::value* list = rc->get_object().if_contains("portMappings");
  if (list == nullptr || list->is_null()) return std::vector<PortMapping>{};
  if (!list->is_array()) return invalidConfig("runtimeConfig.portMappings: must be an array");
  std::vector<PortMapping> out;
  for (std::size_t i = 0; i < list->get_array().size(); ++i) {
    auto m = parsePortMapping(list->get_array()[i],
                              "runtimeConfig.portMappings[" + std::to_string(i) + "]");
    if (!m) return m.error();
    out.push_back(std::move(*m));
  }
  return out;
}

}  // namespace

const std::vector<std::string>& supportedVersions() {
  static const std::vector<std::string> versions{"0.3.1", "0.4.0", "1.0.0"};
  return versions;
}

bool isSupportedVersion(std::string_view version) {
  const auto& v = supportedVersions();
  return std::find(v.begin(), v.end(), version) != v.end();
}

CniResult<CniEnv> parseEnv(const std::function<const char*(const char*)>& getenv) {
  auto command = requiredEnv(getenv, "CNI_COMMAND");
  if (!command) return command.error();
  CniEnv env;
  if (*command == "ADD") {
    env.command = Command::kAdd;
  } else if (*command == "DEL") {
    env.command = Command::kDel;
  } else if (*command == "CHECK") {
    env.command = Command::kCheck;
  } else if (*command == "VERSION") {
    env.command = Command::kVersion;
    return env;
  } else {
    return CniError{kInvalidEnvironment,
                    "CNI_COMMAND: unknown command \"" + command->substr(0, 32) +
                        "\" (known: ADD, DEL, CHECK, VERSION)",
                    ""};
  }
  auto id = requiredEnv(getenv, "CNI_CONTAINERID");
  if (!id) return id.error();
  env.container_id = *id;
  auto ifname = requiredEnv(getenv, "CNI_IFNAME");
  if (!ifname) return ifname.error();
  env.ifname = *ifname;
  if (env.command == Command::kDel) {
    env.netns = optionalEnv(getenv, "CNI_NETNS");  // DEL may come after the namespace is gone
  } else {
    auto netns = requiredEnv(getenv, "CNI_NETNS");
    if (!netns) return netns.error();
    env.netns = *netns;
  }
  env.args = optionalEnv(getenv, "CNI_ARGS");
  env.path = optionalEnv(getenv, "CNI_PATH");
  return env;
}

std::string peekVersion(std::string_view stdin_text) {
  boost::system::error_code ec;
  json::value v = json::parse(stdin_text, ec);
  if (ec || !v.is_object()) return "";
  const json::value* version = v.get_object().if_contains("cniVersion");
  return version && version->is_string() ? std::string(version->get_string()) : "";
}

CniResult<NetConfig> parseNetConfig(std::string_view stdin_text, Command command) {
  boost::system::error_code ec;
  json::value v = json::parse(stdin_text, ec);
  if (ec) {
    return CniError{kDecodeFailure, "network configuration on stdin: invalid JSON: " + ec.message(),
                    ""};
  }
  const json::object* root = v.if_object();
  if (root == nullptr) return CniError{kDecodeFailure, "network configuration: not an object", ""};
  NetConfig conf;
  auto version = optString(*root, "cniVersion", "");
  if (!version) return version.error();
  if (version->empty()) return invalidConfig("cniVersion: required");
  if (!isSupportedVersion(*version)) {
    return CniError{kIncompatibleVersion,
                    "cniVersion: \"" + version->substr(0, 32) +
                        "\" is not supported (supported: 0.3.1, 0.4.0, 1.0.0)",
                    ""};
  }
  conf.cni_version = *version;
  auto name = optString(*root, "name", "");
  if (!name) return name.error();
  conf.name = *name;
  auto type = optString(*root, "type", "");
  if (!type) return type.error();
  conf.type = *type;
  conf.chained = conf.type == kPluginType;
  if (const json::value* prev = root->if_contains("prevResult"); prev && !prev->is_null()) {
    if (!prev->is_object()) return invalidConfig("prevResult: must be an object");
    conf.prev_result = prev->get_object();
  }
  auto mappings = parsePortMappings(*root);
  if (!mappings) return mappings.error();
  conf.port_mappings = std::move(*mappings);
  // Chained, the settings are the plugin's own (top level, or an "ipam"-shaped block is
  // accepted too); as IPAM they are in "ipam".
  const json::value* ipam = root->if_contains("ipam");
  if (ipam != nullptr && !ipam->is_object()) return invalidConfig("ipam: must be an object");
  if (conf.chained) {
    auto parsed = parseIpam(ipam ? ipam->get_object() : *root, command, true, ipam ? "ipam." : "");
    if (!parsed) return parsed.error();
    conf.ipam = std::move(*parsed);
    return conf;
  }
  if (ipam == nullptr) return invalidConfig("ipam: required");
  const json::value* ipam_type = ipam->get_object().if_contains("type");
  if (ipam_type == nullptr || !ipam_type->is_string() || ipam_type->get_string() != kPluginType) {
    return invalidConfig("ipam.type: must be \"netledger-cni\"");
  }
  auto parsed = parseIpam(ipam->get_object(), command, false, "ipam.");
  if (!parsed) return parsed.error();
  conf.ipam = std::move(*parsed);
  return conf;
}

}  // namespace netledger::cni
