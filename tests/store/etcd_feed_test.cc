// The etcd store's change feed against a real etcd member: another writer's transactions arrive
// as batches, the store's own do not, and a compaction that removed undelivered revisions makes
// the feed ask for a reload and then go on from what that load read.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "ledger/store.h"
#include "store/etcd/etcd_client.h"
#include "store/register.h"
#include "store/store_test_util.h"
#include "testing/etcd_cluster.h"

namespace netledger::store {
namespace {

using namespace std::chrono_literals;

class EtcdFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registerBuiltinStores();
    ASSERT_TRUE(cluster_.start()) << cluster_.error();
    a_ = open();
    b_ = open();
  }
  void TearDown() override {
    if (a_) a_->stopFollowing();  // before the sink's state goes away
  }
  std::unique_ptr<ledger::Store> open() {
    auto s = ledger::openStore(cluster_.url("feed"));
    EXPECT_TRUE(s.isOk()) << s.status().toString();
    return s.isOk() ? std::move(*s) : nullptr;
  }
  // Follows a_ recording every batch; an empty batch (reload request) reloads a_.
  void follow() {
    NL_ASSERT_OK(a_->follow([this](std::vector<ledger::Write>&& batch) {
      if (batch.empty()) (void)a_->load();
      std::lock_guard lock(mu_);
      batches_.push_back(std::move(batch));
      cv_.notify_all();
      return Status::ok();
    }));
  }
  bool waitForBatches(std::size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 5s, [&] { return batches_.size() >= n; });
  }
  std::int64_t currentRevision() {
    auto target = etcd::parseEtcdUrl("etcd", "//" + cluster_.endpoints());
    auto client = etcd::EtcdClient::connect(*target, {});
    auto r = (*client)->range("/", "", 1);
    return r.isOk() ? r->revision : 0;
  }

  testing_etcd::EtcdTestCluster cluster_{1};
  std::unique_ptr<ledger::Store> a_, b_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::vector<ledger::Write>> batches_;
};

TEST_F(EtcdFeedTest, OtherWritersBatchesArriveAndOwnOnesDoNot) {
  ASSERT_TRUE(a_->load().isOk());
  follow();
  NL_ASSERT_OK(a_->apply({ledger::PutPool{testing_util::minimalPool("mine"), 0}}));
  ASSERT_TRUE(b_->load().isOk());  // b_ writes a pool knowing the network's pools (the guard)
  NL_ASSERT_OK(b_->apply({ledger::PutPool{testing_util::minimalPool("theirs"), 0},
                          ledger::AppendEvent{testing_util::event(1, 5, "pool.create", "b", {})}}));
  ASSERT_TRUE(waitForBatches(1));
  std::this_thread::sleep_for(200ms);  // anything else would have arrived by now
  std::lock_guard lock(mu_);
  ASSERT_EQ(batches_.size(), 1u);
  ASSERT_EQ(batches_[0].size(), 2u);
  EXPECT_EQ(std::get<ledger::PutPool>(batches_[0][0]).pool.name, "theirs");
  EXPECT_EQ(std::get<ledger::AppendEvent>(batches_[0][1]).event.seq, 1u);
  a_->stopFollowing();
}

TEST_F(EtcdFeedTest, ACompactionGapAsksForAReloadThenGoesOn) {
  ASSERT_TRUE(a_->load().isOk());  // a_ read revision R; what b_ writes next is after R
  NL_ASSERT_OK(b_->apply({ledger::PutPool{testing_util::minimalPool("gap-1"), 0}}));
  NL_ASSERT_OK(b_->apply({ledger::PutPool{testing_util::minimalPool("gap-2"), 0}}));
  const std::string compact = "ETCDCTL_API=3 etcdctl --endpoints=" + cluster_.endpoints() +
                              " compact " + std::to_string(currentRevision()) + " >/dev/null";
  ASSERT_EQ(std::system(compact.c_str()), 0);
  follow();  // from R + 1: compacted away
  ASSERT_TRUE(waitForBatches(1));
  {
    std::lock_guard lock(mu_);
    EXPECT_TRUE(batches_[0].empty()) << "the first delivery must be the reload request";
  }
  // After the reload the feed goes on: b_'s next write arrives, the gap's writes do not.
  NL_ASSERT_OK(b_->apply({ledger::PutPool{testing_util::minimalPool("after"), 0}}));
  ASSERT_TRUE(waitForBatches(2));
  std::lock_guard lock(mu_);
  ASSERT_EQ(batches_.size(), 2u);
  ASSERT_EQ(batches_[1].size(), 1u);
  EXPECT_EQ(std::get<ledger::PutPool>(batches_[1][0]).pool.name, "after");
  a_->stopFollowing();
}

TEST_F(EtcdFeedTest, CatchUpReturnsOnlyOnceAnotherWritersBatchIsDelivered) {
  ASSERT_TRUE(a_->load().isOk());
  follow();
  for (int i = 0; i < 20; ++i) {
    NL_ASSERT_OK(
        b_->apply({ledger::PutPool{testing_util::minimalPool("p" + std::to_string(i)), 0}}));
    NL_ASSERT_OK(a_->catchUp(2s));
    std::lock_guard lock(mu_);  // no waiting: catchUp promised it is here
    ASSERT_EQ(batches_.size(), static_cast<std::size_t>(i + 1));
  }
  a_->stopFollowing();
}

// A member that stops answering without closing the connection (SIGSTOP) holds the watch on
// it; catchUp notices, says so, and moves the watch, so the next catchUp succeeds.
TEST(EtcdFeedFaultTest, AWatchOnAPausedMemberIsMovedByCatchUp) {
  registerBuiltinStores();
  testing_etcd::EtcdTestCluster cluster{3};
  ASSERT_TRUE(cluster.start()) << cluster.error();
  auto a = ledger::openStore(cluster.url("hang"));
  auto b = ledger::openStore(cluster.url("hang"));
  ASSERT_TRUE(a.isOk() && b.isOk());
  ASSERT_TRUE((*a)->load().isOk());
  std::mutex mu;
  std::size_t delivered = 0;
  NL_ASSERT_OK((*a)->follow([&](std::vector<ledger::Write>&& batch) {
    std::lock_guard lock(mu);
    delivered += batch.empty() ? 0 : 1;
    return Status::ok();
  }));
  NL_ASSERT_OK((*b)->apply({ledger::PutPool{testing_util::minimalPool("before"), 0}}));
  NL_ASSERT_OK((*a)->catchUp(2s));
  // a's watch is on the member of its slot (EtcdClient::preferEndpoint).
  const std::size_t watched = (*a)->writerSlot() % 3;
  cluster.pause(watched);
  std::this_thread::sleep_for(2s);  // the others elect a leader if it was the one
  Status written;
  for (int i = 0; i < 50 && !(written = (*b)->apply({ledger::PutPool{
                                  testing_util::minimalPool("during" + std::to_string(i)), 0}}))
                                 .isOk();
       ++i) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(written.isOk()) << written.toString();
  Status first = (*a)->catchUp(1s);
  EXPECT_EQ(first.code(), StatusCode::kUnavailable) << first.toString();
  Status second = (*a)->catchUp(5s);
  NL_EXPECT_OK(second);
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(delivered, 2u);
  }
  cluster.resume(watched);
  (*a)->stopFollowing();
}

}  // namespace
}  // namespace netledger::store
