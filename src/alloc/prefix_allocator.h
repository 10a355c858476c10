#pragma once
// PrefixAllocator: carves aligned sub-prefixes (cluster subnets, node blocks) out of a parent
// prefix, buddy style, so children can never overlap. Releasing a child merges it with its
// buddy when that is free too, so the space defragments itself.
//
// Not thread-safe: the Ledger is the single writer.

#include <map>
#include <set>
#include <vector>

#include "addr/prefix.h"
#include "common/status.h"

namespace netledger::alloc {

class PrefixAllocator {
 public:
  explicit PrefixAllocator(addr::Prefix parent);

  // The lowest free aligned prefix of `length` bits, taken from the smallest free block that
  // fits (keeping large blocks whole for large requests). kInvalidArgument when `length` is
  // shorter than the parent's or longer than the family allows; kPoolExhausted when no block of
  // that size is free.
  Result<addr::Prefix> allocate(int length);
  // Takes a specific child (an existing one, on load or import). kConflict, naming the child it
  // overlaps, if any part of it is taken.
  Status reserve(const addr::Prefix& child);
  // Gives a child back; kNotFound if it was not allocated.
  Status release(const addr::Prefix& child);

  const addr::Prefix& parent() const { return parent_; }
  std::vector<addr::Prefix> allocated() const { return {allocated_.begin(), allocated_.end()}; }
  // Free blocks in address order.
  std::vector<addr::Prefix> freeBlocks() const;
  addr::AddressCount freeAddresses() const;

 private:
  // Splits the free block `block` down until `target` is a free block of its own.
  void splitDownTo(const addr::Prefix& block, const addr::Prefix& target);
  void addFree(const addr::Prefix& p) { free_[p.length()].insert(p.network().bits()); }
  addr::Prefix blockAt(int length, addr::uint128 network) const;

  addr::Prefix parent_;
  // Free blocks by length -> network bits (ordered: lowest address first).
  std::map<int, std::set<addr::uint128>> free_;
  std::set<addr::Prefix> allocated_;
};

}  // namespace netledger::alloc
