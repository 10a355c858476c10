// Two and three Ledgers on one real etcd, each through its own EtcdStore, as replicas: every one
// writes, each learns the others' batches from the store's watch feed, and no address or MAC is
// ever held twice however they race. A batch another replica overtook is kAborted and run again
// by the caller, as the API does.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "ledger/ledger.h"
#include "store/register.h"
#include "testing/etcd_cluster.h"
#include "testing/eventually.h"

namespace netledger::ledger {
namespace {

using namespace std::chrono_literals;

#define NL_ASSERT_OK_STATUS(expr)                  \
  do {                                             \
    const Status nl_s_ = (expr);                   \
    ASSERT_TRUE(nl_s_.isOk()) << nl_s_.toString(); \
  } while (0)

struct Replica {
  std::unique_ptr<Store> store;
  std::unique_ptr<Ledger> ledger;
};

class ReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::registerBuiltinStores();
    ASSERT_TRUE(cluster_.start()) << cluster_.error();
  }
  void TearDown() override {
    for (auto& r : replicas_) r.ledger->close();
  }

  Ledger& add() {
    auto s = openStore(cluster_.url("replicas"));
    EXPECT_TRUE(s.isOk()) << s.status().toString();
    Replica r{std::move(*s), nullptr};
    r.ledger = std::make_unique<Ledger>(*r.store, SystemClock::instance());
    EXPECT_TRUE(r.ledger->open().isOk());
    replicas_.push_back(std::move(r));
    return *replicas_.back().ledger;
  }

  // Runs `command` until it is not overtaken by another replica, as the API does.
  template <typename Command>
  Status untilNotAborted(Ledger& l, Command command) {
    for (int attempt = 0; attempt < 50; ++attempt) {
      auto r = command();
      if (!r.isOk()) {
        if (r.status().code() != StatusCode::kAborted) return r.status();
      } else {
        Status s = l.waitDurable(r->ticket);
        if (s.code() != StatusCode::kAborted) return s;
      }
      ++aborts_;
      std::this_thread::sleep_for(std::chrono::microseconds(200 * (attempt + 1)));
    }
    return Status::unavailable("still overtaken after 50 runs");
  }

  Status makePool(Ledger& l, const char* name, const char* cidr) {
    PoolCreate c;
    c.record.name = name;
    c.record.cidrs = {addr::Prefix::parse(cidr).value()};
    return untilNotAborted(l, [&] { return l.createPool(admin_, c); });
  }
  static AllocateRequest req(std::string instance, std::string pool) {
    AllocateRequest r;
    r.instance = std::move(instance);
    r.pools = {std::move(pool)};
    return r;
  }

  testing_etcd::EtcdTestCluster cluster_{1};
  std::vector<Replica> replicas_;
  Actor admin_{"root", Role::kAdmin, {}};
  std::atomic<int> aborts_{0};
};

TEST_F(ReplicasTest, WritesOfOneReplicaReachTheOtherThroughTheFeed) {
  Ledger& a = add();
  Ledger& b = add();
  NL_ASSERT_OK_STATUS(makePool(a, "web", "192.0.2.0/24"));
  ASSERT_TRUE(testing_util::eventually([&] { return b.getPool(admin_, "web").isOk(); }));
  BindingRecord held;
  NL_ASSERT_OK_STATUS(untilNotAborted(a, [&] {
    auto r = a.allocate(admin_, req("vm-1", "web"));
    if (r.isOk()) held = r->value;
    return r;
  }));
  ASSERT_TRUE(testing_util::eventually([&] { return b.getBinding(admin_, held.id).isOk(); }));
  EXPECT_EQ(b.getBinding(admin_, held.id)->addresses, held.addresses);
  EXPECT_EQ(b.holderOfAddress(admin_, held.addresses.at(0).ip)->instance, "vm-1");
  // B releases what A allocated; A sees it gone.
  NL_ASSERT_OK_STATUS(untilNotAborted(b, [&] { return b.release(admin_, held.id); }));
  EXPECT_TRUE(testing_util::eventually([&] { return !a.getBinding(admin_, held.id).isOk(); }));
}

TEST_F(ReplicasTest, ThreeReplicasRacingForOnePoolNeverHandOutAnAddressTwice) {
  Ledger* ledgers[] = {&add(), &add(), &add()};
  NL_ASSERT_OK_STATUS(makePool(*ledgers[0], "small", "198.51.100.0/26"));  // 62 usable
  for (Ledger* l : ledgers)
    ASSERT_TRUE(testing_util::eventually([&] { return l->getPool(admin_, "small").isOk(); }));
  std::mutex mu;
  std::map<std::string, std::uint64_t> holder;  // address -> binding id
  std::atomic<int> duplicates{0}, exhausted{0};
  auto worker = [&](int n) {
    Ledger& l = *ledgers[n];
    for (int i = 0; i < 40; ++i) {
      BindingRecord got;
      Status s = untilNotAborted(l, [&] {
        auto r =
            l.allocate(admin_, req("r" + std::to_string(n) + "-" + std::to_string(i), "small"));
        if (r.isOk()) got = r->value;
        return r;
      });
      if (s.code() == StatusCode::kPoolExhausted) {
        ++exhausted;
        continue;
      }
      ASSERT_TRUE(s.isOk()) << s.toString();
      std::lock_guard lock(mu);
      if (!holder.emplace(got.addresses.at(0).ip.toString(), got.id).second) ++duplicates;
    }
  };
  std::thread t0(worker, 0), t1(worker, 1), t2(worker, 2);
  t0.join();
  t1.join();
  t2.join();
  EXPECT_EQ(duplicates.load(), 0);
  EXPECT_EQ(holder.size(), 62u);  // the whole pool, each address once
  EXPECT_EQ(exhausted.load(), 120 - 62);
  // Every replica's memory agrees with the store: the pool is full everywhere.
  for (Ledger* l : ledgers) {
    EXPECT_TRUE(
        testing_util::eventually([&] { return l->getPool(admin_, "small")->counts.used == 62u; }));
  }
  RecordProperty("aborts", aborts_.load());
}

// Two replicas creating overlapping pools in one network at the same moment: each checks overlap
// against its own memory, so without a guard both would pass. Every pool put compares on the
// network's pool guard, so one of the two is overtaken, runs again with the other's pool in
// memory and is refused as an overlap.
TEST_F(ReplicasTest, OverlappingPoolsCreatedAtOnceOnTwoReplicasAreNeverBothAccepted) {
  Ledger& a = add();
  Ledger& b = add();
  int both = 0, neither = 0;
  for (int round = 0; round < 20; ++round) {
    const std::string n = std::to_string(round);
    const std::string wide = "2001:db8:" + n + "::/48", narrow = "2001:db8:" + n + ":1::/64";
    std::atomic<int> ready{0};
    Status sa, sb;
    auto create = [&](Ledger& l, const std::string& name, const std::string& cidr, Status& out) {
      ++ready;
      while (ready.load() < 2) std::this_thread::yield();
      out = makePool(l, name.c_str(), cidr.c_str());
    };
    std::thread ta(create, std::ref(a), "a" + n, wide, std::ref(sa));
    std::thread tb(create, std::ref(b), "b" + n, narrow, std::ref(sb));
    ta.join();
    tb.join();
    if (sa.isOk() && sb.isOk()) ++both;
    if (!sa.isOk() && !sb.isOk()) ++neither;
    for (const Status* s : {&sa, &sb}) {
      if (!s->isOk()) {
        EXPECT_EQ(s->code(), StatusCode::kConflict) << s->toString();
      }
    }
  }
  EXPECT_EQ(both, 0) << "overlapping pools accepted on both replicas";
  EXPECT_EQ(neither, 0);
  // Both replicas end with the same 20 pools.
  for (Ledger* l : {&a, &b}) {
    EXPECT_TRUE(testing_util::eventually([&] { return l->listPools(admin_).size() == 20u; }));
  }
  RecordProperty("aborts", aborts_.load());
}

// Replicas take distinct slots from the store, so racing for new ids and addresses in one pool is
// the exception: each takes ids of its own residue and starts its next-fit cursor far from the
// others'. (Without the spread every batch of one raced the others' for the same id and address.)
TEST_F(ReplicasTest, ReplicasAllocatingInOnePoolDrawApartInsteadOfRacing) {
  Ledger* ledgers[] = {&add(), &add(), &add()};
  std::set<std::uint32_t> slots;
  for (const auto& r : replicas_) slots.insert(r.store->writerSlot() % 16);
  EXPECT_EQ(slots.size(), 3u);
  EXPECT_EQ(slots.count(0), 0u);
  NL_ASSERT_OK_STATUS(makePool(*ledgers[0], "wide", "10.20.0.0/22"));
  for (Ledger* l : ledgers)
    ASSERT_TRUE(testing_util::eventually([&] { return l->getPool(admin_, "wide").isOk(); }));
  std::mutex mu;
  std::map<int, std::set<std::uint64_t>> residues;  // replica -> id % 16 of what it allocated
  std::set<std::string> addresses;
  auto worker = [&](int n) {
    for (int i = 0; i < 60; ++i) {
      BindingRecord got;
      Status s = untilNotAborted(*ledgers[n], [&] {
        auto r = ledgers[n]->allocate(admin_, req("w" + std::to_string(n * 100 + i), "wide"));
        if (r.isOk()) got = r->value;
        return r;
      });
      ASSERT_TRUE(s.isOk()) << s.toString();
      std::lock_guard lock(mu);
      residues[n].insert(got.id % 16);
      addresses.insert(got.addresses.at(0).ip.toString());
    }
  };
  std::thread t0(worker, 0), t1(worker, 1), t2(worker, 2);
  t0.join();
  t1.join();
  t2.join();
  EXPECT_EQ(addresses.size(), 180u);
  for (const auto& [n, r] : residues) EXPECT_EQ(r.size(), 1u) << "replica " << n;
  EXPECT_LT(aborts_.load(), 18) << "more than one run in ten was overtaken";
  RecordProperty("aborts", aborts_.load());
}

TEST_F(ReplicasTest, ReplicasDrawingFromOneSequentialMacPoolStartApart) {
  Ledger* ledgers[] = {&add(), &add(), &add()};
  NL_ASSERT_OK_STATUS(makePool(*ledgers[0], "wide", "10.20.0.0/22"));
  MacPoolRecord mp;
  mp.name = "seq";
  mp.prefix = addr::MacPrefix::parse("02:aa:00/24").value();
  mp.strategy = alloc::MacStrategy::kSequential;
  NL_ASSERT_OK_STATUS(
      untilNotAborted(*ledgers[0], [&] { return ledgers[0]->createMacPool(admin_, mp); }));
  for (Ledger* l : ledgers) {
    ASSERT_TRUE(testing_util::eventually(
        [&] { return l->getPool(admin_, "wide").isOk() && l->getMacPool(admin_, "seq").isOk(); }));
  }
  std::mutex mu;
  std::set<std::string> macs;
  auto worker = [&](int n) {
    for (int i = 0; i < 60; ++i) {
      BindingRecord got;
      Status s = untilNotAborted(*ledgers[n], [&] {
        auto r = req("m" + std::to_string(n * 100 + i), "wide");
        r.mac_pool = "seq";
        auto made = ledgers[n]->allocate(admin_, r);
        if (made.isOk()) got = made->value;
        return made;
      });
      ASSERT_TRUE(s.isOk()) << s.toString();
      std::lock_guard lock(mu);
      macs.insert(got.mac->toString());
    }
  };
  std::thread t0(worker, 0), t1(worker, 1), t2(worker, 2);
  t0.join();
  t1.join();
  t2.join();
  EXPECT_EQ(macs.size(), 180u);
  // Each replica's next MAC is far from the others': sharing cursors, nearly every concurrent
  // batch raced for the same one.
  EXPECT_LT(aborts_.load(), 18) << "more than one run in ten was overtaken";
  RecordProperty("aborts", aborts_.load());
}

TEST_F(ReplicasTest, AReplicaStartedLaterLoadsTheWholeLedger) {
  Ledger& a = add();
  NL_ASSERT_OK_STATUS(makePool(a, "web", "203.0.113.0/24"));
  for (int i = 0; i < 20; ++i) {
    NL_ASSERT_OK_STATUS(untilNotAborted(
        a, [&] { return a.allocate(admin_, req("vm-" + std::to_string(i), "web")); }));
  }
  Ledger& late = add();
  EXPECT_EQ(late.getPool(admin_, "web")->counts.used, 20u);
  auto history = late.audit({});
  ASSERT_TRUE(history.isOk()) << history.status().toString();
  EXPECT_EQ(history->size(), 21u);  // the pool and twenty allocations
  // The late replica's next event follows the last one: no seq is reused.
  BindingRecord next;
  NL_ASSERT_OK_STATUS(untilNotAborted(late, [&] {
    auto r = late.allocate(admin_, req("vm-late", "web"));
    if (r.isOk()) next = r->value;
    return r;
  }));
  EXPECT_EQ(late.getPool(admin_, "web")->counts.used, 21u);
}

}  // namespace
}  // namespace netledger::ledger
