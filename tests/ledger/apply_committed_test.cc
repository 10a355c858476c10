// Two Ledgers on one shared store, as two replicas on one etcd: A writes, B learns A's
// committed batches through applyCommitted (what the store's change feed will call) and must
// then never hand out what A holds, see what A released as quarantined, and commit its own
// writes on top of A's in the same store. Real memory: store, fake clock, no mocks.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>

#include "ledger/ledger.h"
#include "store/memory/memory_store.h"

namespace netledger::ledger {
namespace {

using addr::IpAddress;
using addr::Mac;

// Passes everything to the shared store and keeps each committed batch: the change feed.
class RecordingStore final : public Store {
 public:
  explicit RecordingStore(Store& inner) : inner_(inner) {}
  Result<StoreState> load() override { return inner_.load(); }
  Status apply(const std::vector<Write>& batch) override {
    Status s = inner_.apply(batch);
    if (s.isOk()) {
      std::lock_guard lock(mu_);
      batches_.push_back(batch);
    }
    return s;
  }
  Result<std::vector<EventRecord>> queryEvents(const EventQuery& q) override {
    return inner_.queryEvents(q);
  }
  Result<std::size_t> pruneEvents(Millis before) override { return inner_.pruneEvents(before); }
  Status snapshotTo(const std::string& path) override { return inner_.snapshotTo(path); }
  std::string url() const override { return inner_.url(); }
  // The batches committed since the last call.
  std::vector<std::vector<Write>> take() {
    std::lock_guard lock(mu_);
    return std::exchange(batches_, {});
  }

 private:
  Store& inner_;
  std::mutex mu_;
  std::vector<std::vector<Write>> batches_;
};

class ApplyCommittedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    b_.setEventListener([this](std::span<const EventRecord* const> events) {
      std::lock_guard lock(heard_mu_);
      for (const auto* e : events) heard_by_b_.push_back(e->seq);
    });
    b_.setDocumentListener({"conflict"}, [this](Ledger::DocumentChanges changes) {
      std::lock_guard lock(heard_mu_);
      docs_heard_by_b_.push_back(std::move(changes));
    });
    ASSERT_TRUE(a_.open().isOk());
    ASSERT_TRUE(b_.open().isOk());
  }
  void TearDown() override {
    a_.close();
    b_.close();
  }
  // A's committed batches reach B; B's reach A.
  void sync() {
    for (const auto& batch : a_store_.take()) ASSERT_TRUE(b_.applyCommitted(batch).isOk());
    for (const auto& batch : b_store_.take()) ASSERT_TRUE(a_.applyCommitted(batch).isOk());
  }
  template <typename T>
  T durable(Ledger& l, Result<Applied<T>> r) {
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    if (!r.isOk()) return T{};
    EXPECT_TRUE(l.waitDurable(r->ticket).isOk());
    return std::move(r->value);
  }
  void makePool(const char* name, const char* cidr, std::int64_t quarantine_s = 300) {
    PoolCreate c;
    c.record.name = name;
    c.record.cidrs = {addr::Prefix::parse(cidr).value()};
    c.record.quarantine_s = quarantine_s;
    durable(a_, a_.createPool(admin_, std::move(c)));
    sync();
  }
  AllocateRequest req(std::string instance, std::string pool) {
    AllocateRequest r;
    r.instance = std::move(instance);
    r.pools = {std::move(pool)};
    return r;
  }

  FakeClock clock_;
  store::MemoryStore shared_;
  RecordingStore a_store_{shared_}, b_store_{shared_};
  Ledger a_{a_store_, clock_}, b_{b_store_, clock_};
  Actor admin_{"root", Role::kAdmin, {}};
  std::mutex heard_mu_;
  std::vector<std::uint64_t> heard_by_b_;
  std::vector<Ledger::DocumentChanges> docs_heard_by_b_;
};

TEST_F(ApplyCommittedTest, AddressesHeldElsewhereAreNeverHandedOutAgain) {
  makePool("web", "192.0.2.0/24");
  std::set<IpAddress> held;
  for (int i = 0; i < 100; ++i) {
    auto b = durable(a_, a_.allocate(admin_, req("a-" + std::to_string(i), "web")));
    held.insert(b.addresses.at(0).ip);
  }
  sync();
  EXPECT_EQ(b_.getPool(admin_, "web")->counts.used, 100u);
  EXPECT_EQ(b_.holderOfAddress(admin_, *held.begin())->instance, "a-0");
  // B fills the rest of the pool: never one of A's addresses, and the shared store takes it.
  for (int i = 0; i < 154; ++i) {
    auto r = b_.allocate(admin_, req("b-" + std::to_string(i), "web"));
    ASSERT_TRUE(r.isOk()) << i << ": " << r.status().toString();
    EXPECT_FALSE(held.contains(r->value.addresses.at(0).ip))
        << r->value.addresses.at(0).ip.toString();
    EXPECT_TRUE(b_.waitDurable(r->ticket).isOk());
    held.insert(r->value.addresses.at(0).ip);
  }
  EXPECT_EQ(held.size(), 254u);
  EXPECT_EQ(b_.allocate(admin_, req("b-full", "web")).status().code(), StatusCode::kPoolExhausted);
  sync();
  EXPECT_EQ(a_.allocate(admin_, req("a-full", "web")).status().code(), StatusCode::kPoolExhausted);
}

TEST_F(ApplyCommittedTest, ReleasesElsewhereQuarantineHereAndEventsArrive) {
  makePool("web", "192.0.2.0/30");  // two usable addresses
  auto x = durable(a_, a_.allocate(admin_, req("x", "web")));
  auto y = durable(a_, a_.allocate(admin_, req("y", "web")));
  durable(a_, a_.release(admin_, x.id));
  sync();
  auto pool = b_.getPool(admin_, "web");
  EXPECT_EQ(pool->counts.used, 1u);
  EXPECT_EQ(pool->counts.quarantined, 1u);
  EXPECT_EQ(b_.getBinding(admin_, x.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(b_.getBinding(admin_, y.id)->addresses, y.addresses);
  // The released address is held back on B too: nothing is free until the quarantine ends.
  EXPECT_EQ(b_.allocate(admin_, req("z", "web")).status().code(), StatusCode::kPoolExhausted);
  clock_.advance(std::chrono::seconds(301));
  auto z = durable(b_, b_.allocate(admin_, req("z", "web")));
  EXPECT_EQ(z.addresses.at(0).ip, x.addresses.at(0).ip);
  EXPECT_GT(z.id, y.id) << "binding ids continue after the other writer's";
  // B heard every one of A's events, in order, and continued the sequence.
  EXPECT_EQ(heard_by_b_.size(), 5u);  // pool.create, 2 allocations, release, z's allocation
  for (std::size_t i = 1; i < heard_by_b_.size(); ++i)
    EXPECT_EQ(heard_by_b_[i], heard_by_b_[i - 1] + 1);
  sync();
  EXPECT_EQ(a_.lastEventSeq(), b_.lastEventSeq());
}

TEST_F(ApplyCommittedTest, MacsTokensDocumentsAndPoolChangesFollow) {
  makePool("web", "192.0.2.0/24");
  MacPoolRecord mp;
  mp.name = "vms";
  mp.prefix = addr::MacPrefix::parse("02:aa:00/24").value();
  durable(a_, a_.createMacPool(admin_, mp));
  auto r = req("vm-1", "web");
  r.mac = Mac::parse("02:00:00:00:00:01").value();
  auto vm = durable(a_, a_.allocate(admin_, r));
  auto token = durable(a_, a_.createToken(admin_, "ci", Role::kOperator, {}));
  DocumentRecord doc{"policy", "duplicate_ip", R"({"action":"alert"})", 0, 0};
  durable(a_, a_.putDocument(admin_, doc, "policy.set", "policy:duplicate_ip"));
  PoolPatch patch;
  patch.threshold = 0.5;
  durable(a_, a_.updatePool(admin_, "web", patch));
  sync();

  auto again = req("vm-2", "web");
  again.mac = vm.mac;
  auto refused = b_.allocate(admin_, again);
  EXPECT_EQ(refused.status().code(), StatusCode::kConflict);
  EXPECT_NE(refused.status().message().find("vm-1"), std::string::npos);
  EXPECT_EQ(b_.authenticate(token.second)->name, "ci");
  EXPECT_EQ(b_.document("policy", "duplicate_ip")->body, doc.body);
  EXPECT_EQ(b_.getPool(admin_, "web")->record.threshold, 0.5);
  EXPECT_EQ(b_.getMacPool(admin_, "vms")->name, "vms");

  // A changes the binding's MAC: the old one is quarantined on B, the new one held.
  BindingUpdate u;
  u.mac = Mac::parse("02:00:00:00:00:02").value();
  durable(a_, a_.updateBinding(admin_, vm.id, u));
  durable(a_, a_.deleteToken(admin_, "ci"));
  durable(a_, a_.deleteDocument(admin_, "policy", "duplicate_ip", "", ""));
  sync();
  again.mac = Mac::parse("02:00:00:00:00:01").value();
  EXPECT_EQ(b_.allocate(admin_, again).status().code(), StatusCode::kConflict) << "quarantined";
  again.mac = Mac::parse("02:00:00:00:00:02").value();
  EXPECT_EQ(b_.allocate(admin_, again).status().code(), StatusCode::kConflict) << "held";
  EXPECT_EQ(b_.holderOfMac(admin_, *u.mac)->id, vm.id);
  EXPECT_EQ(b_.authenticate(token.second).status().code(), StatusCode::kUnauthorized);
  EXPECT_FALSE(b_.document("policy", "duplicate_ip").has_value());

  durable(a_, a_.release(admin_, vm.id));
  durable(a_, a_.deleteMacPool(admin_, "vms"));
  durable(a_, a_.deletePool(admin_, "web"));
  sync();
  EXPECT_EQ(b_.getPool(admin_, "web").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(b_.getMacPool(admin_, "vms").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(b_.stats().bindings, 0u);
  // The range is free again in B's overlap index: B can create a pool there itself.
  PoolCreate c;
  c.record.name = "web2";
  c.record.cidrs = {addr::Prefix::parse("192.0.2.0/24").value()};
  durable(b_, b_.createPool(admin_, std::move(c)));
}

TEST_F(ApplyCommittedTest, ReassignmentsAndExpansionsFollow) {
  PoolCreate parent;
  parent.record.name = "cluster";
  parent.record.cidrs = {addr::Prefix::parse("198.51.100.0/24").value()};
  durable(a_, a_.createPool(admin_, std::move(parent)));
  PoolCreate child;
  child.record.name = "node";
  child.record.parent = "cluster";
  child.record.auto_expand = true;
  child.record.threshold = 0.5;
  child.prefix_length = 29;
  durable(a_, a_.createPool(admin_, std::move(child)));
  std::vector<BindingRecord> held;
  for (int i = 0; i < 4; ++i)
    held.push_back(durable(a_, a_.allocate(admin_, req("p" + std::to_string(i), "node"))));
  ASSERT_EQ(a_.getPool(admin_, "node")->record.cidrs.size(), 2u) << "expanded at 50 %";
  auto moved = durable(a_, a_.reassignAddress(admin_, held[0].id, held[0].addresses[0].ip));
  sync();
  auto node = b_.getPool(admin_, "node");
  EXPECT_EQ(node->record.cidrs, a_.getPool(admin_, "node")->record.cidrs);
  EXPECT_EQ(node->counts.used, 4u);
  EXPECT_EQ(node->counts.quarantined, 1u);
  EXPECT_EQ(b_.holderOfAddress(admin_, moved.addresses[0].ip)->id, held[0].id);
  EXPECT_EQ(b_.holderOfAddress(admin_, held[0].addresses[0].ip).status().code(),
            StatusCode::kNotFound);
  // B carves the next child: not a prefix A's pool already took.
  PoolCreate other;
  other.record.name = "node-b";
  other.record.parent = "cluster";
  other.prefix_length = 29;
  auto b_child = durable(b_, b_.createPool(admin_, std::move(other)));
  for (const auto& c : node->record.cidrs) EXPECT_FALSE(c.overlaps(b_child.record.cidrs.at(0)));
}

TEST_F(ApplyCommittedTest, ABatchBuiltOnStaleMemoryIsRefusedAndMemoryRebuilt) {
  makePool("web", "192.0.2.0/29");
  auto a = durable(a_, a_.allocate(admin_, req("a", "web")));
  // B has not heard of A's allocation: it picks the same address and binding id, and the shared
  // store refuses the batch. B's writer is told, and B's memory is rebuilt from the store.
  auto stale = b_.allocate(admin_, req("b", "web"));
  ASSERT_TRUE(stale.isOk());
  EXPECT_EQ(stale->value.addresses.at(0).ip, a.addresses.at(0).ip);
  Status s = b_.waitDurable(stale->ticket);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.toString();
  a_store_.take();  // B now has A's allocation from the store itself
  EXPECT_EQ(b_.holderOfAddress(admin_, a.addresses.at(0).ip)->instance, "a");
  auto fresh = durable(b_, b_.allocate(admin_, req("b", "web")));
  EXPECT_NE(fresh.addresses.at(0).ip, a.addresses.at(0).ip);
}

TEST_F(ApplyCommittedTest, DocumentsOfTheListenedKindsChangedElsewhereAreHandedOn) {
  DocumentRecord conflict{"conflict", "7", R"({"id":7})", 0, 0};
  DocumentRecord webhook{"webhook", "w", R"({"url":"http://x"})", 0, 0};
  durable(a_, a_.putDocument(admin_, conflict, "conflict.opened", "conflict:7"));
  durable(a_, a_.putDocument(admin_, webhook, "", ""));
  // B's own writes are not news to B.
  durable(b_, b_.putDocument(admin_, {"conflict", "8", "{}", 0, 0}, "", ""));
  sync();
  durable(a_, a_.deleteDocument(admin_, "conflict", "7", "", ""));
  sync();
  std::lock_guard lock(heard_mu_);
  ASSERT_EQ(docs_heard_by_b_.size(), 2u);
  EXPECT_FALSE(docs_heard_by_b_[0].full);
  ASSERT_EQ(docs_heard_by_b_[0].put.size(), 1u);
  EXPECT_EQ(docs_heard_by_b_[0].put[0].key, "7");
  EXPECT_EQ(docs_heard_by_b_[0].put[0].version, 1u);
  EXPECT_TRUE(docs_heard_by_b_[0].deleted.empty());
  ASSERT_EQ(docs_heard_by_b_[1].deleted.size(), 1u);
  EXPECT_EQ(docs_heard_by_b_[1].deleted[0],
            std::make_pair(std::string("conflict"), std::string("7")));
}

TEST_F(ApplyCommittedTest, AReloadHandsOnEveryDocumentOfTheListenedKinds) {
  makePool("web", "192.0.2.0/29");
  durable(a_, a_.putDocument(admin_, {"conflict", "1", "{}", 0, 0}, "", ""));
  durable(a_, a_.putDocument(admin_, {"conflict", "2", "{}", 0, 0}, "", ""));
  durable(a_, a_.allocate(admin_, req("a", "web")));
  a_store_.take();  // B hears of none of it: its next batch is stale and memory is reloaded
  auto stale = b_.allocate(admin_, req("b", "web"));
  ASSERT_TRUE(stale.isOk());
  EXPECT_FALSE(b_.waitDurable(stale->ticket).isOk());
  std::lock_guard lock(heard_mu_);
  ASSERT_FALSE(docs_heard_by_b_.empty());
  const auto& last = docs_heard_by_b_.back();
  EXPECT_TRUE(last.full);
  ASSERT_EQ(last.put.size(), 2u);
  EXPECT_EQ(last.put[0].key, "1");
  EXPECT_EQ(last.put[1].key, "2");
}

TEST_F(ApplyCommittedTest, ARecordOfAnUnknownParentAsksForAReload) {
  PoolRecord orphan;
  orphan.name = "orphan";
  orphan.parent = "nowhere";
  orphan.cidrs = {addr::Prefix::parse("203.0.113.0/28").value()};
  orphan.version = 1;
  std::vector<Write> batch = {PutPool{orphan, 0}};
  EXPECT_FALSE(b_.applyCommitted(batch).isOk());
  EXPECT_EQ(b_.getPool(admin_, "orphan").status().code(), StatusCode::kNotFound);
}

// A shared store whose commits can be held at the gate, and whose change feed the test drives:
// what a replica sees when its feed loses track while one of its own batches is in flight.
class GatedSharedStore final : public Store {
 public:
  explicit GatedSharedStore(Store& inner) : inner_(inner) {}
  Result<StoreState> load() override { return inner_.load(); }
  Status apply(const std::vector<Write>& batch) override {
    {
      std::unique_lock lock(mu_);
      ++arrived_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return open_; });
    }
    return inner_.apply(batch);
  }
  Result<std::vector<EventRecord>> queryEvents(const EventQuery& q) override {
    return inner_.queryEvents(q);
  }
  Result<std::size_t> pruneEvents(Millis before) override { return inner_.pruneEvents(before); }
  Status snapshotTo(const std::string& path) override { return inner_.snapshotTo(path); }
  std::string url() const override { return inner_.url(); }
  bool shared() const override { return true; }
  Status follow(ChangeSink sink) override {
    sink_ = std::move(sink);
    return Status::ok();
  }

  void setOpen(bool open) {
    std::lock_guard lock(mu_);
    open_ = open;
    cv_.notify_all();
  }
  // Waits until `n` commits have reached the store (held there while the gate is shut).
  bool waitArrived(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return arrived_ >= n; });
  }
  ChangeSink& sink() { return sink_; }

 private:
  Store& inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  int arrived_ = 0;
  ChangeSink sink_;
};

TEST(ReloadGapTest, AnOwnBatchCommittedAfterAFeedForcedReloadReachesMemory) {
  FakeClock clock;
  store::MemoryStore shared;
  GatedSharedStore gated(shared);
  Ledger ledger(gated, clock);
  ASSERT_TRUE(ledger.open().isOk());
  Actor admin{"root", Role::kAdmin, {}};
  PoolCreate c;
  c.record.name = "web";
  c.record.cidrs = {addr::Prefix::parse("192.0.2.0/24").value()};
  auto pool = ledger.createPool(admin, c);
  ASSERT_TRUE(pool.isOk());
  ASSERT_TRUE(ledger.waitDurable(pool->ticket).isOk());

  gated.setOpen(false);
  AllocateRequest r;
  r.instance = "in-flight";
  r.pools = {"web"};
  auto made = ledger.allocate(admin, r);
  ASSERT_TRUE(made.isOk());
  ASSERT_TRUE(gated.waitArrived(2));  // the allocation's batch is at the store, held
  // The feed loses track: memory is reloaded from the store, which does not have it yet.
  EXPECT_FALSE(gated.sink()({}).isOk());
  EXPECT_EQ(ledger.getBinding(admin, made->value.id).status().code(), StatusCode::kNotFound);
  // Queued behind it, on the reloaded memory that the rebuild to come replaces: run again.
  r.instance = "queued";
  auto queued = ledger.allocate(admin, r);
  ASSERT_TRUE(queued.isOk());
  gated.setOpen(true);
  ASSERT_TRUE(ledger.waitDurable(made->ticket).isOk());
  EXPECT_EQ(ledger.waitDurable(queued->ticket).code(), StatusCode::kAborted);
  // Built on memory without the in-flight binding, it had even taken its id and address.
  EXPECT_EQ(queued->value.id, made->value.id);
  EXPECT_EQ(ledger.getBinding(admin, made->value.id)->instance, "in-flight");
  auto again = ledger.allocate(admin, r);
  ASSERT_TRUE(again.isOk());
  ASSERT_TRUE(ledger.waitDurable(again->ticket).isOk());
  // Committed after the reload: memory holds it again, as the store does.
  auto there = ledger.getBinding(admin, made->value.id);
  ASSERT_TRUE(there.isOk()) << there.status().toString();
  EXPECT_EQ(ledger.holderOfAddress(admin, made->value.addresses.at(0).ip)->instance, "in-flight");
  EXPECT_EQ(ledger.getPool(admin, "web")->counts.used, 2u);
  ledger.close();
}

}  // namespace
}  // namespace netledger::ledger
