#include "store/migrate.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace netledger::store {

namespace {

using ledger::Write;

// Queues writes and applies them in batches that fit the target's budget.
class BatchWriter {
 public:
  explicit BatchWriter(ledger::Store& to) : to_(to) {}

  Status add(Write w) {
    const std::size_t cost = to_.costOf(w);
    if (!batch_.empty() && cost_ + cost > std::min<std::size_t>(to_.maxBatchCost(), 500)) {
      NL_RETURN_IF_ERROR(flush());
    }
    cost_ += cost;
    batch_.push_back(std::move(w));
    return Status::ok();
  }
  Status flush() {
    if (batch_.empty()) return Status::ok();
    Status s = to_.apply(batch_);
    batch_.clear();
    cost_ = 0;
    return s;
  }

 private:
  ledger::Store& to_;
  std::vector<Write> batch_;
  std::size_t cost_ = 0;
};

Status checkEmpty(const ledger::StoreState& s) {
  if (s.pools.empty() && s.bindings.empty() && s.tokens.empty() && s.documents.empty()) {
    return Status::ok();
  }
  return Status::conflict(
      "the target store is not empty (" + std::to_string(s.pools.size()) + " pools, " +
      std::to_string(s.bindings.size()) + " bindings, " + std::to_string(s.tokens.size()) +
      " tokens, " + std::to_string(s.documents.size()) +
      " documents): migrate into an empty prefix, before any replica starts on it");
}

// Parents before children, whatever the order the source listed them in.
std::vector<const ledger::PoolRecord*> parentsFirst(const std::vector<ledger::PoolRecord>& pools) {
  std::vector<const ledger::PoolRecord*> out;
  std::set<std::string> placed;
  while (out.size() < pools.size()) {
    const std::size_t before = out.size();
    for (const auto& p : pools) {
      if (placed.count(p.name) != 0) continue;
      if (p.parent.empty() || placed.count(p.parent) != 0) {
        out.push_back(&p);
        placed.insert(p.name);
      }
    }
    if (out.size() == before) break;  // an orphan: copied last, as the source has it
  }
  for (const auto& p : pools) {
    if (placed.count(p.name) == 0) out.push_back(&p);
  }
  return out;
}

Status copyEvents(ledger::Store& from, BatchWriter& out, std::size_t& copied) {
  ledger::EventQuery q;
  q.limit = 1000;
  while (true) {
    auto page = from.queryEvents(q);
    if (!page) return page.status();
    if (page->empty()) return Status::ok();
    for (auto& e : *page) {
      q.after_seq = e.seq;
      NL_RETURN_IF_ERROR(out.add(ledger::AppendEvent{std::move(e)}));
      ++copied;
    }
  }
}

}  // namespace

Result<CopyCounts> copyLedger(ledger::Store& from, ledger::Store& to) {
  auto target = to.load();
  if (!target) return target.status();
  NL_RETURN_IF_ERROR(checkEmpty(*target));
  auto source = from.load();
  if (!source) return source.status();
  ledger::StoreState& s = *source;
  CopyCounts n;
  BatchWriter out(to);
  for (const auto* p : parentsFirst(s.pools)) {
    NL_RETURN_IF_ERROR(out.add(ledger::PutPool{*p, 0}));
    ++n.pools;
  }
  for (auto& m : s.mac_pools) NL_RETURN_IF_ERROR(out.add(ledger::PutMacPool{std::move(m), 0}));
  n.mac_pools = s.mac_pools.size();
  for (auto& t : s.tokens) NL_RETURN_IF_ERROR(out.add(ledger::PutToken{std::move(t), 0}));
  n.tokens = s.tokens.size();
  for (auto& d : s.documents) NL_RETURN_IF_ERROR(out.add(ledger::PutDocument{std::move(d), 0}));
  n.documents = s.documents.size();
  std::uint64_t top_id = 0;
  for (auto& b : s.bindings) {
    top_id = std::max(top_id, b.id);
    NL_RETURN_IF_ERROR(out.add(ledger::PutBinding{std::move(b), 0}));
  }
  n.bindings = s.bindings.size();
  // Pools and bindings first: a quarantine entry holds back an address of a known pool.
  NL_RETURN_IF_ERROR(out.flush());
  for (auto& q : s.quarantine) NL_RETURN_IF_ERROR(out.add(ledger::PutQuarantine{std::move(q)}));
  n.quarantine = s.quarantine.size();
  NL_RETURN_IF_ERROR(copyEvents(from, out, n.events));
  // A deleted binding's id above every live one: deleting it (absent) leaves etcd's high-water
  // mark, so the id is not given again and its history stays its own.
  if (to.shared() && s.last_binding_id > top_id) {
    NL_RETURN_IF_ERROR(out.add(ledger::DeleteBinding{s.last_binding_id, 0}));
  }
  NL_RETURN_IF_ERROR(out.flush());
  return n;
}

}  // namespace netledger::store
