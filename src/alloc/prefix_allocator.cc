#include "alloc/prefix_allocator.h"

#include <algorithm>

namespace netledger::alloc {

using addr::IpAddress;
using addr::Prefix;
using addr::uint128;

PrefixAllocator::PrefixAllocator(Prefix parent) : parent_(parent) { addFree(parent_); }

Prefix PrefixAllocator::blockAt(int length, uint128 network) const {
  return Prefix::containing(IpAddress::fromBits(parent_.family(), network), length);
}

void PrefixAllocator::splitDownTo(const Prefix& block, const Prefix& target) {
  free_[block.length()].erase(block.network().bits());
  if (free_[block.length()].empty()) free_.erase(block.length());
  Prefix cur = block;
  while (cur.length() < target.length()) {
    auto halves = cur.split(cur.length() + 1).value();
    bool low = halves[0].contains(target);
    addFree(low ? halves[1] : halves[0]);
    cur = low ? halves[0] : halves[1];
  }
}

Result<Prefix> PrefixAllocator::allocate(int length) {
  int width = parent_.network().width();
  if (length < parent_.length() || length > width) {
    return Status::invalidArgument("prefix_length: /" + std::to_string(length) +
                                   " cannot be carved from " + parent_.toString() + " (allowed /" +
                                   std::to_string(parent_.length()) + "../" +
                                   std::to_string(width) + ")");
  }
  // The smallest free block that can hold /length is the one with the longest length <= length.
  auto it = free_.upper_bound(length);
  if (it == free_.begin()) {
    return Status::poolExhausted("no free /" + std::to_string(length) + " left in " +
                                 parent_.toString());
  }
  --it;
  Prefix block = blockAt(it->first, *it->second.begin());
  Prefix child = Prefix::containing(block.network(), length);
  splitDownTo(block, child);
  allocated_.insert(child);
  return child;
}

Status PrefixAllocator::reserve(const Prefix& child) {
  if (!parent_.contains(child)) {
    return Status::invalidArgument("prefix " + child.toString() + " is not inside " +
                                   parent_.toString());
  }
  // The free block containing the child, if any: try each length up to the child's.
  for (auto& [len, nets] : free_) {
    if (len > child.length()) break;
    uint128 net = Prefix::containing(child.network(), len).network().bits();
    if (nets.contains(net)) {
      splitDownTo(blockAt(len, net), child);
      allocated_.insert(child);
      return Status::ok();
    }
  }
  for (const auto& a : allocated_) {
    if (a.overlaps(child)) {
      return Status::conflict("prefix " + child.toString() + " overlaps " + a.toString() +
                              ", already carved from " + parent_.toString());
    }
  }
  return Status::conflict("prefix " + child.toString() + " is partly taken in " +
                          parent_.toString());
}

Status PrefixAllocator::release(const Prefix& child) {
  if (allocated_.erase(child) == 0) {
    return Status::notFound("prefix " + child.toString() + " was not carved from " +
                            parent_.toString());
  }
  Prefix cur = child;
  while (cur.length() > parent_.length()) {
    // The buddy differs from `cur` only in the last bit of its prefix.
    int host_bits = cur.network().width() - cur.length();
    uint128 buddy_net = cur.network().bits() ^ (uint128{1} << host_bits);
    auto level = free_.find(cur.length());
    if (level == free_.end() || !level->second.contains(buddy_net)) break;
    level->second.erase(buddy_net);
    if (level->second.empty()) free_.erase(level);
    cur = Prefix::containing(cur.network(), cur.length() - 1);
  }
  addFree(cur);
  return Status::ok();
}

std::vector<Prefix> PrefixAllocator::freeBlocks() const {
  std::vector<Prefix> out;
  for (const auto& [len, nets] : free_) {
    for (auto n : nets) out.push_back(blockAt(len, n));
  }
  std::sort(out.begin(), out.end());
  return out;
}

addr::AddressCount PrefixAllocator::freeAddresses() const {
  uint128 total = 0;
  for (const auto& [len, nets] : free_) {
    if (len == 0 && parent_.family() == addr::IpFamily::kV6)
      return addr::AddressCount::twoToThe(128);
    total += static_cast<uint128>(nets.size()) << (parent_.network().width() - len);
  }
  return total;
}

}  // namespace netledger::alloc
