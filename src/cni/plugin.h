#pragma once
// The CNI commands (ADD, DEL, CHECK, VERSION) of netledger-cni, as an IPAM plugin and as a
// chained plugin. apps/netledger-cni/main.cc only wires the process to run().

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "cni/cni_error.h"
#include "cni/config.h"

namespace netledger::cni {

struct PluginOutput {
  int exit_code = 0;
  std::string stdout_text;  // the result, the version answer or the error JSON
};

// Runs one invocation. `getenv` and `hostname` are seams for tests. Never throws.
PluginOutput run(const std::function<const char*(const char*)>& getenv, std::string_view stdin_text,
                 const std::function<std::string()>& hostname);

// The spec's error object {cniVersion, code, msg, details?}.
std::string errorJson(std::string_view cni_version, const CniError& error);
// The VERSION answer.
std::string versionJson(std::string_view cni_version);
// The IPAM result for `binding` (a binding as the API returns it), given each of its pools
// (as GET /v1/pools/{name} returns them): every address in CIDR form with its pool's gateway;
// 0.3.x/0.4.0 also name the IP version. kInvalidNetworkConfig when an address lies outside its
// pool's prefixes (a pool changed under us).
CniResult<boost::json::object> ipamResult(const NetConfig& conf, const boost::json::object& binding,
                                          const std::map<std::string, boost::json::object>& pools);
// The pool name used for a host-local range set: "<network name>-<first subnet>", lower case,
// [a-z0-9-] only, at most 63 characters.
std::string hostLocalPoolName(const std::string& network_name, const addr::Prefix& subnet);

}  // namespace netledger::cni
