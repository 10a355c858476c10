#pragma once
// The MAC of the pod's interface, read inside the pod's network namespace. The reference bridge
// plugin creates CNI_IFNAME in CNI_NETNS before it execs the IPAM plugin, so the IPAM step can
// record the MAC with the allocation (one commit for the whole IP <-> MAC <-> host row) and the
// chained step has nothing left to write. ptp creates its interface after IPAM: there, as for
// any failure, there is no MAC and the chained step records it.

#include <optional>
#include <string>

#include "addr/mac.h"

namespace netledger::cni {

// The hardware address of Ethernet interface `ifname` in the network namespace at `netns_path`
// (e.g. /var/run/netns/NAME or /proc/PID/ns/net); nullopt when it cannot be read (no such
// namespace or interface, no privilege to enter it, not Ethernet, an all-zero or multicast
// address). The namespace is entered by a short-lived thread of its own: the calling thread's
// namespace never changes, whatever fails.
std::optional<addr::Mac> sandboxInterfaceMac(const std::string& netns_path,
                                             const std::string& ifname);

}  // namespace netledger::cni
