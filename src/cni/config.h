#pragma once
// What the runtime gives the plugin: the CNI_* environment and the network configuration on
// stdin (CNI spec 1.0.0, also 0.3.1 and 0.4.0). Parsing never throws; every error names the
// field and carries the spec's code (4: environment, 6: undecodable JSON, 7: invalid config,
// 1: unsupported cniVersion).

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "addr/ip_address.h"
#include "addr/prefix.h"
#include "cni/cni_error.h"

namespace netledger::cni {

enum class Command { kAdd, kDel, kCheck, kVersion };

struct CniEnv {
  Command command = Command::kVersion;
  std::string container_id;
  std::string netns;
  std::string ifname;
  std::string args;  // CNI_ARGS, "K=V;K=V"
  std::string path;
};

// Reads CNI_COMMAND and what that command needs (ADD/CHECK: all of CNI_CONTAINERID, CNI_NETNS,
// CNI_IFNAME; DEL: CNI_CONTAINERID and CNI_IFNAME). `getenv` is a seam for tests.
CniResult<CniEnv> parseEnv(const std::function<const char*(const char*)>& getenv);

// One host-local range: `subnet` with optional rangeStart, rangeEnd and gateway.
struct HostLocalRange {
  addr::Prefix subnet;
  std::optional<addr::IpAddress> range_start;
  std::optional<addr::IpAddress> range_end;
  std::optional<addr::IpAddress> gateway;
};

struct IpamConfig {
  std::string server;      // base URL of netledgerd
  std::string token_file;  // optional: bearer token, first line
  std::vector<std::string> pools;
  // host-local syntax: one inner vector per range set (one address per set), when no pools.
  std::vector<std::vector<HostLocalRange>> range_sets;
  std::string network;  // ledger network (routing domain) for host-local pools; "" = default
  std::string host;     // node name; "" = this machine's hostname
  boost::json::array routes;
  std::optional<boost::json::object> dns;
};

// One entry of runtimeConfig.portMappings (the CNI `portMappings` capability, as the
// reference portmap plugin reads it).
struct PortMapping {
  int host_port = 0;
  int container_port = 0;
  std::string protocol = "tcp";
  std::optional<addr::IpAddress> host_ip;  // unset: every address of the node ("" or 0.0.0.0/::)
};

struct NetConfig {
  std::string cni_version;
  std::string name;
  std::string type;
  IpamConfig ipam;
  // True when netledger-cni runs as a chained plugin (its own "type", with or without a
  // prevResult); false when the main plugin calls it as its IPAM.
  bool chained = false;
  std::optional<boost::json::object> prev_result;
  // runtimeConfig.portMappings: recorded as /v1/portmaps of the binding (ADD), removed (DEL).
  std::vector<PortMapping> port_mappings;
};

inline constexpr std::string_view kPluginType = "netledger-cni";
inline constexpr std::string_view kLatestVersion = "1.0.0";
// Every version VERSION reports and configurations may ask for.
const std::vector<std::string>& supportedVersions();
bool isSupportedVersion(std::string_view version);

// Parses the network configuration. ADD and CHECK need a server and, in IPAM mode, pools or
// host-local ranges; DEL needs only the server.
CniResult<NetConfig> parseNetConfig(std::string_view stdin_text, Command command);

// The cniVersion of `stdin_text` when it is a JSON object with a string cniVersion, else "":
// errors are printed in the version the runtime asked for.
std::string peekVersion(std::string_view stdin_text);

}  // namespace netledger::cni
