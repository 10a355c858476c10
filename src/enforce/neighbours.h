#pragma once
// Pinned neighbours ("address fixing"): permanent ARP/NDP entries on the host side of a bridge
// for the ledger's pairs, so the host and the gateway on it never learn another MAC for a bound
// address, whatever the wire says. Kept through rtnetlink; every entry this writes carries
// netledger's protocol mark (NDA_PROTOCOL = kNeighbourProtocol), and only marked entries are
// ever removed, so an operator's own static entries are left alone (and win: an address the
// operator pinned is not pinned again).
//
//   auto pins = NeighbourPins::open();
//   NL_RETURN_IF_ERROR((*pins)->sync("br0", {{ip, mac}, ...}));  // exactly these, pinned
//   NL_RETURN_IF_ERROR((*pins)->sync("br0", {}));               // ours removed
//
// Needs CAP_NET_ADMIN in the namespace. Not thread-safe: one owner.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "addr/ip_address.h"
#include "addr/mac.h"
#include "common/status.h"

namespace netledger::enforce {

// The mark on our entries (a value of the RTPROT_* space no routing daemon uses).
inline constexpr std::uint8_t kNeighbourProtocol = 0xa7;

struct PinnedNeighbour {
  addr::IpAddress ip;
  addr::Mac mac;
  friend bool operator==(const PinnedNeighbour&, const PinnedNeighbour&) = default;
};

class NeighbourPins {
 public:
  // unavailable when no rtnetlink socket can be opened.
  static Result<std::unique_ptr<NeighbourPins>> open();
  ~NeighbourPins();
  NeighbourPins(const NeighbourPins&) = delete;
  NeighbourPins& operator=(const NeighbourPins&) = delete;

  // Makes our marked entries on `device` exactly `want`, except for addresses an operator's own
  // permanent entry holds (those are left alone); a learned entry for one of the addresses is
  // replaced. not_found for an unknown device; unavailable with the first reason the kernel
  // gave when it refused a change (every other change is still made).
  Status sync(const std::string& device, const std::vector<PinnedNeighbour>& want);

  // Our marked entries on `device` now.
  Result<std::vector<PinnedNeighbour>> pinned(const std::string& device);

 private:
  explicit NeighbourPins(int fd);
  Status change(int type, int flags, int ifindex, const PinnedNeighbour& n);
  int fd_;
  std::uint32_t seq_ = 0;
};

}  // namespace netledger::enforce
