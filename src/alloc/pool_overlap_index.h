#pragma once
// Which pool CIDRs exist in each network (routing domain / VRF), so a new pool that overlaps
// one of the same network is refused with an error that names it. Pools in different networks
// may overlap. O(log n) per check: within one network the indexed prefixes never overlap, so
// only the neighbours in address order need looking at.

#include <map>
#include <optional>
#include <string>

#include "addr/prefix.h"
#include "common/status.h"

namespace netledger::alloc {

class PoolOverlapIndex {
 public:
  // kConflict naming the pool that `cidr` would overlap in `network`; OK otherwise.
  Status check(const std::string& network, const addr::Prefix& cidr) const;
  // check() and then record `cidr` as belonging to `pool`.
  Status add(const std::string& network, const addr::Prefix& cidr, const std::string& pool);
  // Forgets one CIDR; false if it was not there.
  bool remove(const std::string& network, const addr::Prefix& cidr);
  // The pool holding `address` in `network`, if any.
  std::optional<std::string> poolContaining(const std::string& network,
                                            const addr::IpAddress& address) const;

 private:
  struct Entry {
    addr::Prefix cidr;
    std::string pool;
  };
  // network -> first address -> entry
  std::map<std::string, std::map<addr::IpAddress, Entry>> by_network_;
};

}  // namespace netledger::alloc
