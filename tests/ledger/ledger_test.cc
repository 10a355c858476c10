// The Ledger over the real in-memory store (the memory: backend), with a fake clock. The
// failure path uses the memory store's fault injection; nothing here is a mock.
#include "ledger/ledger.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include <limits>
#include <set>
#include <thread>

#include "ledger/bindings.h"
#include "ledger/codec.h"
#include "store/memory/memory_store.h"

namespace netledger::ledger {
namespace {

using addr::IpAddress;
using addr::Mac;
using addr::Prefix;
using std::chrono::seconds;

Prefix cidr(const char* s) { return Prefix::parse(s).value(); }

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }
  void TearDown() override {
    if (ledger_) ledger_->close();
  }
  void reopen() {
    if (ledger_) ledger_->close();
    ledger_ = std::make_unique<Ledger>(store_, clock_);
    ASSERT_TRUE(ledger_->open().isOk());
  }
  template <typename T>
  T durable(Result<Applied<T>> r) {
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    if (!r.isOk()) return T{};
    EXPECT_TRUE(ledger_->waitDurable(r->ticket).isOk());
    return std::move(r->value);
  }
  PoolView makePool(const char* name, const char* c, std::string tenant = "",
                    std::int64_t quarantine = 300) {
    PoolCreate create;
    create.record.name = name;
    create.record.cidrs = {cidr(c)};
    create.record.tenant = std::move(tenant);
    create.record.quarantine_s = quarantine;
    return durable(ledger_->createPool(admin_, std::move(create)));
  }
  AllocateRequest req(std::string instance, std::vector<std::string> pools) {
    AllocateRequest r;
    r.instance = std::move(instance);
    r.pools = std::move(pools);
    return r;
  }

  FakeClock clock_;
  store::MemoryStore store_;
  std::unique_ptr<Ledger> ledger_;
  Actor admin_ = Actor{"root", Role::kAdmin, {}};
  Actor op_ = Actor{"ops", Role::kOperator, {}};
  Actor viewer_ = Actor{"eyes", Role::kViewer, {}};
};

TEST_F(LedgerTest, AllocateIsIdempotentOnInstanceAndInterface) {
  makePool("v4", "192.0.2.0/24");
  auto first = ledger_->allocate(op_, req("vm-1", {"v4"}));
  ASSERT_TRUE(first.isOk());
  EXPECT_TRUE(first->created);
  auto again = ledger_->allocate(op_, req("vm-1", {"v4"}));
  ASSERT_TRUE(again.isOk());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->value.id, first->value.id);
  EXPECT_EQ(again->value.addresses, first->value.addresses);
  auto other_if = req("vm-1", {"v4"});
  other_if.interface = "eth1";
  EXPECT_NE(ledger_->allocate(op_, other_if)->value.addresses, first->value.addresses);
}

TEST_F(LedgerTest, DualStackTakesOneAddressFromEachPool) {
  makePool("v4", "192.0.2.0/24");
  makePool("v6", "2001:db8::/64");
  auto b = durable(ledger_->allocate(op_, req("vm-1", {"v4", "v6"})));
  ASSERT_EQ(b.addresses.size(), 2u);
  EXPECT_TRUE(b.addresses[0].ip.isV4());
  EXPECT_TRUE(b.addresses[1].ip.isV6());
  EXPECT_EQ(ledger_->holderOfAddress(viewer_, b.addresses[1].ip)->id, b.id);
}

TEST_F(LedgerTest, ExhaustionUndoesPartialAllocation) {
  makePool("tiny", "192.0.2.0/30");  // two usable
  makePool("v6", "2001:db8::/126");
  ASSERT_TRUE(ledger_->allocate(op_, req("a", {"tiny"})).isOk());
  ASSERT_TRUE(ledger_->allocate(op_, req("b", {"tiny"})).isOk());
  auto c = ledger_->allocate(op_, req("c", {"v6", "tiny"}));
  ASSERT_FALSE(c.isOk());
  EXPECT_EQ(c.status().code(), StatusCode::kPoolExhausted);
  // The IPv6 address taken before the IPv4 pool ran dry went back.
  EXPECT_TRUE(ledger_->getPool(admin_, "v6")->counts.used == 0);
}

TEST_F(LedgerTest, OverlappingPoolsInOneNetworkAreRefusedNamingThePool) {
  makePool("a", "10.0.0.0/16");
  PoolCreate c;
  c.record.name = "b";
  c.record.cidrs = {cidr("10.0.128.0/17")};
  auto r = ledger_->createPool(admin_, c);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kConflict);
  EXPECT_NE(r.status().message().find("pool \"a\""), std::string::npos) << r.status().message();
  c.record.network = "blue";
  EXPECT_TRUE(ledger_->createPool(admin_, c).isOk());
}

// The MAC registry keeps no copy of the MACs bindings hold: it asks the binding table. Every way
// a MAC comes to be held (generated, explicit, loaded at start-up, changed by an update) must
// still keep it from anyone else, and every way it is let go must quarantine it.
TEST_F(LedgerTest, MacsHeldByBindingsStayUniqueThroughRestartUpdateAndRelease) {
  makePool("v4", "192.0.2.0/27");
  MacPoolRecord mp;
  mp.name = "tiny";
  mp.prefix = addr::MacPrefix::parse("02:00:00:00:00:00/44").value();  // 16 MACs
  mp.strategy = alloc::MacStrategy::kSequential;
  mp.quarantine_s = 60;
  durable(ledger_->createMacPool(admin_, mp));
  auto from_pool = [&](const char* instance) {
    auto r = req(instance, {"v4"});
    r.mac_pool = "tiny";
    return ledger_->allocate(op_, r);
  };
  auto explicit_mac = [&](const char* instance, const char* text) {
    auto r = req(instance, {"v4"});
    r.mac = Mac::parse(text).value();
    return ledger_->allocate(op_, r);
  };
  const auto a = durable(from_pool("a"));
  const auto b = durable(from_pool("b"));
  const auto c = durable(explicit_mac("c", "02:00:00:00:00:0f"));
  ASSERT_TRUE(a.mac && b.mac && c.mac);
  std::set<std::uint64_t> macs = {a.mac->value(), b.mac->value(), c.mac->value()};
  for (int i = 0; i < 13; ++i) {
    const auto filler = durable(from_pool(("fill-" + std::to_string(i)).c_str()));
    ASSERT_TRUE(filler.mac.has_value());
    macs.insert(filler.mac->value());
  }
  EXPECT_EQ(macs.size(), 16u);
  for (int round = 0; round < 2; ++round) {  // as allocated, then as loaded from the store
    SCOPED_TRACE(round == 0 ? "as allocated" : "after a restart");
    auto d = from_pool("d");
    EXPECT_EQ(d.status().code(), StatusCode::kPoolExhausted)
        << (d.isOk() && d->value.mac ? d->value.mac->toString() : "");
    EXPECT_EQ(explicit_mac("e", a.mac->toString().c_str()).status().code(), StatusCode::kConflict);
    EXPECT_EQ(ledger_->updateBinding(op_, a.id, BindingUpdate{{}, b.mac, {}}).status().code(),
              StatusCode::kConflict);
    reopen();
  }
  // An update moves a's MAC: the old one is quarantined, the new one held.
  const Mac moved = Mac::parse("0a:58:c0:00:02:09").value();
  durable(ledger_->updateBinding(op_, a.id, BindingUpdate{{}, moved, {}}));
  EXPECT_EQ(explicit_mac("f", "0a:58:c0:00:02:09").status().code(), StatusCode::kConflict);
  EXPECT_EQ(from_pool("g").status().code(), StatusCode::kPoolExhausted);  // a's old MAC: held back
  // A release quarantines too, across a restart, until the hold ends.
  durable(ledger_->release(op_, c.id));
  reopen();
  EXPECT_EQ(explicit_mac("h", "02:00:00:00:00:0f").status().code(), StatusCode::kConflict);
  EXPECT_EQ(explicit_mac("i", "0a:58:c0:00:02:09").status().code(), StatusCode::kConflict);
  clock_.advance(seconds(61));
  const auto j = durable(from_pool("j"));
  ASSERT_TRUE(j.mac.has_value());
  EXPECT_TRUE(*j.mac == *a.mac || *j.mac == *c.mac) << j.mac->toString();
}

TEST_F(LedgerTest, ReleaseQuarantinesAddressAndMac) {
  makePool("v4", "192.0.2.0/29", "", 60);
  MacPoolRecord mp;
  mp.name = "macs";
  mp.prefix = addr::MacPrefix::parse("02:00:00:00:00:00/44").value();
  durable(ledger_->createMacPool(admin_, mp));
  auto r = req("vm-1", {"v4"});
  r.mac_pool = "macs";
  auto b = durable(ledger_->allocate(op_, r));
  ASSERT_TRUE(b.mac.has_value());
  auto released = durable(ledger_->release(op_, b.id));
  EXPECT_EQ(released.state, BindingState::kReleased);
  EXPECT_EQ(ledger_->getBinding(viewer_, b.id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(ledger_->getPool(admin_, "v4")->counts.quarantined == 1);
  // The quarantined address is refused explicitly, and survives a restart.
  auto again = req("vm-2", {"v4"});
  again.address = b.addresses[0].ip;
  EXPECT_EQ(ledger_->allocate(op_, again).status().code(), StatusCode::kConflict);
  reopen();
  EXPECT_EQ(ledger_->allocate(op_, again).status().code(), StatusCode::kConflict);
  clock_.advance(seconds(61));
  EXPECT_TRUE(ledger_->allocate(op_, again).isOk());
}

TEST_F(LedgerTest, StateSurvivesReopen) {
  makePool("v4", "192.0.2.0/24");
  std::set<std::string> held;
  for (int i = 0; i < 20; ++i) {
    held.insert(durable(ledger_->allocate(op_, req("vm-" + std::to_string(i), {"v4"})))
                    .addresses[0]
                    .ip.toString());
  }
  reopen();
  EXPECT_TRUE(ledger_->getPool(admin_, "v4")->counts.used == 20);
  for (int i = 20; i < 40; ++i) {
    auto b = durable(ledger_->allocate(op_, req("vm-" + std::to_string(i), {"v4"})));
    EXPECT_TRUE(held.insert(b.addresses[0].ip.toString()).second) << "duplicate after reopen";
  }
}

// Past Bindings::kParallelLoadMinimum the table fills on a helper thread while the allocators
// are claimed on the opening one: every index and every allocator must come back whole.
TEST_F(LedgerTest, ALargeLedgerReopensWithEveryIndexAndAllocator) {
  makePool("big", "10.8.0.0/15");
  MacPoolRecord mp;
  mp.name = "macs";
  mp.prefix = addr::MacPrefix::parse("02:00:00:00:00:00/24").value();
  durable(ledger_->createMacPool(admin_, mp));
  constexpr int kBindings = 60'000;
  static_assert(kBindings > static_cast<int>(Bindings::kParallelLoadMinimum));
  std::vector<BindingRecord> made;
  std::uint64_t last_ticket = 0;
  for (int i = 0; i < kBindings; ++i) {
    auto r = req("vm-" + std::to_string(i), {"big"});
    r.mac_pool = "macs";
    auto applied = ledger_->allocate(op_, r);
    ASSERT_TRUE(applied.isOk()) << applied.status().toString();
    last_ticket = applied->ticket;
    if (i % 997 == 0) made.push_back(applied->value);
  }
  ASSERT_TRUE(ledger_->waitDurable(last_ticket).isOk());
  reopen();
  EXPECT_EQ(ledger_->getPool(admin_, "big")->counts.used, static_cast<std::uint64_t>(kBindings));
  for (const auto& b : made) {
    auto by_id = ledger_->getBinding(viewer_, b.id);
    ASSERT_TRUE(by_id.isOk()) << b.id;
    EXPECT_EQ(by_id->instance, b.instance);
    BindingFilter by_ip;
    by_ip.ip = b.addresses[0].ip;
    auto page = ledger_->searchBindings(admin_, by_ip, "", 10);
    ASSERT_TRUE(page.isOk());
    ASSERT_EQ(page->items.size(), 1u) << b.addresses[0].ip.toString();
    EXPECT_EQ(page->items[0].id, b.id);
    BindingFilter by_mac;
    by_mac.mac = b.mac;
    page = ledger_->searchBindings(admin_, by_mac, "", 10);
    ASSERT_TRUE(page.isOk());
    ASSERT_EQ(page->items.size(), 1u);
    EXPECT_EQ(page->items[0].id, b.id);
    // The MAC registry knows it is taken: claiming it explicitly is refused.
    auto again = req(b.instance + "-copy", {"big"});
    again.mac = b.mac;
    EXPECT_EQ(ledger_->allocate(op_, again).status().code(), StatusCode::kConflict);
  }
  // The bitmaps and the id counter came back: new bindings take fresh addresses and ids.
  std::set<std::string> seen;
  for (const auto& b : made) seen.insert(b.addresses[0].ip.toString());
  auto fresh = durable(ledger_->allocate(op_, req("vm-after", {"big"})));
  EXPECT_GT(fresh.id, made.back().id);
  EXPECT_EQ(ledger_->getPool(admin_, "big")->counts.used,
            static_cast<std::uint64_t>(kBindings) + 1);
  EXPECT_FALSE(seen.contains(fresh.addresses[0].ip.toString()));
}

TEST_F(LedgerTest, FailedCommitFailsTheWriterAndRollsMemoryBack) {
  makePool("v4", "192.0.2.0/24");
  store_.failNextApplies(1);
  auto r = ledger_->allocate(op_, req("vm-1", {"v4"}));
  ASSERT_TRUE(r.isOk());  // applied in memory...
  Status s = ledger_->waitDurable(r->ticket);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);  // ...but never acknowledged
  // Memory was rebuilt from the store: the binding is gone and the address free again.
  EXPECT_EQ(ledger_->getBinding(viewer_, r->value.id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(ledger_->getPool(admin_, "v4")->counts.used == 0);
  auto retry = durable(ledger_->allocate(op_, req("vm-1", {"v4"})));
  EXPECT_EQ(retry.addresses.size(), 1u);
}

// A waiter that asks only after later commands committed still learns that its command
// failed (DHCP waits for an activation and then a renewal made after the rebuild).
TEST_F(LedgerTest, ALateWaiterOfAFailedCommandIsToldOfTheFailure) {
  makePool("v4", "192.0.2.0/24");
  store_.failNextApplies(1);
  auto failed = ledger_->allocate(op_, req("vm-1", {"v4"}));
  ASSERT_TRUE(failed.isOk());
  while (ledger_->stats().commit_failures == 0) std::this_thread::yield();
  auto later = durable(ledger_->allocate(op_, req("vm-2", {"v4"})));
  EXPECT_EQ(later.instance, "vm-2");
  EXPECT_EQ(ledger_->waitDurable(failed->ticket).code(), StatusCode::kUnavailable);
  std::promise<Status> told;
  ledger_->whenDurable(failed->ticket, [&](Status s) { told.set_value(s); });
  EXPECT_EQ(told.get_future().get().code(), StatusCode::kUnavailable);
  // A command that changes nothing is not handed the failed ticket.
  auto repeat = ledger_->allocate(op_, req("vm-2", {"v4"}));
  ASSERT_TRUE(repeat.isOk());
  EXPECT_FALSE(repeat->created);
  EXPECT_TRUE(ledger_->waitDurable(repeat->ticket).isOk());
}

TEST_F(LedgerTest, RolesAndTenantScopes) {
  makePool("red", "192.0.2.0/24", "red");
  makePool("blue", "198.51.100.0/24", "blue");
  EXPECT_EQ(ledger_->allocate(viewer_, req("x", {"red"})).status().code(), StatusCode::kForbidden);
  PoolCreate c;
  c.record.name = "p";
  c.record.cidrs = {cidr("203.0.113.0/24")};
  EXPECT_EQ(ledger_->createPool(op_, c).status().code(), StatusCode::kForbidden);
  Actor red_op{"red-op", Role::kOperator, {"red"}};
  EXPECT_TRUE(ledger_->allocate(red_op, req("r1", {"red"})).isOk());
  // Out-of-scope pools read as absent.
  EXPECT_EQ(ledger_->allocate(red_op, req("r2", {"blue"})).status().code(), StatusCode::kNotFound);
  auto blue_b = durable(ledger_->allocate(op_, req("b1", {"blue"})));
  EXPECT_EQ(ledger_->getBinding(red_op, blue_b.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ledger_->listPools(red_op).size(), 1u);
}

TEST_F(LedgerTest, MigrateAndMoveKeepHistory) {
  makePool("v4", "192.0.2.0/24");
  auto a = durable(ledger_->allocate(op_, req("vip-holder-a", {"v4"})));
  auto b = durable(ledger_->allocate(op_, req("vip-holder-b", {"v4"})));
  Millis t_alloc =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
          .count();
  clock_.advance(seconds(10));
  auto migrated = durable(ledger_->migrate(op_, a.id, "node-2", std::nullopt));
  EXPECT_EQ(migrated.host, "node-2");
  clock_.advance(seconds(10));
  IpAddress vip = a.addresses[0].ip;
  auto moved = durable(ledger_->moveAddress(op_, vip, b.id));
  EXPECT_EQ(moved.addresses.size(), 2u);
  EXPECT_EQ(ledger_->holderOfAddress(viewer_, vip)->id, b.id);
  // Who held the VIP just after allocation, and now?
  auto then = ledger_->holderAt("ip:" + vip.toString(), t_alloc + 1000);
  ASSERT_TRUE(then.isOk()) << then.status().toString();
  EXPECT_EQ(then->holder->instance, "vip-holder-a");
  Millis now =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
          .count();
  auto later = ledger_->holderAt("ip:" + vip.toString(), now);
  ASSERT_TRUE(later.isOk());
  EXPECT_EQ(later->holder->instance, "vip-holder-b");
  auto lineage = ledger_->lineage("ip:" + vip.toString(), 0, now, 100);
  ASSERT_TRUE(lineage.isOk());
  std::vector<std::string> ops;
  for (const auto& e : *lineage) ops.push_back(e.event.op);
  EXPECT_EQ(ops, (std::vector<std::string>{"binding.allocate", "binding.migrate", "address.move"}));
}

TEST_F(LedgerTest, SweeperExpiresLeasesButNotStaticBindings) {
  makePool("v4", "192.0.2.0/24");
  auto lease = req("leased", {"v4"});
  lease.ttl_s = 30;
  auto pinned = req("pinned", {"v4"});
  pinned.ttl_s = 30;
  pinned.is_static = true;
  auto l = durable(ledger_->allocate(op_, lease));
  auto p = durable(ledger_->allocate(op_, pinned));
  clock_.advance(seconds(20));
  durable(ledger_->renew(op_, l.id, std::nullopt));  // renewal keeps the 30 s lease
  clock_.advance(seconds(20));
  EXPECT_EQ(durable(ledger_->sweep()), 0u);
  clock_.advance(seconds(11));
  EXPECT_EQ(durable(ledger_->sweep()), 1u);
  EXPECT_FALSE(ledger_->getBinding(viewer_, l.id).isOk());
  EXPECT_TRUE(ledger_->getBinding(viewer_, p.id).isOk());
}

TEST_F(LedgerTest, ChildPoolsAreCarvedWithoutOverlapAndParentsHandOutNothing) {
  makePool("cluster", "10.0.0.0/16");
  std::set<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    PoolCreate c;
    c.record.name = "node-" + std::to_string(i);
    c.record.parent = "cluster";
    c.prefix_length = 24;
    auto v = durable(ledger_->createPool(admin_, c));
    ASSERT_EQ(v.record.cidrs.size(), 1u);
    EXPECT_TRUE(seen.insert(v.record.cidrs[0].toString()).second);
  }
  EXPECT_EQ(ledger_->allocate(op_, req("x", {"cluster"})).status().code(), StatusCode::kConflict);
  EXPECT_TRUE(ledger_->allocate(op_, req("x", {"node-0"})).isOk());
  reopen();  // the carving survives a restart: a fifth child gets a fresh /24
  PoolCreate c;
  c.record.name = "node-4";
  c.record.parent = "cluster";
  c.prefix_length = 24;
  auto v = durable(ledger_->createPool(admin_, c));
  EXPECT_TRUE(seen.insert(v.record.cidrs[0].toString()).second);
}

TEST_F(LedgerTest, AutoExpandAddsAPrefixFromTheParent) {
  makePool("cluster", "10.0.0.0/16");
  PoolCreate c;
  c.record.name = "node";
  c.record.parent = "cluster";
  c.record.auto_expand = true;
  c.record.threshold = 0.5;
  c.prefix_length = 29;  // 6 usable
  durable(ledger_->createPool(admin_, c));
  for (int i = 0; i < 3; ++i)
    durable(ledger_->allocate(op_, req("p" + std::to_string(i), {"node"})));
  auto v = ledger_->getPool(admin_, "node");
  EXPECT_EQ(v->record.cidrs.size(), 2u);
  // Allocation keeps going past the first /29's six addresses.
  for (int i = 3; i < 10; ++i)
    EXPECT_TRUE(ledger_->allocate(op_, req("p" + std::to_string(i), {"node"})).isOk());
}

TEST_F(LedgerTest, ProbedAllocationStaysReservedUntilActivated) {
  makePool("v4", "192.0.2.0/24");
  auto r = req("vm-1", {"v4"});
  r.probe = true;
  auto no_host = ledger_->allocate(op_, r);
  ASSERT_FALSE(no_host.isOk());
  EXPECT_EQ(no_host.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_host.status().message().find("host"), std::string::npos);
  EXPECT_EQ(ledger_->stats().bindings, 0u);

  r.host = "node-1";
  r.ttl_s = 60;
  auto b = durable(ledger_->allocate(op_, r));
  EXPECT_EQ(b.state, BindingState::kReserved);
  // Heartbeats (one and bulk) extend the lease of a binding still being probed, nothing more.
  clock_.advance(seconds(10));
  auto renewed = durable(ledger_->renew(op_, b.id, std::nullopt));
  EXPECT_EQ(renewed.state, BindingState::kReserved);
  EXPECT_GT(renewed.expires_at, b.expires_at);
  EXPECT_EQ(durable(ledger_->renewHost(op_, "node-1")), 1u);
  EXPECT_EQ(ledger_->getBinding(viewer_, b.id)->state, BindingState::kReserved);

  EXPECT_EQ(ledger_->activate(viewer_, b.id).status().code(), StatusCode::kForbidden);
  EXPECT_EQ(ledger_->activate(op_, 999).status().code(), StatusCode::kNotFound);
  auto active = durable(ledger_->activate(op_, b.id));
  EXPECT_EQ(active.state, BindingState::kActive);
  EXPECT_EQ(active.addresses, b.addresses);
  EventQuery q;
  q.op = "binding.activate";
  auto events = ledger_->audit(q);
  ASSERT_TRUE(events.isOk());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_NE(events->front().before.find("\"state\":\"reserved\""), std::string::npos);
  EXPECT_NE(events->front().after.find("\"state\":\"active\""), std::string::npos);
  // Activating again is a no-op, not a second event.
  auto again = ledger_->activate(op_, b.id);
  ASSERT_TRUE(again.isOk());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(ledger_->audit(q)->size(), 1u);
  // The state survives a restart.
  reopen();
  EXPECT_EQ(ledger_->getBinding(viewer_, b.id)->state, BindingState::kActive);
}

TEST_F(LedgerTest, ReassignKeepsAReservedBindingReservedAndQuarantinesTheAddress) {
  makePool("v4", "192.0.2.0/29");
  auto r = req("vm-1", {"v4"});
  r.probe = true;
  r.host = "node-1";
  auto b = durable(ledger_->allocate(op_, r));
  const IpAddress first = b.addresses.at(0).ip;
  auto moved = durable(ledger_->reassignAddress(op_, b.id, first));
  EXPECT_EQ(moved.state, BindingState::kReserved);
  ASSERT_EQ(moved.addresses.size(), 1u);
  EXPECT_NE(moved.addresses[0].ip, first);
  EXPECT_TRUE(ledger_->getPool(viewer_, "v4")->counts.quarantined == 1);
  auto specific = req("vm-2", {"v4"});
  specific.address = first;
  EXPECT_EQ(ledger_->allocate(op_, specific).status().code(), StatusCode::kConflict);
  // A later renewal still does not activate it.
  EXPECT_EQ(durable(ledger_->renew(op_, b.id, std::nullopt)).state, BindingState::kReserved);
}

// PATCH /v1/bindings/{id}: the chained CNI plugin records the pod interface's MAC and node.
class UpdateBindingTest : public LedgerTest {
 protected:
  void SetUp() override {
    LedgerTest::SetUp();
    makePool("v4", "192.0.2.0/24");
    MacPoolRecord mp;
    mp.name = "macs";
    mp.prefix = addr::MacPrefix::parse("02:00:00:00:00:00/44").value();
    mp.quarantine_s = 120;
    durable(ledger_->createMacPool(admin_, mp));
  }
  static Mac mac(const char* s) { return Mac::parse(s).value(); }
  BindingUpdate macUpdate(const char* m) {
    BindingUpdate u;
    u.mac = mac(m);
    return u;
  }
  std::vector<EventRecord> updates() {
    EventQuery q;
    q.op = "binding.update";
    return ledger_->audit(q).value();
  }
};

TEST_F(UpdateBindingTest, SetsMacHostAndHostMacWithOneAuditEvent) {
  auto b = durable(ledger_->allocate(op_, req("pod-1", {"v4"})));
  BindingUpdate u = macUpdate("0a:58:c0:00:02:05");
  u.host = "node-7";
  u.host_mac = mac("00:1a:2b:3c:4d:5e");
  auto updated = durable(ledger_->updateBinding(op_, b.id, u));
  EXPECT_EQ(updated.mac, mac("0a:58:c0:00:02:05"));
  EXPECT_EQ(updated.host, "node-7");
  EXPECT_EQ(updated.host_mac, mac("00:1a:2b:3c:4d:5e"));
  EXPECT_EQ(updated.version, b.version + 1);
  EXPECT_EQ(updated.addresses, b.addresses);
  EXPECT_EQ(ledger_->holderOfMac(viewer_, mac("0a:58:c0:00:02:05"))->id, b.id);
  auto events = updates();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].actor, "ops");
  EXPECT_EQ(events[0].subject, "binding:" + std::to_string(b.id));
  EXPECT_EQ(events[0].before.find("node-7"), std::string::npos);
  EXPECT_NE(events[0].after.find("\"host\":\"node-7\""), std::string::npos);
  EXPECT_NE(events[0].after.find("0a:58:c0:00:02:05"), std::string::npos);
  // Unset fields stay; the same facts again are no change and no event.
  BindingUpdate host_only;
  host_only.host = "node-7";
  auto again = ledger_->updateBinding(op_, b.id, host_only);
  ASSERT_TRUE(again.isOk());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->value.mac, mac("0a:58:c0:00:02:05"));
  EXPECT_EQ(again->value.version, updated.version);
  EXPECT_EQ(updates().size(), 1u);
  // The MAC's lineage starts with the update.
  auto lineage =
      ledger_->lineage("mac:0a:58:c0:00:02:05", 0, std::numeric_limits<Millis>::max(), 10);
  ASSERT_TRUE(lineage.isOk());
  ASSERT_EQ(lineage->size(), 1u);
  EXPECT_EQ(lineage->front().event.op, "binding.update");
  reopen();
  auto reloaded = ledger_->getBinding(viewer_, b.id);
  ASSERT_TRUE(reloaded.isOk());
  EXPECT_EQ(reloaded->mac, mac("0a:58:c0:00:02:05"));
  EXPECT_EQ(reloaded->host, "node-7");
  EXPECT_EQ(reloaded->host_mac, mac("00:1a:2b:3c:4d:5e"));
}

TEST_F(UpdateBindingTest, ReplacedMacIsQuarantinedInTheSameBatch) {
  auto r = req("pod-1", {"v4"});
  r.mac_pool = "macs";
  auto b = durable(ledger_->allocate(op_, r));
  ASSERT_TRUE(b.mac.has_value());
  const Mac old = *b.mac;
  auto updated = durable(ledger_->updateBinding(op_, b.id, macUpdate("0a:58:c0:00:02:05")));
  EXPECT_EQ(updated.mac, mac("0a:58:c0:00:02:05"));
  EXPECT_TRUE(updated.mac_pool.empty());
  // One batch: the quarantine record, the binding and its event.
  EXPECT_EQ(ledger_->stats().last_batch_size, 3u);
  auto stored = store_.load().value();
  ASSERT_EQ(stored.quarantine.size(), 1u);
  EXPECT_EQ(stored.quarantine[0].kind, "mac");
  EXPECT_EQ(stored.quarantine[0].pool, "macs");
  EXPECT_EQ(stored.quarantine[0].key, old.toString());
  ASSERT_EQ(stored.bindings.size(), 1u);
  EXPECT_EQ(stored.bindings[0].mac, mac("0a:58:c0:00:02:05"));
  // The old MAC's lineage shows where it went; it is refused until its hold ends, restarts
  // included.
  auto lineage =
      ledger_->lineage("mac:" + old.toString(), 0, std::numeric_limits<Millis>::max(), 10);
  ASSERT_TRUE(lineage.isOk());
  ASSERT_EQ(lineage->size(), 2u);
  EXPECT_EQ(lineage->back().event.op, "binding.update");
  auto reuse = req("pod-2", {"v4"});
  reuse.mac = old;
  EXPECT_EQ(ledger_->allocate(op_, reuse).status().code(), StatusCode::kConflict);
  reopen();
  EXPECT_EQ(ledger_->allocate(op_, reuse).status().code(), StatusCode::kConflict);
  clock_.advance(seconds(121));
  EXPECT_TRUE(ledger_->allocate(op_, reuse).isOk());
}

TEST_F(UpdateBindingTest, FailedCommitKeepsNeitherTheUpdateNorTheQuarantine) {
  auto r = req("pod-1", {"v4"});
  r.mac_pool = "macs";
  auto b = durable(ledger_->allocate(op_, r));
  const Mac old = *b.mac;
  store_.failNextApplies(1);
  auto u = ledger_->updateBinding(op_, b.id, macUpdate("0a:58:c0:00:02:05"));
  ASSERT_TRUE(u.isOk());
  EXPECT_EQ(ledger_->waitDurable(u->ticket).code(), StatusCode::kUnavailable);
  auto stored = store_.load().value();
  EXPECT_TRUE(stored.quarantine.empty());
  EXPECT_EQ(stored.bindings.at(0).mac, old);
  EXPECT_EQ(ledger_->getBinding(viewer_, b.id)->mac, old);
  EXPECT_EQ(ledger_->holderOfMac(viewer_, old)->id, b.id);
  EXPECT_EQ(ledger_->holderOfMac(viewer_, mac("0a:58:c0:00:02:05")).status().code(),
            StatusCode::kNotFound);
  // And the retry goes through.
  EXPECT_EQ(durable(ledger_->updateBinding(op_, b.id, macUpdate("0a:58:c0:00:02:05"))).mac,
            mac("0a:58:c0:00:02:05"));
}

TEST_F(UpdateBindingTest, MacHeldElsewhereIsAConflictNamingTheHolder) {
  auto holder = req("pod-holder", {"v4"});
  holder.mac = mac("0a:58:c0:00:02:05");
  auto h = durable(ledger_->allocate(op_, holder));
  auto b = durable(ledger_->allocate(op_, req("pod-1", {"v4"})));
  BindingUpdate u = macUpdate("0a:58:c0:00:02:05");
  u.host = "node-7";
  auto refused = ledger_->updateBinding(op_, b.id, u);
  ASSERT_FALSE(refused.isOk());
  EXPECT_EQ(refused.status().code(), StatusCode::kConflict);
  EXPECT_NE(refused.status().message().find("mac: 0a:58:c0:00:02:05"), std::string::npos);
  EXPECT_NE(refused.status().message().find("binding " + std::to_string(h.id)), std::string::npos);
  EXPECT_NE(refused.status().message().find("pod-holder"), std::string::npos);
  // Nothing changed, not even the host given alongside.
  auto now = ledger_->getBinding(viewer_, b.id).value();
  EXPECT_EQ(now.version, b.version);
  EXPECT_EQ(now.host, b.host);
  EXPECT_FALSE(now.mac.has_value());
  EXPECT_EQ(ledger_->holderOfMac(viewer_, mac("0a:58:c0:00:02:05"))->id, h.id);
  EXPECT_TRUE(updates().empty());
  // Its own MAC again is no conflict.
  auto same = ledger_->updateBinding(op_, h.id, macUpdate("0a:58:c0:00:02:05"));
  ASSERT_TRUE(same.isOk());
  EXPECT_FALSE(same->created);
}

TEST_F(UpdateBindingTest, RefusesBadMacsRolesTenantsAndUnknownIds) {
  auto b = durable(ledger_->allocate(op_, req("pod-1", {"v4"})));
  for (const char* bad : {"01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00"}) {
    auto r = ledger_->updateBinding(op_, b.id, macUpdate(bad));
    ASSERT_FALSE(r.isOk()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().message().rfind("mac:", 0), 0u) << r.status().message();
  }
  BindingUpdate bad_host;
  bad_host.host = std::string("node\n1");
  EXPECT_EQ(ledger_->updateBinding(op_, b.id, bad_host).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->updateBinding(viewer_, b.id, macUpdate("0a:58:c0:00:02:05")).status().code(),
            StatusCode::kForbidden);
  EXPECT_EQ(ledger_->updateBinding(op_, 999, macUpdate("0a:58:c0:00:02:05")).status().code(),
            StatusCode::kNotFound);
  makePool("red", "198.51.100.0/24", "red");
  auto red = durable(ledger_->allocate(op_, req("red-pod", {"red"})));
  Actor blue_op{"blue-op", Role::kOperator, {"blue"}};
  EXPECT_EQ(ledger_->updateBinding(blue_op, red.id, macUpdate("0a:58:c0:00:02:05")).status().code(),
            StatusCode::kNotFound);
  Actor red_op{"red-op", Role::kOperator, {"red"}};
  EXPECT_EQ(durable(ledger_->updateBinding(red_op, red.id, macUpdate("0a:58:c0:00:02:05"))).mac,
            mac("0a:58:c0:00:02:05"));
  EXPECT_EQ(ledger_->getBinding(viewer_, b.id)->version, b.version);
  EXPECT_EQ(updates().size(), 1u);
}

TEST_F(UpdateBindingTest, AReservedBindingStaysReservedAndKeepsItsLease) {
  auto r = req("pod-1", {"v4"});
  r.probe = true;
  r.host = "node-1";
  r.ttl_s = 60;
  auto b = durable(ledger_->allocate(op_, r));
  ASSERT_EQ(b.state, BindingState::kReserved);
  clock_.advance(seconds(10));
  BindingUpdate u = macUpdate("0a:58:c0:00:02:05");
  u.host = "node-2";
  auto updated = durable(ledger_->updateBinding(op_, b.id, u));
  EXPECT_EQ(updated.state, BindingState::kReserved);
  EXPECT_EQ(updated.expires_at, b.expires_at);
  EXPECT_GT(updated.updated_at, b.updated_at);
  reopen();
  EXPECT_EQ(ledger_->getBinding(viewer_, b.id)->state, BindingState::kReserved);
  EXPECT_EQ(durable(ledger_->activate(op_, b.id)).state, BindingState::kActive);
}

TEST_F(LedgerTest, ConcurrentAllocationsNeverDuplicate) {
  makePool("v4", "192.0.2.0/24");
  std::mutex mu;
  std::set<std::string> got;
  int exhausted = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        auto r =
            ledger_->allocate(op_, req("t" + std::to_string(t) + "-" + std::to_string(i), {"v4"}));
        std::lock_guard lock(mu);
        if (r.isOk()) {
          EXPECT_TRUE(ledger_->waitDurable(r->ticket).isOk());
          EXPECT_TRUE(got.insert(r->value.addresses[0].ip.toString()).second);
        } else {
          EXPECT_EQ(r.status().code(), StatusCode::kPoolExhausted);
          ++exhausted;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(got.size(), 254u);
  EXPECT_EQ(exhausted, 8 * 40 - 254);
}

TEST_F(LedgerTest, TokensAuthenticateByHashAndTheLastAdminStays) {
  auto boot = ledger_->bootstrapAdminToken(std::string("s3cret"));
  ASSERT_TRUE(boot.isOk());
  ASSERT_TRUE(boot->has_value());  // empty store: the first admin is created
  EXPECT_EQ(ledger_->authenticate("s3cret")->role, Role::kAdmin);
  EXPECT_FALSE(ledger_->bootstrapAdminToken(std::nullopt)->has_value());  // only once
  auto created = durable(ledger_->createToken(admin_, "ci", Role::kOperator, {"red"}));
  auto t = ledger_->authenticate(created.second);
  ASSERT_TRUE(t.isOk());
  EXPECT_EQ(t->role, Role::kOperator);
  EXPECT_NE(t->sha256_hex, created.second);
  EXPECT_EQ(ledger_->authenticate("nlt_wrong").status().code(), StatusCode::kUnauthorized);
  EXPECT_EQ(ledger_->deleteToken(admin_, "admin").status().code(), StatusCode::kConflict);
  durable(ledger_->deleteToken(admin_, "ci"));
  EXPECT_FALSE(ledger_->authenticate(created.second).isOk());
  reopen();  // hashes, not secrets, are stored; authentication still works after a restart
  EXPECT_EQ(ledger_->authenticate("s3cret")->name, "admin");
}

TEST(CodecTest, TimeRoundTrips) {
  EXPECT_EQ(formatTime(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(parseTime("2023-11-14T22:13:20.123Z").value(), 1'700'000'000'123);
  EXPECT_EQ(parseTime("2023-11-14T23:13:20+01:00").value(), 1'700'000'000'000);
  EXPECT_EQ(parseTime("1700000000").value(), 1'700'000'000'000);
  EXPECT_FALSE(parseTime("yesterday").isOk());
  EXPECT_FALSE(parseTime("2023-02-30T00:00:00Z").isOk());
}

}  // namespace
}  // namespace netledger::ledger
