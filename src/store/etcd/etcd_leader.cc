// EtcdStore's leadership: the replica whose key `leader` (put on a lease it keeps alive) exists
// does the work that must run once (Store::leading). Jepsen's etcd 3.4.3 analysis: a lease is
// not mutual exclusion, since a paused leader may go on believing it leads after its lease
// expired. So the leader's belief is bounded by its own clock (a keep-alive answered at t with
// TTL s: leading until t + s - margin, measured from before the request was sent), and every
// transaction it sends while leading carries a compare on the leader key's create_revision (the
// fence): a write sent after another replica took over is refused by etcd whatever this process
// believes.
#include <chrono>

#include "store/etcd/etcd_store.h"

namespace netledger::store::etcd {

namespace {

std::int64_t steadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status EtcdStore::health() const { return healthAsOf(quorum_seen_.load()); }

// One reading of quorum_seen_ for the whole judgement: the campaign thread may set it between
// two loads (a store that had seen no quorum yet was then refused as if it had lost one).
Status EtcdStore::healthAsOf(std::int64_t seen) const {
  const std::int64_t ago = steadyNanos() - seen;
  if (seen != 0 && ago < 3'000'000'000LL) return Status::ok();
  return Status::unavailable(
      "etcd has answered no request that needs a quorum for " +
      std::to_string(seen == 0 ? -1 : ago / 1'000'000'000LL) +
      " s (no quorum, or no member reachable): writes are refused, reads come from memory");
}

bool EtcdStore::leading() const {
  return fence_.load() != 0 && steadyNanos() < leading_until_.load();
}

std::int64_t EtcdStore::fenceRevision() const { return leading() ? fence_.load() : 0; }

void EtcdStore::stepDown() {
  fence_ = 0;
  leading_until_ = 0;
}

// Refreshes the lease; false when it is gone (then a new one is needed).
bool EtcdStore::keepLease() {
  const std::int64_t sent = steadyNanos();
  auto ttl = client_->keepAlive(lease_);
  if (!ttl) return true;  // etcd unreachable: the lease may live on; leading() runs out alone
  quorum_seen_ = steadyNanos();
  if (*ttl <= 0) return false;
  // A margin for the clocks of this machine and etcd's leader drifting apart.
  const std::int64_t margin = std::chrono::nanoseconds(std::chrono::milliseconds(500)).count();
  leading_until_ = sent + *ttl * 1'000'000'000LL - margin;
  return true;
}

void EtcdStore::campaignLoop() {
  const std::string key = keys_.leader();
  std::unique_lock lock(campaign_mu_);
  while (!stopping_) {
    lock.unlock();
    if (lease_ == 0) {
      auto granted = client_->grantLease(kLeaderTtlSeconds);
      if (granted) {
        lease_ = *granted;
        quorum_seen_ = steadyNanos();
      }
    }
    if (lease_ != 0 && !keepLease()) {
      stepDown();
      lease_ = 0;
    } else if (lease_ != 0 && fence_ == 0) {
      const std::int64_t sent = steadyNanos();
      auto won = client_->txn({{key, Compare::Target::kCreateRevision, 0}},
                              {{false, key, writer_, lease_}});
      if (won) quorum_seen_ = steadyNanos();
      if (won && won->succeeded) {
        leading_until_ = sent + (kLeaderTtlSeconds * 1000 - 500) * 1'000'000LL;
        fence_ = won->revision;  // the leader key's create_revision
      }
    }
    if (fence_ != 0 && !leading()) stepDown();  // the lease ran out unrefreshed
    lock.lock();
    // The leader refreshes at a third of the TTL; the others look for a vacancy often enough
    // to take over within the TTL + 1 s.
    campaign_cv_.wait_for(lock,
                          fence_ != 0 ? std::chrono::milliseconds(kLeaderTtlSeconds * 333)
                                      : std::chrono::milliseconds(400),
                          [&] { return stopping_.load(); });
  }
  lock.unlock();
  // Leaving: hand over now rather than after the TTL.
  if (lease_ != 0) (void)client_->revokeLease(lease_);
  stepDown();
  lease_ = 0;
}

}  // namespace netledger::store::etcd
