// ProbeCoordinator over a real Ledger (memory: store) and a real Engine driven on the test's
// thread: what each report does to the binding, that a waiting allocation is answered exactly
// once with the right outcome, and that an address found in use becomes an unknown_station
// conflict naming the MAC that answered.
#include "server/probe/probe_coordinator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "addr/addr_test_util.h"
#include "engine/engine.h"
#include "engine/ledger_adapter.h"
#include "ledger/ledger.h"
#include "store/memory/memory_store.h"

namespace netledger::server {
namespace {

using addr::IpAddress;
using addr::Mac;
using ledger::Actor;
using ledger::BindingState;
using ledger::Role;
using namespace std::chrono_literals;

using ::netledger::addr::testing_util::ip;
using ::netledger::addr::testing_util::mac;

// Records the outcomes a waiter received.
struct Outcomes {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ProbeOutcome> got;

  ProbeWaiter waiter() {
    return [this](ProbeOutcome o) {
      std::lock_guard lock(mu);
      got.push_back(std::move(o));
      cv.notify_all();
    };
  }
  std::size_t count() {
    std::lock_guard lock(mu);
    return got.size();
  }
  bool waitFor(std::size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return got.size() >= n; });
  }
};

class ProbeCoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ledger_ = std::make_unique<ledger::Ledger>(store_, clock_);
    ASSERT_TRUE(ledger_->open().isOk());
    port_ = std::make_unique<engine::LedgerAdapter>(*ledger_);
    probe_ledger_ = std::make_unique<ProbeLedgerAdapter>(*ledger_);
    engine_ = std::make_unique<engine::Engine>(*port_, clock_);
    ASSERT_TRUE(engine_->open().isOk());
    makePool("v4", "192.0.2.0/24");
    makePool("v6", "2001:db8::/120");
  }
  void TearDown() override {
    if (probes_) probes_->stop();
    ledger_->close();
  }
  void makeCoordinator(ProbeOptions options = {}) {
    probes_ = std::make_unique<ProbeCoordinator>(*probe_ledger_, engine_.get(), clock_, options);
  }
  void makePool(const char* name, const char* cidr) {
    ledger::PoolCreate create;
    create.record.name = name;
    create.record.cidrs = {addr::Prefix::parse(cidr).value()};
    auto r = ledger_->createPool(Actor::system("test"), std::move(create));
    ASSERT_TRUE(r.isOk()) << r.status().toString();
    ASSERT_TRUE(ledger_->waitDurable(r->ticket).isOk());
  }
  ledger::AllocateRequest request(std::string instance, std::vector<std::string> pools) {
    ledger::AllocateRequest r;
    r.instance = std::move(instance);
    r.pools = std::move(pools);
    r.host = "node-1";
    r.probe = true;
    return r;
  }
  ledger::BindingRecord allocate(const ledger::AllocateRequest& r, Outcomes& outcomes,
                                 std::chrono::milliseconds timeout = 30s) {
    auto applied = probes_->allocate(op_, r, timeout, outcomes.waiter());
    EXPECT_TRUE(applied.isOk()) << applied.status().toString();
    if (!applied.isOk()) return {};
    EXPECT_TRUE(applied->created);
    EXPECT_TRUE(ledger_->waitDurable(applied->ticket).isOk());
    return applied->value;
  }
  Result<ledger::Applied<ledger::BindingRecord>> report(std::uint64_t id, const IpAddress& a,
                                                        std::optional<Mac> m = std::nullopt) {
    ProbeReport r;
    r.address = a;
    r.in_use = m.has_value();
    r.mac = m;
    r.interface = "br0";
    return probes_->report(op_, id, r);
  }

  FakeClock clock_;
  store::MemoryStore store_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<engine::LedgerAdapter> port_;
  std::unique_ptr<ProbeLedgerAdapter> probe_ledger_;
  std::unique_ptr<engine::Engine> engine_;
  // Outlives the coordinator: TearDown's stop() answers whoever still waits.
  Outcomes outcomes_;
  std::unique_ptr<ProbeCoordinator> probes_;
  Actor op_{"agent-node-1", Role::kOperator, {}};
};

TEST_F(ProbeCoordinatorTest, EveryAddressFreeActivatesAndAnswersTheWaiterOnce) {
  makeCoordinator();
  Outcomes& outcomes = outcomes_;
  auto b = allocate(request("vm-1", {"v4", "v6"}), outcomes);
  ASSERT_EQ(b.state, BindingState::kReserved);
  ASSERT_EQ(b.addresses.size(), 2u);
  EXPECT_EQ(probes_->waiting(), 1u);

  auto first = report(b.id, b.addresses[0].ip);
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  EXPECT_EQ(first->value.state, BindingState::kReserved);
  EXPECT_EQ(outcomes.count(), 0u);
  // The same address again changes nothing.
  ASSERT_TRUE(report(b.id, b.addresses[0].ip).isOk());
  EXPECT_EQ(outcomes.count(), 0u);

  auto second = report(b.id, b.addresses[1].ip);
  ASSERT_TRUE(second.isOk()) << second.status().toString();
  EXPECT_EQ(second->value.state, BindingState::kActive);
  ASSERT_EQ(outcomes.count(), 1u);
  EXPECT_EQ(outcomes.got[0].kind, ProbeOutcomeKind::kActivated);
  EXPECT_EQ(outcomes.got[0].binding->state, BindingState::kActive);
  EXPECT_EQ(outcomes.got[0].ticket, second->ticket);
  EXPECT_EQ(probes_->tracked(), 0u);

  // Active now: a further report is a conflict naming the state, and nobody is answered twice.
  auto late = report(b.id, b.addresses[0].ip);
  ASSERT_FALSE(late.isOk());
  EXPECT_EQ(late.status().code(), StatusCode::kConflict);
  EXPECT_NE(late.status().message().find("state: binding " + std::to_string(b.id) +
                                         " is active, not awaiting a probe"),
            std::string::npos)
      << late.status().message();
  EXPECT_EQ(outcomes.count(), 1u);
}

TEST_F(ProbeCoordinatorTest, AnAddressInUseIsReplacedQuarantinedAndReported) {
  makeCoordinator();
  Outcomes& outcomes = outcomes_;
  auto b = allocate(request("vm-1", {"v4"}), outcomes);
  const IpAddress taken = b.addresses[0].ip;
  auto moved = report(b.id, taken, mac("02:00:00:00:00:99"));
  ASSERT_TRUE(moved.isOk()) << moved.status().toString();
  EXPECT_EQ(moved->value.state, BindingState::kReserved);
  ASSERT_EQ(moved->value.addresses.size(), 1u);
  EXPECT_NE(moved->value.addresses[0].ip, taken);
  EXPECT_EQ(outcomes.count(), 0u);
  ASSERT_TRUE(ledger_->waitDurable(moved->ticket).isOk());
  EXPECT_TRUE(ledger_->getPool(op_, "v4")->counts.quarantined == 1);
  // The old address is no longer the binding's: reporting it again is refused, naming it.
  auto stale = report(b.id, taken);
  ASSERT_FALSE(stale.isOk());
  EXPECT_EQ(stale.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(stale.status().message().rfind("address: ", 0), 0u) << stale.status().message();

  engine_->processQueued();
  engine::ConflictFilter filter;
  filter.kind = engine::ConflictKind::kUnknownStation;
  auto conflicts = engine_->list(filter, "", 10);
  ASSERT_TRUE(conflicts.isOk());
  ASSERT_EQ(conflicts->items.size(), 1u);
  EXPECT_EQ(conflicts->items[0].ip, taken.toString());
  EXPECT_EQ(conflicts->items[0].mac, "02:00:00:00:00:99");

  // The replacement is free: the waiter gets the active binding with the new address.
  ASSERT_TRUE(report(b.id, moved->value.addresses[0].ip).isOk());
  ASSERT_EQ(outcomes.count(), 1u);
  EXPECT_EQ(outcomes.got[0].kind, ProbeOutcomeKind::kActivated);
  EXPECT_EQ(outcomes.got[0].binding->addresses[0].ip, moved->value.addresses[0].ip);
  ASSERT_EQ(outcomes.got[0].in_use.size(), 1u);
  EXPECT_EQ(outcomes.got[0].in_use[0].ip, taken);
}

TEST_F(ProbeCoordinatorTest, AttemptsRunOutReleasesTheBindingAndNamesEveryMac) {
  makeCoordinator();  // 3 attempts
  Outcomes& outcomes = outcomes_;
  auto b = allocate(request("vm-1", {"v4"}), outcomes);
  std::vector<IpAddress> tried;
  IpAddress current = b.addresses[0].ip;
  for (int i = 1; i <= 3; ++i) {
    tried.push_back(current);
    std::string m = "02:00:00:00:00:0" + std::to_string(i);
    auto r = report(b.id, current, mac(m.c_str()));
    ASSERT_TRUE(r.isOk()) << r.status().toString();
    if (i < 3) {
      EXPECT_EQ(r->value.state, BindingState::kReserved);
      current = r->value.addresses[0].ip;
      EXPECT_EQ(outcomes.count(), 0u);
    } else {
      EXPECT_EQ(r->value.state, BindingState::kReleased);
    }
  }
  ASSERT_EQ(outcomes.count(), 1u);
  const ProbeOutcome& o = outcomes.got[0];
  EXPECT_EQ(o.kind, ProbeOutcomeKind::kExhausted);
  EXPECT_EQ(o.error.code(), StatusCode::kConflict);
  EXPECT_EQ(o.error.message().rfind("address: ", 0), 0u) << o.error.message();
  for (const char* m : {"02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03"}) {
    EXPECT_NE(o.error.message().find(m), std::string::npos) << o.error.message();
  }
  ASSERT_EQ(o.in_use.size(), 3u);
  EXPECT_FALSE(ledger_->getBinding(op_, b.id).isOk());
  ASSERT_TRUE(ledger_->waitDurable(o.ticket).isOk());
  // Every address that answered is held back from the next allocation.
  EXPECT_TRUE(ledger_->getPool(op_, "v4")->counts.quarantined == 3);
  EXPECT_EQ(probes_->tracked(), 0u);
}

TEST_F(ProbeCoordinatorTest, AnExplicitAddressInUseIsNotReplaced) {
  makeCoordinator();
  Outcomes& outcomes = outcomes_;
  auto r = request("vm-1", {"v4"});
  r.address = ip("192.0.2.50");
  auto b = allocate(r, outcomes);
  auto released = report(b.id, ip("192.0.2.50"), mac("02:00:00:00:00:01"));
  ASSERT_TRUE(released.isOk()) << released.status().toString();
  EXPECT_EQ(released->value.state, BindingState::kReleased);
  ASSERT_EQ(outcomes.count(), 1u);
  EXPECT_EQ(outcomes.got[0].kind, ProbeOutcomeKind::kExhausted);
  EXPECT_NE(outcomes.got[0].error.message().find("requested explicitly"), std::string::npos);
}

TEST_F(ProbeCoordinatorTest, NoOutcomeInTimeAnswersWithTheReservedBindingAndProbingGoesOn) {
  makeCoordinator();
  probes_->start();
  Outcomes& outcomes = outcomes_;
  auto b = allocate(request("vm-1", {"v4"}), outcomes, 50ms);
  clock_.advance(50ms);
  probes_->expireDue();
  ASSERT_TRUE(outcomes.waitFor(1));
  EXPECT_EQ(outcomes.got[0].kind, ProbeOutcomeKind::kTimedOut);
  ASSERT_TRUE(outcomes.got[0].binding.has_value());
  EXPECT_EQ(outcomes.got[0].binding->state, BindingState::kReserved);
  EXPECT_EQ(probes_->waiting(), 0u);
  // A late report still activates the binding; the waiter is not called again.
  auto r = report(b.id, b.addresses[0].ip);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->value.state, BindingState::kActive);
  clock_.advance(20ms);
  probes_->expireDue();
  EXPECT_EQ(outcomes.count(), 1u);
}

TEST_F(ProbeCoordinatorTest, MaxWaitCapsTheTimeoutAndZeroAnswersAtOnce) {
  ProbeOptions options;
  options.max_wait = 0ms;
  makeCoordinator(options);
  Outcomes& outcomes = outcomes_;
  allocate(request("vm-1", {"v4"}), outcomes);
  ASSERT_EQ(outcomes.count(), 1u);
  EXPECT_EQ(outcomes.got[0].kind, ProbeOutcomeKind::kTimedOut);
}

TEST_F(ProbeCoordinatorTest, StopAnswersEveryWaiterAndLaterAllocationsAtOnce) {
  makeCoordinator();
  probes_->start();
  Outcomes& outcomes = outcomes_;
  allocate(request("vm-1", {"v4"}), outcomes);
  allocate(request("vm-2", {"v4"}), outcomes);
  EXPECT_EQ(outcomes.count(), 0u);
  probes_->stop();
  ASSERT_EQ(outcomes.count(), 2u);
  for (const auto& o : outcomes.got) {
    EXPECT_EQ(o.kind, ProbeOutcomeKind::kShutdown);
    EXPECT_EQ(o.binding->state, BindingState::kReserved);
  }
  allocate(request("vm-3", {"v4"}), outcomes);
  EXPECT_EQ(outcomes.count(), 3u);
  probes_->stop();  // idempotent
  EXPECT_EQ(outcomes.count(), 3u);
}

TEST_F(ProbeCoordinatorTest, RepeatsAndBadReportsRegisterNothing) {
  makeCoordinator();
  Outcomes& outcomes = outcomes_;
  auto b = allocate(request("vm-1", {"v4"}), outcomes);
  auto again = probes_->allocate(op_, request("vm-1", {"v4"}), 30s, outcomes.waiter());
  ASSERT_TRUE(again.isOk());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->value.id, b.id);
  EXPECT_EQ(probes_->waiting(), 1u);

  auto no_host = request("vm-2", {"v4"});
  no_host.host.clear();
  auto refused = probes_->allocate(op_, no_host, 30s, outcomes.waiter());
  ASSERT_FALSE(refused.isOk());
  EXPECT_EQ(refused.status().message().rfind("host: ", 0), 0u) << refused.status().message();

  EXPECT_EQ(report(999, b.addresses[0].ip).status().code(), StatusCode::kNotFound);
  ProbeReport no_mac;
  no_mac.address = b.addresses[0].ip;
  no_mac.in_use = true;
  auto r = probes_->report(op_, b.id, no_mac);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().message().rfind("mac: ", 0), 0u);
  Actor viewer{"eyes", Role::kViewer, {}};
  ProbeReport in_use{b.addresses[0].ip, true, mac("02:00:00:00:00:01"), ""};
  EXPECT_EQ(probes_->report(viewer, b.id, in_use).status().code(), StatusCode::kForbidden);
  // None of that touched the binding or answered the waiter.
  auto now = ledger_->getBinding(op_, b.id);
  ASSERT_TRUE(now.isOk());
  EXPECT_EQ(now->state, BindingState::kReserved);
  EXPECT_EQ(now->addresses, b.addresses);
  EXPECT_EQ(outcomes.count(), 0u);
}

}  // namespace
}  // namespace netledger::server
