#pragma once
// The etcd backend's key layout, under the store's prefix (default "/netledger/"):
//
//   pool/NAME  macpool/NAME  bind/ID20  token/NAME  doc/KIND\0KEY   records (JSON values)
//   quar/KIND\0POOL\0KEY                                           quarantine entries
//   ev/SEQ20                  the audit event with that seq (a bounded recent log: each
//                             replica's history archive keeps them, etcd_archive.h)
//   hk/...                    copies of events under their history keys, written by builds
//                             before the archive; deleted at the first prune
//   ip/NETWORK\0ADDRESS       the binding id holding the address (uniqueness: create-only)
//   mac/MAC                   the binding id holding the MAC (uniqueness: create-only)
//   hw/bind/ID20, hw/seq/SEQ20  high-water marks that outlive deletes and pruning
//   leader                    the elected replica's writer id, on its lease (etcd_leader.cc)
//   meta/slots                how many replicas have started (Store::writerSlot)
//   w/WRITER                  touched by every transaction of that writer: its signature in
//                             the watch stream, so a replica skips its own batches
//
// Numbers are zero-padded to 20 digits so key order is numeric order.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/model.h"

namespace netledger::store::etcd {

class Keys {
 public:
  explicit Keys(std::string prefix) : p_(std::move(prefix)) {}

  const std::string& prefix() const { return p_; }
  static std::string number(std::uint64_t n);

  std::string pool(std::string_view name) const { return p_ + "pool/" + std::string(name); }
  std::string macPool(std::string_view name) const { return p_ + "macpool/" + std::string(name); }
  std::string binding(std::uint64_t id) const { return p_ + "bind/" + number(id); }
  std::string token(std::string_view name) const { return p_ + "token/" + std::string(name); }
  std::string document(std::string_view kind, std::string_view key) const;
  std::string quarantine(std::string_view kind, std::string_view pool, std::string_view key) const;
  std::string event(std::uint64_t seq) const { return p_ + "ev/" + number(seq); }
  std::string ip(std::string_view network, std::string_view address) const;
  std::string mac(std::string_view mac) const { return p_ + "mac/" + std::string(mac); }
  std::string bindingMark(std::uint64_t id) const { return p_ + "hw/bind/" + number(id); }
  std::string seqMark(std::uint64_t seq) const { return p_ + "hw/seq/" + number(seq); }
  std::string writer(std::string_view id) const { return p_ + "w/" + std::string(id); }
  std::string leader() const { return p_ + "leader"; }
  // Touched by every pool put in `network`: pools created at once on two replicas collide on it,
  // so the overlap check of one of them runs again with the other's pool in memory.
  std::string poolGuard(std::string_view network) const {
    return p_ + "netpools/" + std::string(network);
  }

  // "pool/", "ev/", ...: the prefix of one kind of key.
  std::string section(std::string_view name) const { return p_ + std::string(name); }
  // The part of `key` after the section `name` when it is one of them.
  std::optional<std::string_view> in(std::string_view key, std::string_view name) const;

 private:
  std::string p_;
};

// The holder keys of a binding while it holds its addresses (reserved or active): ip/... for
// each address (in its pool's network, from `network_of`) and mac/... for its MAC.
std::vector<std::string> claimKeys(
    const Keys& keys, const ledger::BindingRecord& b,
    const std::function<std::string(const std::string&)>& network_of);

// The number at the end of a ".../ID20" key; 0 when malformed.
std::uint64_t trailingNumber(std::string_view key);

}  // namespace netledger::store::etcd
