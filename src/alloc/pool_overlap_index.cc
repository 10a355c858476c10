#include "alloc/pool_overlap_index.h"

namespace netledger::alloc {

Status PoolOverlapIndex::check(const std::string& network, const addr::Prefix& cidr) const {
  auto n = by_network_.find(network);
  if (n == by_network_.end()) return Status::ok();
  const auto& entries = n->second;
  // Prefixes either nest or are disjoint, so an overlap is either the entry starting at or
  // before cidr.first() that contains it, or an entry starting inside cidr.
  auto after = entries.lower_bound(cidr.first());
  if (after != entries.end() && cidr.contains(after->second.cidr.first())) {
    const auto& e = after->second;
    return Status::conflict("cidr " + cidr.toString() + " overlaps pool \"" + e.pool + "\" (" +
                            e.cidr.toString() + ") in network \"" + network + "\"");
  }
  if (after != entries.begin()) {
    const auto& e = std::prev(after)->second;
    if (e.cidr.contains(cidr.first())) {
      return Status::conflict("cidr " + cidr.toString() + " overlaps pool \"" + e.pool + "\" (" +
                              e.cidr.toString() + ") in network \"" + network + "\"");
    }
  }
  return Status::ok();
}

Status PoolOverlapIndex::add(const std::string& network, const addr::Prefix& cidr,
                             const std::string& pool) {
  NL_RETURN_IF_ERROR(check(network, cidr));
  by_network_[network].emplace(cidr.first(), Entry{cidr, pool});
  return Status::ok();
}

bool PoolOverlapIndex::remove(const std::string& network, const addr::Prefix& cidr) {
  auto n = by_network_.find(network);
  if (n == by_network_.end()) return false;
  auto it = n->second.find(cidr.first());
  if (it == n->second.end() || it->second.cidr != cidr) return false;
  n->second.erase(it);
  if (n->second.empty()) by_network_.erase(n);
  return true;
}

std::optional<std::string> PoolOverlapIndex::poolContaining(const std::string& network,
                                                            const addr::IpAddress& address) const {
  auto n = by_network_.find(network);
  if (n == by_network_.end()) return std::nullopt;
  auto it = n->second.upper_bound(address);
  if (it == n->second.begin()) return std::nullopt;
  --it;
  if (!it->second.cidr.contains(address)) return std::nullopt;
  return it->second.pool;
}

}  // namespace netledger::alloc
