#pragma once
// After a binding moved to this node (live migration, VIP failover), tell the link at once
// instead of waiting for caches to time out: gratuitous ARP in both forms (RFC 5227 announcement
// = request with sender IP == target IP; and the reply form that many stacks and failover
// daemons send) for each IPv4 address, and an unsolicited neighbor advertisement with the
// override flag to all-nodes (RFC 4861 7.2.6) for each IPv6 address, `count` rounds
// `interval` apart.
//
// The frames speak for the binding's MAC (ARP sender hardware address, NA target link-layer
// address), but leave from the agent's interface with that interface's Ethernet source, so
// bridges keep learning the instance's MAC on the instance's own port.

#include <atomic>

#include "agent/config.h"
#include "agent/jobs.h"
#include "agent/link_layer.h"
#include "wire/frames.h"

namespace netledger::agent {

wire::FrameBytes buildGratuitousArp(addr::Mac own, addr::Mac mac, addr::Ipv4 ip,
                                    wire::AnnouncementForm form);
wire::FrameBytes buildUnsolicitedNa(addr::Mac own, addr::Mac mac, addr::Ipv6 ip);

// Returns the frames sent (summed over interfaces).
int announce(LinkLayer& link, const AnnounceJob& job, int count, Millis interval,
             const std::atomic<bool>& stop);

}  // namespace netledger::agent
