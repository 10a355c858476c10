#pragma once
// Networks (routing domains, VRFs): an address is unique within its network, and pools in one
// network must not overlap. Everything that does not name a network is in the default one.

#include <string_view>

namespace netledger::addr {

// The network of pools, bindings and observations that name none.
inline constexpr std::string_view kDefaultNetwork = "default";

}  // namespace netledger::addr
