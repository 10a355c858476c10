#pragma once
// What the kernel says about a network interface (sysfs): its MAC, whether it is a bridge and
// which ports the bridge has. The agent snoops a bridge's ports (so each observation names the
// port a station is behind) and sends on the bridge itself (so frames reach every port).

#include <string>
#include <vector>

#include "addr/mac.h"
#include "common/status.h"

namespace netledger::agent {

// not_found when the interface does not exist; invalid_argument when it has no Ethernet MAC.
Result<addr::Mac> interfaceMac(const std::string& name);
bool interfaceExists(const std::string& name);
bool isBridge(const std::string& name);
// The bridge's ports, sorted; empty when it has none (or is not a bridge).
std::vector<std::string> bridgePorts(const std::string& bridge);

}  // namespace netledger::agent
