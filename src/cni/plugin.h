#pragma once
// The CNI commands (ADD, DEL, CHECK, VERSION) of netledger-cni, as an IPAM plugin and as a
// chained plugin. apps/netledger-cni/main.cc only wires the process to run().

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "addr/mac.h"
#include "cni/cni_error.h"
#include "cni/config.h"

namespace netledger::cni {

struct PluginOutput {
  int exit_code = 0;
  std::string stdout_text;  // the result, the version answer or the error JSON
};

// The MAC of interface `ifname` in the network namespace at `netns`, nullopt when unknown
// (sandboxInterfaceMac in the plugin binary).
using MacReader =
    std::function<std::optional<addr::Mac>(const std::string& netns, const std::string& ifname)>;

// Runs one invocation. `getenv`, `hostname` and `sandbox_mac` are seams for tests; an IPAM ADD
// with `sandbox_mac` records the pod interface's MAC with the allocation when it already
// exists. Never throws.
PluginOutput run(const std::function<const char*(const char*)>& getenv, std::string_view stdin_text,
                 const std::function<std::string()>& hostname, const MacReader& sandbox_mac = {});

// The spec's error object {cniVersion, code, msg, details?}.
std::string errorJson(std::string_view cni_version, const CniError& error);
// The VERSION answer.
std::string versionJson(std::string_view cni_version);
// The IPAM result for `binding` (the allocation answer), with each address's prefix and gateway
// from its address_networks, else from its pool in `pools` (as GET /v1/pools/{name} returns
// them; a server older than address_networks): every address in CIDR form with its gateway;
// 0.3.x/0.4.0 also name the IP version. kInvalidNetworkConfig when an address lies outside its
// pool's prefixes (a pool changed under us).
CniResult<boost::json::object> ipamResult(const NetConfig& conf, const boost::json::object& binding,
                                          const std::map<std::string, boost::json::object>& pools);
// The pool name used for a host-local range set: "<network name>-<first subnet>", lower case,
// [a-z0-9-] only, at most 63 characters.
std::string hostLocalPoolName(const std::string& network_name, const addr::Prefix& subnet);

}  // namespace netledger::cni
